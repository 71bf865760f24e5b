//! How an upload will be decoded and how much memory that takes, from its header alone, before
//! anything is decoded. PNG is streamed and baseline JPEG decoded scaled, so their cost hardly
//! depends on the pixel count; what must be decoded whole is accepted only up to a size that fits.

use super::{Format, LogoError, MAX_HEIGHT, target_size};

/// Megabytes of decoding memory shared by all the logos being decoded at once.
pub const BUDGET_MIB: u32 = 128;
/// The most one decode may take.
pub const MAX_DECODE_MIB: u32 = 64;
/// Images decoded whole (GIF, WebP, interlaced PNG, unusual JPEG) are accepted up to this size,
/// and so are progressive JPEGs (they keep every DCT coefficient until the last scan).
pub const WHOLE_MAX_PIXELS: u64 = 6_000_000;
/// The intermediate that decoding reduces to is at most this many times the target on each side
/// (3 keeps the result within 45 dB PSNR of a Lanczos3 over the whole image; 2 gave 41.6 dB).
pub const INTERMEDIATE: u32 = 3;
/// A JPEG's DCT scale is a better filter than a box: twice the target is enough there.
pub const JPEG_INTERMEDIATE: u32 = 2;

const MIB: u64 = 1024 * 1024;
/// Decoder state, row buffers, the encoder: what every decode needs whatever the size.
const FIXED: u64 = 4 * MIB;
/// Per pixel of a whole decode: the decoded image (4) and the decoder's own planes (up to 4).
const WHOLE_PER_PIXEL: u64 = 8;
/// Per pixel of a whole image while it is reduced (the decoder is gone by then).
const DECODED_PER_PIXEL: u64 = 4;
/// Per pixel of the intermediate while it is made.
const REDUCED_PER_PIXEL: u64 = 4;
/// Per pixel of the intermediate while it is resized: itself (4), its premultiplied copy (4) and
/// the resizer's pass (under 2).
const INTERMEDIATE_PER_PIXEL: u64 = 10;
/// Per pixel of a scaled JPEG: its component planes (3) and the RGB image made of them (3).
const JPEG_SCALED_PER_PIXEL: u64 = 6;
/// Per pixel of a progressive JPEG at full size: 16-bit coefficients of up to three components.
const PROGRESSIVE_PER_PIXEL: u64 = 6;

/// How the pixels are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Row by row into the area reducer (PNG that is not interlaced).
    PngRows,
    /// Scaled in the DCT; `whole` when a file the scaled decoder cannot read may be decoded whole.
    JpegScaled { whole: bool },
    /// The whole image, then reduced.
    Whole,
}

/// What `inspect` found: the format, the size, the route and the memory it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub route: Route,
    memory: u64,
}

impl Plan {
    /// Megabytes to reserve from the budget (at least one, at most `MAX_DECODE_MIB`).
    pub fn memory_mib(&self) -> u32 {
        u32::try_from(self.memory.div_ceil(MIB))
            .unwrap_or(MAX_DECODE_MIB)
            .clamp(1, MAX_DECODE_MIB)
    }
}

/// The intermediate size for a stored target: at most `INTERMEDIATE` times it, never larger than
/// the source.
pub fn intermediate(width: u32, height: u32, target: (u32, u32)) -> (u32, u32) {
    at_most(width, height, target, INTERMEDIATE)
}

/// The least size a JPEG is decoded at: `JPEG_INTERMEDIATE` times the target (the DCT scale
/// picks the next size up).
pub fn jpeg_want(width: u32, height: u32, target: (u32, u32)) -> (u32, u32) {
    at_most(width, height, target, JPEG_INTERMEDIATE)
}

fn at_most(width: u32, height: u32, target: (u32, u32), factor: u32) -> (u32, u32) {
    (
        width.min(target.0.saturating_mul(factor)),
        height.min(target.1.saturating_mul(factor)),
    )
}

