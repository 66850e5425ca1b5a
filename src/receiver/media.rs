//! The media inside `--workdir` FLVs, encoded here without an encoder: an H.264 stream
//! any decoder plays (Constrained Baseline, CAVLC) and silent AAC-LC.
//!
//! - Video: [`WIDTH`]×[`HEIGHT`] of one solid colour. An IDR picture is all `I_PCM`
//!   macroblocks (raw samples: nothing to predict or transform), a P picture is one
//!   `mb_skip_run` over every macroblock (a copy of the last picture). `pic_order_cnt_type`
//!   2: output order is decoding order, no B pictures.
//! - Audio: AAC-LC, 44.1 kHz mono; every frame is one silent single channel element
//!   (`max_sfb` 0: no spectral data) and `END`.
//!
//! NAL units are in AVCC form (4-byte lengths), as FLV and MP4 carry them; their payloads
//! get emulation-prevention bytes like any encoder's.

/// Picture size in pixels (whole macroblocks).
pub const WIDTH: u32 = 32;
/// See [`WIDTH`].
pub const HEIGHT: u32 = 32;
/// `profile_idc`: Baseline (with constraint_set0/1: Constrained Baseline).
const PROFILE: u8 = 66;
const CONSTRAINTS: u8 = 0xC0;
/// `level_idc` 1.0: far more than a 32×32 picture needs.
const LEVEL: u8 = 10;
/// The solid colour, as Y, Cb, Cr (a blue): no sample is 0, which old decoders refuse in
/// `I_PCM`.
const COLOUR: [u8; 3] = [41, 240, 110];
/// `log2_max_frame_num_minus4` 0: `frame_num` is 4 bits and wraps at 16.
const FRAME_NUM_BITS: u32 = 4;

/// AAC sample rate; each frame is 1024 samples.
pub const SAMPLE_RATE: u32 = 44_100;
/// Samples per AAC frame.
pub const FRAME_SAMPLES: u32 = 1024;

/// An MSB-first bit writer with the H.264 exp-Golomb codes.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn u(&mut self, bits: u32, v: u64) {
        for i in (0..bits).rev() {
            self.acc = (self.acc << 1) | ((v >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                self.acc = 0;
                self.n = 0;
            }
        }
    }

    fn flag(&mut self, b: bool) {
        self.u(1, u64::from(b));
    }

    /// `ue(v)`: `n` zeros, then `v + 1` in `n + 1` bits.
    fn ue(&mut self, v: u32) {
        let x = u64::from(v) + 1;
        let len = 64 - x.leading_zeros();
        self.u(len - 1, 0);
        self.u(len, x);
    }

    /// `se(v)`: 0, 1, -1, 2, -2, ... as ue 0, 1, 2, 3, 4, ...
    fn se(&mut self, v: i32) {
        let k = if v > 0 { 2 * v - 1 } else { -2 * v };
        self.ue(k as u32);
    }

    fn aligned(&self) -> bool {
        self.n == 0
    }

    /// `rbsp_trailing_bits`: a one, then zeros to the byte.
    fn trailing(mut self) -> Vec<u8> {
        self.u(1, 1);
        while !self.aligned() {
            self.u(1, 0);
        }
        self.out
    }

    /// Zeros to the byte (AAC's byte alignment at the end of a frame).
    fn pad(mut self) -> Vec<u8> {
        while !self.aligned() {
            self.u(1, 0);
        }
        self.out
    }
}

/// A NAL unit: its header byte, then the RBSP with an emulation-prevention `03` after
/// every two zero bytes that a byte of 0–3 follows.
fn nal(header: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + 8);
    out.push(header);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

fn mbs() -> u32 {
    (WIDTH / 16) * (HEIGHT / 16)
}

/// The sequence parameter set NAL unit.
pub fn sps() -> Vec<u8> {
    let mut b = Bits::default();
    b.u(8, PROFILE.into());
    b.u(8, CONSTRAINTS.into());
    b.u(8, LEVEL.into());
    b.ue(0); // seq_parameter_set_id
    b.ue(FRAME_NUM_BITS - 4); // log2_max_frame_num_minus4
    b.ue(2); // pic_order_cnt_type
    b.ue(1); // max_num_ref_frames
    b.flag(false); // gaps_in_frame_num_value_allowed_flag
    b.ue(WIDTH / 16 - 1);
    b.ue(HEIGHT / 16 - 1);
    b.flag(true); // frame_mbs_only_flag
    b.flag(true); // direct_8x8_inference_flag
    b.flag(false); // frame_cropping_flag
    b.flag(false); // vui_parameters_present_flag
    nal(0x67, &b.trailing())
}

/// The picture parameter set NAL unit.
pub fn pps() -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // pic_parameter_set_id
    b.ue(0); // seq_parameter_set_id
    b.flag(false); // entropy_coding_mode_flag: CAVLC
    b.flag(false); // bottom_field_pic_order_in_frame_present_flag
    b.ue(0); // num_slice_groups_minus1
    b.ue(0); // num_ref_idx_l0_default_active_minus1
    b.ue(0); // num_ref_idx_l1_default_active_minus1
    b.flag(false); // weighted_pred_flag
    b.u(2, 0); // weighted_bipred_idc
    b.se(0); // pic_init_qp_minus26
    b.se(0); // pic_init_qs_minus26
    b.se(0); // chroma_qp_index_offset
    b.flag(false); // deblocking_filter_control_present_flag
    b.flag(false); // constrained_intra_pred_flag
    b.flag(false); // redundant_pic_cnt_present_flag
    nal(0x68, &b.trailing())
}

