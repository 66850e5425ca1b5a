//! A minimal, valid FLV file of a chosen size and duration, as the recorder leaves on
//! disk: the FLV header, an `onMetaData` script tag, AAC and AVC sequence headers, then
//! a few media tags whose timestamps run up to the duration.
//!
//! Media payloads are never written: the file is sized first and only each tag's header
//! and codec prefix is written, so payloads are holes of a sparse file. A 5 GiB file uses
//! a few hundred kilobytes of disk. (FLV's `DataSize` is 24 bits, so a large file is many
//! tags of up to 16 MiB each.)

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// FLV header (9 bytes) and `PreviousTagSize0` (4 bytes).
const HEADER: u64 = 13;
/// Tag header (11 bytes) and the `PreviousTagSize` after the tag (4 bytes).
const TAG_OVERHEAD: u64 = 15;
/// Largest `DataSize` (24 bits).
const MAX_DATA: u64 = 0xFF_FFFF;
/// A video tag's prefix: frame type and codec, AVC packet type, composition time.
const VIDEO_PREFIX: u64 = 5;
/// Media tags a file has unless its size needs more (or allows fewer).
const FEW_TAGS: u64 = 4;

const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const SCRIPT: u8 = 18;

/// AAC, 44.1 kHz, 16-bit, stereo; packet type 0 (sequence header); AudioSpecificConfig
/// for AAC LC, 44.1 kHz, 2 channels.
const AAC_SEQUENCE_HEADER: [u8; 4] = [0xAF, 0x00, 0x12, 0x10];
/// Keyframe, AVC; packet type 0 (sequence header); composition time 0; an
/// AVCDecoderConfigurationRecord (version 1, Baseline 3.0, 4-byte NAL lengths) with no
/// parameter sets.
const AVC_SEQUENCE_HEADER: [u8; 12] = [0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0x00, 0x1E, 0xFF, 0xE0, 0x00];

/// The file one FileClosed describes: its exact size and duration, and how its media tags
/// are laid out to reach them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Total bytes on disk, as FileClosed's `FileSize` reports it.
    pub size: u64,
    /// The last tag's timestamp, in milliseconds (FileClosed's `Duration` × 1000).
    pub duration_ms: u32,
    /// Media tags after the sequence headers.
    tags: u64,
}

/// The `onMetaData` keys, each written as an AMF0 number.
const META_KEYS: [&str; 4] = ["duration", "filesize", "videocodecid", "audiocodecid"];

/// Bytes of the `onMetaData` script tag's data.
fn meta_data_size() -> u64 {
    // String "onMetaData", ECMA array marker and count, per key (u16 length, the key,
    // number marker, f64), the object end marker.
    let keys: u64 = META_KEYS.iter().map(|k| 2 + k.len() as u64 + 9).sum();
    (3 + 10) + 5 + keys + 3
}

/// Header, script tag and the two sequence headers: what precedes the media tags.
fn fixed_size() -> u64 {
    HEADER
        + TAG_OVERHEAD
        + meta_data_size()
        + TAG_OVERHEAD
        + AAC_SEQUENCE_HEADER.len() as u64
        + TAG_OVERHEAD
        + AVC_SEQUENCE_HEADER.len() as u64
}

/// The smallest file this writer makes (one media tag holding only its prefix).
pub fn min_size() -> u64 {
    fixed_size() + TAG_OVERHEAD + VIDEO_PREFIX
}

impl Plan {
    /// A file of `size` bytes (at least [`min_size`]: a smaller size is raised to it) whose
    /// tags span `duration_secs` (clamped to what a 32-bit millisecond timestamp holds).
    pub fn new(size: u64, duration_secs: f64) -> Plan {
        let size = size.max(min_size());
        let ms = (duration_secs.max(0.0) * 1000.0).round();
        let duration_ms = if ms.is_finite() {
            ms.min(u32::MAX as f64) as u32
        } else {
            0
        };
        let media = size - fixed_size();
        let needed = media.div_ceil(TAG_OVERHEAD + MAX_DATA);
        let fit = media / (TAG_OVERHEAD + VIDEO_PREFIX);
        Plan {
            size,
            duration_ms,
            tags: FEW_TAGS.min(fit).max(needed).max(1),
        }
    }

