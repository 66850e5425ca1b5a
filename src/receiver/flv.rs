//! A valid FLV file of a chosen size and duration, as the recorder leaves on disk and as
//! ffmpeg reads it: the FLV header, an `onMetaData` script tag, the AAC and AVC sequence
//! headers (a real AudioSpecificConfig; a real SPS and PPS with the picture's size),
//! then decodable media (the `media` module): H.264 pictures of one colour (an IDR every
//! [`GOP`] pictures, skipped P pictures between) and silent AAC frames, their timestamps
//! running from 0 to the duration.
//!
//! Writing stays cheap however long the file: at most [`MAX_VIDEO`] pictures and
//! [`MAX_AUDIO`] audio frames, spread over the duration (25 fps and every AAC frame for
//! the first seconds of a short file, farther apart for a long one: timestamps carry the
//! duration, not the frame count). The media is a few kilobytes; the rest of the size is
//! padding after it, in FLV "video info" tags (frame type 5) that demuxers skip, whose
//! payloads are never written: holes of a sparse file. A 6 GiB file uses a few hundred
//! kilobytes of disk and its first seconds play. (FLV's `DataSize` is 24 bits, so large
//! padding is many tags of up to 16 MiB each.)

use super::media;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::OnceLock;

/// FLV header (9 bytes) and `PreviousTagSize0` (4 bytes).
const HEADER: u64 = 13;
/// Tag header (11 bytes) and the `PreviousTagSize` after the tag (4 bytes).
const TAG_OVERHEAD: u64 = 15;
/// Largest `DataSize` (24 bits).
const MAX_DATA: u64 = 0xFF_FFFF;
/// A padding tag: its header, the video flags byte (frame type 5, AVC) and the command
/// byte (0, a hole).
const MIN_PAD_TAG: u64 = TAG_OVERHEAD + 2;
/// Video pictures a file has at most.
pub const MAX_VIDEO: u64 = 250;
/// AAC frames a file has at most.
pub const MAX_AUDIO: u64 = 500;
/// Pictures from one IDR to the next.
pub const GOP: u64 = 50;
/// Milliseconds between pictures at most 25 fps.
const FRAME_MS: u64 = 40;

const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const SCRIPT: u8 = 18;

/// The first byte of every AAC audio tag: AAC, "44 kHz", 16-bit, "stereo" (FLV's fixed
/// values for AAC: the AudioSpecificConfig says what it is).
const AAC_FLAGS: u8 = 0xAF;
/// Keyframe + AVC, inter frame + AVC, video info/command frame + AVC.
const AVC_KEY: u8 = 0x17;
const AVC_INTER: u8 = 0x27;
const AVC_INFO: u8 = 0x57;

/// The encoded pictures and frames, built once: both IDR forms, the 16 `frame_num`s of
/// a skipped picture, the silent AAC frame, the sequence headers' payloads.
struct Encoded {
    idr: [Vec<u8>; 2],
    skip: Vec<Vec<u8>>,
    aac: Vec<u8>,
    aac_config: [u8; 2],
    avc_config: Vec<u8>,
}

fn encoded() -> &'static Encoded {
    static E: OnceLock<Encoded> = OnceLock::new();
    E.get_or_init(|| Encoded {
        idr: [media::idr(0), media::idr(1)],
        skip: (0..16).map(media::skip).collect(),
        aac: media::silent_frame(),
        aac_config: media::audio_config(),
        avc_config: media::avc_config(),
    })
}

/// One media tag: its timestamp and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Media {
    /// Picture `n` (an IDR when `n % GOP == 0`).
    Video(u64),
    Audio,
}

impl Media {
    /// The tag's data: flags, packet type (1: a frame), composition time, one NAL unit
    /// with its 4-byte length; or flags, packet type 1 and the raw AAC frame.
    fn data(self) -> Vec<u8> {
        let e = encoded();
        match self {
            Media::Video(n) => {
                let k = n % GOP;
                let (flags, nal) = if k == 0 {
                    (AVC_KEY, &e.idr[(n / GOP % 2) as usize])
                } else {
                    (AVC_INTER, &e.skip[(k % 16) as usize])
                };
                let mut d = vec![flags, 1, 0, 0, 0];
                d.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                d.extend_from_slice(nal);
                d
            }
            Media::Audio => {
                let mut d = vec![AAC_FLAGS, 1];
                d.extend_from_slice(&e.aac);
                d
            }
        }
    }

    /// Bytes of its data, without building it.
    fn len(self) -> u64 {
        let e = encoded();
        match self {
            Media::Video(n) if n % GOP == 0 => 9 + e.idr[(n / GOP % 2) as usize].len() as u64,
            Media::Video(n) => 9 + e.skip[(n % GOP % 16) as usize].len() as u64,
            Media::Audio => 2 + e.aac.len() as u64,
        }
    }
}