/// The AVCDecoderConfigurationRecord (FLV's AVC sequence header, MP4's `avcC`): one SPS,
/// one PPS, 4-byte NAL lengths.
pub fn avc_config() -> Vec<u8> {
    let (sps, pps) = (sps(), pps());
    let mut out = vec![1, PROFILE, CONSTRAINTS, LEVEL, 0xFF, 0xE1];
    out.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    out.extend_from_slice(&sps);
    out.push(1);
    out.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    out.extend_from_slice(&pps);
    out
}

/// An IDR picture (one slice of `I_PCM` macroblocks). Consecutive IDR pictures must
/// differ in `idr_pic_id`: pass the IDR's count.
pub fn idr(idr_pic_id: u32) -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // first_mb_in_slice
    b.ue(7); // slice_type: I, all slices
    b.ue(0); // pic_parameter_set_id
    b.u(FRAME_NUM_BITS, 0); // frame_num
    b.ue(idr_pic_id % 2);
    b.flag(false); // no_output_of_prior_pics_flag
    b.flag(false); // long_term_reference_flag
    b.se(0); // slice_qp_delta
    for _ in 0..mbs() {
        b.ue(25); // mb_type: I_PCM
        while !b.aligned() {
            b.u(1, 0); // pcm_alignment_zero_bit
        }
        for (plane, n) in [(0, 256), (1, 64), (2, 64)] {
            for _ in 0..n {
                b.u(8, COLOUR[plane].into());
            }
        }
    }
    nal(0x65, &b.trailing())
}

/// A P picture that skips every macroblock: the last picture again. `frame_num` counts
/// reference pictures since the IDR.
pub fn skip(frame_num: u32) -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // first_mb_in_slice
    b.ue(5); // slice_type: P, all slices
    b.ue(0); // pic_parameter_set_id
    b.u(FRAME_NUM_BITS, u64::from(frame_num % (1 << FRAME_NUM_BITS)));
    b.flag(false); // num_ref_idx_active_override_flag
    b.flag(false); // ref_pic_list_modification_flag_l0
    b.flag(false); // adaptive_ref_pic_marking_mode_flag
    b.se(0); // slice_qp_delta
    b.ue(mbs()); // mb_skip_run: all of them
    nal(0x41, &b.trailing())
}

/// AudioSpecificConfig: AAC-LC (2), 44.1 kHz (index 4), one channel; 1024-sample frames,
/// no core coder, no extension.
pub fn audio_config() -> [u8; 2] {
    let mut b = Bits::default();
    b.u(5, 2);
    b.u(4, 4);
    b.u(4, 1);
    b.u(3, 0);
    let v = b.pad();
    [v[0], v[1]]
}

/// One silent raw AAC frame: a single channel element with no scale factor bands, then
/// `END`.
pub fn silent_frame() -> Vec<u8> {
    let mut b = Bits::default();
    b.u(3, 0); // id_syn_ele: SCE
    b.u(4, 0); // element_instance_tag
    b.u(8, 100); // global_gain (no band uses it)
    b.u(1, 0); // ics_reserved_bit
    b.u(2, 0); // window_sequence: ONLY_LONG_SEQUENCE
    b.u(1, 0); // window_shape
    b.u(6, 0); // max_sfb
    b.u(1, 0); // predictor_data_present
    b.u(1, 0); // pulse_data_present
    b.u(1, 0); // tns_data_present
    b.u(1, 0); // gain_control_data_present
    b.u(3, 7); // id_syn_ele: END
    b.pad()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_codes() {
        let mut b = Bits::default();
        for v in [0, 1, 2, 3, 7] {
            b.ue(v);
        }
        // 1 010 011 00100 0001000, then the trailing one.
        assert_eq!(b.trailing(), vec![0b1010_0110, 0b0100_0001, 0b0001_0000]);
        let mut b = Bits::default();
        for v in [0, 1, -1, 2] {
            b.se(v);
        }
        // 1 010 011 00100
        assert_eq!(b.pad(), vec![0b1010_0110, 0b0100_0000]);
    }

    #[test]
    fn emulation_prevention() {
        assert_eq!(
            nal(0x65, &[0, 0, 1, 0, 0, 0, 0, 0, 4]),
            [0x65, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 0, 4]
        );
        for n in [sps(), pps(), idr(0), idr(1), skip(3)] {
            assert!(
                !n[1..].windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 2),
                "{n:02x?}"
            );
        }
    }

    #[test]
    fn headers_are_the_known_bytes() {
        assert_eq!(audio_config(), [0x12, 0x08]);
        // SCE, tag 0, gain 100, then zeros and END.
        assert_eq!(silent_frame(), [0x00, 0xC8, 0x00, 0x07]);
        let c = avc_config();
        assert_eq!(&c[..6], &[1, 66, 0xC0, 10, 0xFF, 0xE1]);
        assert!(
            idr(0).len() > mbs() as usize * 384,
            "I_PCM is 384 bytes a macroblock"
        );
    }
}