    /// The `DataSize` of media tag `i`: the media bytes shared out evenly, the remainder
    /// on the first tags.
    fn data_size(&self, i: u64) -> u64 {
        let data = self.size - fixed_size() - self.tags * TAG_OVERHEAD;
        data / self.tags + u64::from(i < data % self.tags)
    }

    /// The timestamp of media tag `i`: evenly spaced, the last at the duration.
    fn timestamp(&self, i: u64) -> u32 {
        (u64::from(self.duration_ms) * (i + 1) / self.tags) as u32
    }

    /// Writes the file at `path` (created or truncated): exactly `size` bytes, payloads
    /// left as holes.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = File::create(path)?;
        // Sizing first leaves every byte not written below as a hole.
        f.set_len(self.size)?;
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"FLV\x01\x05\x00\x00\x00\x09");
        head.extend_from_slice(&0u32.to_be_bytes());
        tag(&mut head, SCRIPT, 0, &self.meta());
        tag(&mut head, AUDIO, 0, &AAC_SEQUENCE_HEADER);
        tag(&mut head, VIDEO, 0, &AVC_SEQUENCE_HEADER);
        f.write_all(&head)?;
        let mut at = head.len() as u64;
        for i in 0..self.tags {
            let data = self.data_size(i);
            let ts = self.timestamp(i);
            // Alternating video and audio; a video tag opens each file's media.
            let (kind, prefix): (u8, &[u8]) = if i % 2 == 0 {
                (VIDEO, &[0x17, 0x01, 0, 0, 0])
            } else {
                (AUDIO, &[0xAF, 0x01])
            };
            f.seek(SeekFrom::Start(at))?;
            let mut h = tag_header(kind, data, ts).to_vec();
            h.extend_from_slice(prefix);
            f.write_all(&h)?;
            f.seek(SeekFrom::Start(at + 11 + data))?;
            f.write_all(&((11 + data) as u32).to_be_bytes())?;
            at += TAG_OVERHEAD + data;
        }
        debug_assert_eq!(at, self.size);
        // No fsync: the receiver reads it through the page cache, and a probe writes
        // many files.
        Ok(())
    }

    /// The `onMetaData` script data (AMF0).
    fn meta(&self) -> Vec<u8> {
        let mut d = vec![0x02];
        amf_key(&mut d, "onMetaData");
        d.push(0x08);
        d.extend_from_slice(&(META_KEYS.len() as u32).to_be_bytes());
        let values = [
            f64::from(self.duration_ms) / 1000.0,
            self.size as f64,
            7.0,  // AVC
            10.0, // AAC
        ];
        for (k, v) in META_KEYS.iter().zip(values) {
            amf_key(&mut d, k);
            d.push(0x00);
            d.extend_from_slice(&v.to_be_bytes());
        }
        d.extend_from_slice(&[0, 0, 0x09]);
        debug_assert_eq!(d.len() as u64, meta_data_size());
        d
    }
}

fn amf_key(d: &mut Vec<u8>, k: &str) {
    d.extend_from_slice(&(k.len() as u16).to_be_bytes());
    d.extend_from_slice(k.as_bytes());
}

/// The 11-byte tag header: type, 24-bit size, 24-bit timestamp and its extension byte,
/// stream id 0.
fn tag_header(kind: u8, data: u64, ts: u32) -> [u8; 11] {
    let d = (data as u32).to_be_bytes();
    let t = ts.to_be_bytes();
    [kind, d[1], d[2], d[3], t[1], t[2], t[3], t[0], 0, 0, 0]
}