/// Timestamps from 0 every `step` ms (a fraction of a ms for AAC: `num / den`), fewer
/// than `max`, then `duration` itself: the last tag ends the file.
fn times(duration: u64, num: u64, den: u64, max: u64) -> Vec<u64> {
    // Spread out when the natural rate would exceed `max`.
    let (num, den) = if duration * den > num * (max - 1) {
        (duration, max - 1)
    } else {
        (num, den)
    };
    let mut out: Vec<u64> = (0..)
        .map(|k| k * num / den)
        .take_while(|&t| t < duration)
        .collect();
    out.push(duration);
    out
}

/// The media tags of a file of `duration_ms`, in timestamp order (a picture before the
/// audio frame of the same time).
fn media_tags(duration_ms: u32) -> Vec<(u32, Media)> {
    let d = u64::from(duration_ms);
    let video = times(d, FRAME_MS, 1, MAX_VIDEO);
    let audio = times(
        d,
        1000 * u64::from(media::FRAME_SAMPLES),
        u64::from(media::SAMPLE_RATE),
        MAX_AUDIO,
    );
    let mut tags: Vec<(u32, Media)> = video
        .into_iter()
        .enumerate()
        .map(|(n, t)| (t as u32, Media::Video(n as u64)))
        .chain(audio.into_iter().map(|t| (t as u32, Media::Audio)))
        .collect();
    tags.sort_by_key(|&(t, m)| (t, matches!(m, Media::Audio)));
    tags
}

/// The file one FileClosed describes: its exact size and duration, and how the padding
/// after the media reaches that size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Total bytes on disk, as FileClosed's `FileSize` reports it.
    pub size: u64,
    /// The last tag's timestamp, in milliseconds (FileClosed's `Duration` × 1000), and
    /// `onMetaData`'s `duration`.
    pub duration_ms: u32,
    /// Bytes added to `onMetaData`'s `encoder` string: a remainder too small for a tag.
    meta_pad: u64,
    /// Padding tags after the media.
    pad_tags: u64,
}

/// `onMetaData`'s number keys.
const META_NUMBERS: [&str; 9] = [
    "duration",
    "width",
    "height",
    "framerate",
    "videocodecid",
    "audiosamplerate",
    "audiosamplesize",
    "audiocodecid",
    "filesize",
];
/// `onMetaData`'s boolean key, then its string key, which carries the small padding.
const META_STEREO: &str = "stereo";
const META_ENCODER: &str = "encoder";
const ENCODER: &str = "brhook";

/// Bytes of the `onMetaData` script tag's data with `pad` bytes of padding.
fn meta_data_size(pad: u64) -> u64 {
    // String "onMetaData", ECMA array marker and count, per key (u16 length, the key,
    // a marker and the value), the object end marker.
    let numbers: u64 = META_NUMBERS.iter().map(|k| 2 + k.len() as u64 + 9).sum();
    let stereo = 2 + META_STEREO.len() as u64 + 2;
    let encoder = 2 + META_ENCODER.len() as u64 + 3 + ENCODER.len() as u64 + pad;
    (3 + 10) + 5 + numbers + stereo + encoder + 3
}

/// Everything but the padding: header, script tag, sequence headers and media.
fn unpadded_size(duration_ms: u32) -> u64 {
    let e = encoded();
    let media: u64 = media_tags(duration_ms)
        .iter()
        .map(|(_, m)| TAG_OVERHEAD + m.len())
        .sum();
    HEADER
        + TAG_OVERHEAD
        + meta_data_size(0)
        + TAG_OVERHEAD
        + 2
        + e.aac_config.len() as u64
        + TAG_OVERHEAD
        + 5
        + e.avc_config.len() as u64
        + media
}

/// The smallest file this writer makes (a zero duration: one picture, one audio frame).
pub fn min_size() -> u64 {
    unpadded_size(0)
}

impl Plan {
    /// A file of `size` bytes (at least what its media needs, [`min_size`] for a zero
    /// duration and a few kilobytes more for longer ones: a smaller size is raised)
    /// whose tags span `duration_secs` (clamped to what a 32-bit millisecond timestamp
    /// holds).
    pub fn new(size: u64, duration_secs: f64) -> Plan {
        let ms = (duration_secs.max(0.0) * 1000.0).round();
        let duration_ms = if ms.is_finite() {
            ms.min(f64::from(u32::MAX)) as u32
        } else {
            0
        };
        let base = unpadded_size(duration_ms);
        let size = size.max(base);
        let rest = size - base;
        let (meta_pad, pad_tags) = if rest < MIN_PAD_TAG {
            (rest, 0)
        } else {
            (0, rest.div_ceil(TAG_OVERHEAD + MAX_DATA))
        };
        Plan {
            size,
            duration_ms,
            meta_pad,
            pad_tags,
        }
    }

    /// The `DataSize` of padding tag `i`: the padding shared out evenly, the remainder on
    /// the first tags (each at least [`MIN_PAD_TAG`] in all, at most [`MAX_DATA`]).
    fn pad_data_size(&self, i: u64, padding: u64) -> u64 {
        let data = padding - self.pad_tags * TAG_OVERHEAD;
        data / self.pad_tags + u64::from(i < data % self.pad_tags)
    }