/// The stored targets (before turning) for both ways the image may stand (EXIF orientation),
/// leaving out a way whose result would be too tall: that is refused before decoding.
fn targets(width: u32, height: u32) -> impl Iterator<Item = (u32, u32)> {
    let plain = target_size(width, height);
    let (tw, th) = target_size(height, width);
    [plain, (th, tw)]
        .into_iter()
        .zip([plain.1, th])
        .filter(|(_, upright_height)| *upright_height <= MAX_HEIGHT)
        .map(|(target, _)| target)
}

/// The largest of `size(target)`, in pixels, over the targets.
fn largest(width: u32, height: u32, size: impl Fn((u32, u32)) -> (u32, u32)) -> u64 {
    targets(width, height)
        .map(|target| {
            let (w, h) = size(target);
            u64::from(w) * u64::from(h)
        })
        .max()
        .unwrap_or(0)
}

/// The size a JPEG decodes at with the DCT scale the decoder picks (1/8, 1/4, 1/2 or 1) for an
/// intermediate of `want`.
pub fn jpeg_scaled(width: u32, height: u32, want: (u32, u32)) -> (u32, u32) {
    [8, 4, 2, 1]
        .into_iter()
        .map(|s| (width.div_ceil(s), height.div_ceil(s)))
        .find(|(w, h)| *w >= want.0 && *h >= want.1)
        .unwrap_or((width, height))
}

/// True when the first frame header of a JPEG is progressive (SOF2, SOF6, SOF10 or SOF14).
fn jpeg_is_progressive(bytes: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE) {
            return true;
        }
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
            || marker == 0xDA
        {
            return false;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + length;
    }
    false
}

/// The IHDR interlace byte of a PNG (the signature, then IHDR's length, type and 12 bytes).
fn png_is_interlaced(bytes: &[u8]) -> bool {
    bytes.get(28).is_some_and(|b| *b != 0)
}

fn whole_refused(kind: &'static str, limit: u64, width: u32, height: u32) -> LogoError {
    LogoError::TooBigToDecode {
        kind,
        width,
        height,
        megapixels: limit / 1_000_000,
    }
}

/// The route and memory for an image whose header says `width` x `height` (already within the
/// size limits), or why it is refused.
pub fn plan(bytes: &[u8], format: Format, width: u32, height: u32) -> Result<Plan, LogoError> {
    let pixels = u64::from(width) * u64::from(height);
    let intermediate_pixels = largest(width, height, |t| intermediate(width, height, t));
    let reduced = intermediate_pixels * INTERMEDIATE_PER_PIXEL;
    // Decoding, then reducing (the decoder freed), then resizing (the whole image freed).
    let whole = (pixels * WHOLE_PER_PIXEL)
        .max(pixels * DECODED_PER_PIXEL + intermediate_pixels * REDUCED_PER_PIXEL)
        .max(reduced);
    let (route, memory) = match format {
        Format::Png if !png_is_interlaced(bytes) => (Route::PngRows, reduced),
        Format::Jpeg => {
            let progressive = jpeg_is_progressive(bytes);
            if progressive && pixels > WHOLE_MAX_PIXELS {
                return Err(whole_refused(
                    "A progressive JPEG",
                    WHOLE_MAX_PIXELS,
                    width,
                    height,
                ));
            }
            let coefficients = if progressive {
                pixels * PROGRESSIVE_PER_PIXEL
            } else {
                0
            };
            let decoded = largest(width, height, |t| {
                jpeg_scaled(width, height, jpeg_want(width, height, t))
            });
            // Resized from RGB as it is: no intermediate, no premultiplied copy.
            let scaled = coefficients + decoded * JPEG_SCALED_PER_PIXEL;
            let may_whole = pixels <= WHOLE_MAX_PIXELS;
            let memory = if may_whole { scaled.max(whole) } else { scaled };
            (Route::JpegScaled { whole: may_whole }, memory)
        }
        _ if pixels > WHOLE_MAX_PIXELS => {
            let kind = match format {
                Format::Gif => "A GIF",
                Format::WebP => "A WebP image",
                _ => "An interlaced PNG",
            };
            return Err(whole_refused(kind, WHOLE_MAX_PIXELS, width, height));
        }
        _ => (Route::Whole, whole),
    };
    Ok(Plan {
        format,
        width,
        height,
        route,
        memory: memory + FIXED,
    })
}