/// A whole tag with its data and the `PreviousTagSize` after it.
fn tag(out: &mut Vec<u8>, kind: u8, ts: u32, data: &[u8]) {
    out.extend_from_slice(&tag_header(kind, data.len() as u64, ts));
    out.extend_from_slice(data);
    out.extend_from_slice(&((11 + data.len()) as u32).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// What a reader of the file sees: its tags (type, data size, timestamp).
    struct Parsed {
        tags: Vec<(u8, u64, u32)>,
        len: u64,
        meta_duration: f64,
        meta_filesize: f64,
    }

    /// Walks the tag chain by seeking (a sparse file is not read whole), checking every
    /// `PreviousTagSize` against the tag before it.
    fn parse(path: &Path) -> Parsed {
        let mut f = File::open(path).unwrap();
        let len = f.metadata().unwrap().len();
        let mut head = [0u8; 13];
        f.read_exact(&mut head).unwrap();
        assert_eq!(&head[..3], b"FLV", "signature");
        assert_eq!(head[3], 1, "version");
        assert_eq!(
            u32::from_be_bytes(head[5..9].try_into().unwrap()),
            9,
            "data offset"
        );
        assert_eq!(&head[9..13], &[0, 0, 0, 0], "PreviousTagSize0");
        let (mut at, mut prev, mut tags) = (13u64, 0u64, Vec::new());
        let (mut meta_duration, mut meta_filesize) = (f64::NAN, f64::NAN);
        while at < len {
            let mut h = [0u8; 11];
            f.seek(SeekFrom::Start(at)).unwrap();
            f.read_exact(&mut h).unwrap();
            let data = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
            let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
            assert!([AUDIO, VIDEO, SCRIPT].contains(&h[0]), "tag type {}", h[0]);
            if h[0] == SCRIPT {
                let mut d = vec![0u8; data as usize];
                f.read_exact(&mut d).unwrap();
                let text = d.windows(8).position(|w| w == b"duration").unwrap();
                meta_duration = f64::from_be_bytes(d[text + 9..text + 17].try_into().unwrap());
                let fs = d.windows(8).position(|w| w == b"filesize").unwrap();
                meta_filesize = f64::from_be_bytes(d[fs + 9..fs + 17].try_into().unwrap());
            }
            f.seek(SeekFrom::Start(at + 11 + data)).unwrap();
            let mut p = [0u8; 4];
            f.read_exact(&mut p).unwrap();
            assert_eq!(
                u64::from(u32::from_be_bytes(p)),
                11 + data,
                "PreviousTagSize of the tag at {at}"
            );
            assert!(prev == 0 || at > prev);
            prev = at;
            tags.push((h[0], data, ts));
            at += 15 + data;
        }
        assert_eq!(at, len, "the tag chain ends exactly at the end of the file");
        Parsed {
            tags,
            len,
            meta_duration,
            meta_filesize,
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("brhook-flv-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn written_file_parses_back_with_its_size_and_duration() {
        for (size, secs) in [
            (816_412, 10.4),
            (min_size(), 0.0),
            (300, 1.5),
            (20_000_000, 3600.0),
        ] {
            let path = temp(&format!("{size}.flv"));
            let plan = Plan::new(size, secs);
            plan.write(&path).unwrap();
            let p = parse(&path);
            assert_eq!(p.len, plan.size, "{size}: the file is the planned size");
            assert_eq!(
                plan.size,
                size.max(min_size()),
                "{size}: raised only up to the minimum"
            );
            assert_eq!((p.tags[0].0, p.tags[0].2), (SCRIPT, 0), "onMetaData first");
            let last = p.tags.last().unwrap().2;
            assert_eq!(
                f64::from(last),
                (secs * 1000.0).round(),
                "{size}: last timestamp is the duration"
            );
            assert!(
                (p.meta_duration - secs).abs() < 0.001,
                "{size}: {}",
                p.meta_duration
            );
            assert_eq!(p.meta_filesize, plan.size as f64);
            let ts: Vec<u32> = p.tags.iter().map(|t| t.2).collect();
            assert!(
                ts.windows(2).all(|w| w[0] <= w[1]),
                "timestamps never go back: {ts:?}"
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn over_4_gib_is_sparse_with_24_bit_tags() {
        use std::os::unix::fs::MetadataExt;
        let size = 5 * (1u64 << 30) + 12_345;
        let path = temp("big.flv");
        let plan = Plan::new(size, 7200.25);
        plan.write(&path).unwrap();
        let m = std::fs::metadata(&path).unwrap();
        assert_eq!(m.len(), size, "reported size is the requested one");
        let allocated = m.blocks() * 512;
        assert!(
            allocated < 64 << 20,
            "payloads are holes: {allocated} bytes allocated for a {size}-byte file"
        );
        let p = parse(&path);
        assert!(
            p.tags.iter().all(|t| t.1 <= MAX_DATA),
            "every DataSize fits 24 bits"
        );
        assert_eq!(p.tags.last().unwrap().2, 7_200_250);
        std::fs::remove_file(&path).unwrap();
    }
}
