//! Small helpers the whole crate shares, each defined once: counts with their nouns,
//! durations for people, `curl` commands, stable hashes and a bounded memory of recent
//! keys. All `pub(crate)`: none of it is the protocol or brhook's API.

mod recent;

pub(crate) use recent::Recent;

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Duration;

/// `1 finding`, `3 findings`: a count and its noun.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The plural ending of a count: `""` for one, `"s"` otherwise.
pub(crate) fn plural_s(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1.23 s`, `12.3 ms`, `0.42 ms`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// [`fmt_duration`] of milliseconds (as the journal and the judges keep times).
pub(crate) fn fmt_ms(ms: f64) -> String {
    fmt_duration(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

/// Seconds with one decimal, for people: `1.5 s`.
pub(crate) fn secs(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// A process-local hash of anything hashable (not stable across runs: for in-memory
/// identity only).
pub(crate) fn hash64(x: impl Hash) -> u64 {
    let mut h = Fast::default();
    x.hash(&mut h);
    h.finish()
}

/// A fast 64-bit hasher for in-memory identity (bodies, classes, files): eight bytes
/// at a time, a multiply-fold per word and a final avalanche. Not keyed: nothing here
/// faces an adversary choosing inputs to collide in a table (the judge's maps key by
/// these values, but a capture is the user's own). std's SipHash was a tenth of
/// `brhook check`'s time: every body was hashed whole, then walked and hashed again.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fast(u64);

impl Fast {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    #[inline]
    fn mix(&mut self, w: u64) {
        let m = u128::from(self.0 ^ w) * u128::from(Self::K);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl std::hash::Hasher for Fast {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        // The length goes in too: "a" then "" differs from "" then "a".
        self.mix(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i) | 0x100);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i) | 0x1_0000_0000);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
        self.mix(0x55);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        // murmur3's fmix64: every input bit reaches every output bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// FNV-1a: a stable, dependency-free hash, the same in every run and on every machine.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Single-quoted for a POSIX shell.
pub(crate) fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What `curl` posts: the bytes inline, or a saved body by its file.
pub(crate) enum CurlBody<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// `curl` posting a body as the real sender does. `show`: print the answer (`-i`);
/// otherwise only the status code (an earlier body of a chain).
pub(crate) fn curl(url: &str, user_agent: &str, body: CurlBody<'_>, show: bool) -> String {
    let data = match body {
        CurlBody::File(f) => format!("@{}", sh(&f.display().to_string())),
        CurlBody::Bytes(b) => sh(&String::from_utf8_lossy(b)),
    };
    let out = if show {
        "-i".to_string()
    } else {
        format!("-o /dev/null -w {}", sh("%{http_code}\\n"))
    };
    format!(
        "curl -sS {out} -X POST -H 'Content-Type: application/json' -H {} --data-binary {data} {}",
        sh(&format!("User-Agent: {user_agent}")),
        sh(url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(fmt_duration(Duration::from_micros(420)), "0.42 ms");
    }

    #[test]
    fn curl_shows_the_answer_or_only_the_status() {
        let c = curl("http://rx/h", "UA", CurlBody::Bytes(b"{}"), true);
        assert_eq!(c, "curl -sS -i -X POST -H 'Content-Type: application/json' -H 'User-Agent: UA' --data-binary '{}' 'http://rx/h'");
        let c = curl("http://rx/h", "UA", CurlBody::File(Path::new("b.json")), false);
        assert!(
            c.starts_with("curl -sS -o /dev/null -w '%{http_code}\\n' -X POST"),
            "{c}"
        );
        assert!(c.contains("--data-binary @'b.json' "), "{c}");
    }
}