/// The refusal for a JPEG the scaled decoder cannot read and that is too large to decode whole.
pub fn jpeg_refused(width: u32, height: u32) -> LogoError {
    whole_refused("A JPEG in CMYK or 12 bits", WHOLE_MAX_PIXELS, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(width: u32, height: u32, interlace: u8) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&[8, 6, 0, 0, interlace]);
        out
    }

    #[test]
    fn streamed_png_costs_little_whatever_its_size() {
        let plan = plan(&png_header(6300, 6300, 0), Format::Png, 6300, 6300).unwrap();
        assert_eq!(plan.route, Route::PngRows);
        assert!(plan.memory_mib() <= 12, "{}", plan.memory_mib());
        let small = plan_of(Format::Png, 200, 100, 0);
        assert!(small.memory_mib() <= 5);
    }

    fn plan_of(format: Format, width: u32, height: u32, interlace: u8) -> Plan {
        plan(&png_header(width, height, interlace), format, width, height).unwrap()
    }

    #[test]
    fn what_is_decoded_whole_is_capped_and_fits_the_budget() {
        assert_eq!(plan_of(Format::Gif, 3000, 2000, 0).route, Route::Whole);
        let refused = plan(&[], Format::WebP, 3000, 2001).unwrap_err();
        assert!(
            refused.to_string().contains("up to 6 megapixels"),
            "{refused}"
        );
        let refused = plan(&png_header(4000, 4000, 1), Format::Png, 4000, 4000).unwrap_err();
        assert!(refused.to_string().contains("interlaced PNG"), "{refused}");
        // Every shape at the cap stays within one decode's share.
        for (w, h) in [
            (3000, 2000),
            (2000, 3000),
            (520, 11_538),
            (11_538, 520),
            (2449, 2449),
        ] {
            let plan = plan_of(Format::Gif, w, h, 0);
            assert!(
                plan.memory <= u64::from(MAX_DECODE_MIB) * MIB,
                "{w} x {h}: {plan:?}"
            );
        }
    }

    #[test]
    fn progressive_jpegs_are_capped() {
        let mut progressive = b"\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC2\x00\x0b".to_vec();
        progressive.extend_from_slice(&[0; 16]);
        assert!(jpeg_is_progressive(&progressive));
        assert!(plan(&progressive, Format::Jpeg, 3000, 2000).is_ok());
        let refused = plan(&progressive, Format::Jpeg, 3000, 2001).unwrap_err();
        assert!(
            refused.to_string().contains("progressive JPEG"),
            "{refused}"
        );
        let baseline = plan(b"\xFF\xD8\xFF\xC0\x00\x11", Format::Jpeg, 6000, 6000).unwrap();
        assert_eq!(baseline.route, Route::JpegScaled { whole: false });
        assert!(baseline.memory_mib() <= 32, "{baseline:?}");
    }

    #[test]
    fn no_accepted_image_takes_more_than_one_decode_s_share() {
        let mut progressive = b"\xFF\xD8\xFF\xC2\x00\x0b".to_vec();
        progressive.extend_from_slice(&[0; 16]);
        let inputs: [(Format, Vec<u8>); 5] = [
            (Format::Png, png_header(1, 1, 0)),
            (Format::Png, png_header(1, 1, 1)),
            (Format::Jpeg, b"\xFF\xD8\xFF\xC0\x00\x11".to_vec()),
            (Format::Jpeg, progressive),
            (Format::Gif, Vec::new()),
        ];
        let sides = (1..=12_000u32)
            .step_by(173)
            .chain([2, 259, 260, 261, 519, 520, 521, 12_000]);
        let sides: Vec<u32> = sides.collect();
        for (format, bytes) in &inputs {
            for &w in &sides {
                for &h in &sides {
                    if u64::from(w) * u64::from(h) > super::super::MAX_PIXELS {
                        continue;
                    }
                    if let Ok(plan) = plan(bytes, *format, w, h) {
                        assert!(
                            plan.memory <= u64::from(MAX_DECODE_MIB) * MIB,
                            "{w} x {h}: {plan:?}"
                        );
                    }
                }
            }
        }
    }
}