    /// Writes the file at `path` (created or truncated): exactly `size` bytes, the media
    /// first, the padding's payloads left as holes.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let e = encoded();
        let mut f = File::create(path)?;
        // Sizing first leaves every byte not written below as a hole.
        f.set_len(self.size)?;
        let mut head = Vec::with_capacity(64 * 1024);
        head.extend_from_slice(b"FLV\x01\x05\x00\x00\x00\x09");
        head.extend_from_slice(&0u32.to_be_bytes());
        tag(&mut head, SCRIPT, 0, &self.meta());
        let mut aac = vec![AAC_FLAGS, 0];
        aac.extend_from_slice(&e.aac_config);
        tag(&mut head, AUDIO, 0, &aac);
        let mut avc = vec![AVC_KEY, 0, 0, 0, 0];
        avc.extend_from_slice(&e.avc_config);
        tag(&mut head, VIDEO, 0, &avc);
        for (ts, m) in media_tags(self.duration_ms) {
            let kind = if matches!(m, Media::Audio) { AUDIO } else { VIDEO };
            tag(&mut head, kind, ts, &m.data());
        }
        f.write_all(&head)?;
        let mut at = head.len() as u64;
        let padding = self.size - at;
        for i in 0..self.pad_tags {
            let data = self.pad_data_size(i, padding);
            f.seek(SeekFrom::Start(at))?;
            let mut h = tag_header(VIDEO, data, self.duration_ms).to_vec();
            h.push(AVC_INFO);
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
        let d_ms = u64::from(self.duration_ms);
        let pictures = times(d_ms, FRAME_MS, 1, MAX_VIDEO).len() as f64;
        let framerate = if d_ms == 0 {
            1000.0 / FRAME_MS as f64
        } else {
            ((pictures - 1.0) * 1000.0 / d_ms as f64).min(1000.0 / FRAME_MS as f64)
        };
        let mut d = vec![0x02];
        amf_key(&mut d, "onMetaData");
        d.push(0x08);
        d.extend_from_slice(&((META_NUMBERS.len() + 2) as u32).to_be_bytes());
        let values = [
            d_ms as f64 / 1000.0,
            f64::from(media::WIDTH),
            f64::from(media::HEIGHT),
            framerate,
            7.0, // AVC
            f64::from(media::SAMPLE_RATE),
            16.0,
            10.0, // AAC
            self.size as f64,
        ];
        for (k, v) in META_NUMBERS.iter().zip(values) {
            amf_key(&mut d, k);
            d.push(0x00);
            d.extend_from_slice(&v.to_be_bytes());
        }
        amf_key(&mut d, META_STEREO);
        d.extend_from_slice(&[0x01, 0]);
        amf_key(&mut d, META_ENCODER);
        d.push(0x02);
        let encoder = format!("{ENCODER}{}", " ".repeat(self.meta_pad as usize));
        amf_key(&mut d, &encoder);
        d.extend_from_slice(&[0, 0, 0x09]);
        debug_assert_eq!(d.len() as u64, meta_data_size(self.meta_pad));
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

    /// What a reader of the file sees: its tags (type, data size, timestamp, first data
    /// byte).
    struct Parsed {
        tags: Vec<(u8, u64, u32, u8)>,
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
            f.seek(SeekFrom::Start(at + 11)).unwrap();
            let mut first = [0u8; 1];
            f.read_exact(&mut first).unwrap();
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
            tags.push((h[0], data, ts, first[0]));
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
            (unpadded_size(2000) + 1, 2.0),
            (unpadded_size(2000) + MIN_PAD_TAG - 1, 2.0),
            (unpadded_size(2000) + MIN_PAD_TAG, 2.0),
            (40_000_000, 4e6),
        ] {
            let path = temp(&format!("{size}.flv"));
            let plan = Plan::new(size, secs);
            plan.write(&path).unwrap();
            let p = parse(&path);
            assert_eq!(p.len, plan.size, "{size}: the file is the planned size");
            assert_eq!(
                plan.size,
                size.max(unpadded_size(plan.duration_ms)),
                "{size}: raised only up to what the media needs"
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
            let pictures = p.tags.iter().filter(|t| t.0 == VIDEO).count() as u64;
            assert!(
                pictures <= MAX_VIDEO + 1 + plan.pad_tags,
                "{size}: {pictures} pictures"
            );
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
        // The media first (sequence headers, an IDR, audio), all within the first
        // kilobytes; then only padding, which demuxers skip (video info frames).
        let flags: Vec<u8> = p.tags.iter().map(|t| t.3).collect();
        assert_eq!(&flags[..4], &[0x02, AAC_FLAGS, AVC_KEY, AVC_KEY]);
        let media = p.tags.iter().take_while(|t| t.3 != AVC_INFO).count();
        assert_eq!(media as u64, 3 + media_tags(7_200_250).len() as u64);
        assert!(p.tags[media..].iter().all(|t| t.3 == AVC_INFO && t.0 == VIDEO));
        assert!(p.tags[..media].iter().map(|t| t.1 + 15).sum::<u64>() < 64 * 1024);
        std::fs::remove_file(&path).unwrap();
    }
}
