//! Logos (B3): bytes in, a checked, upright, scaled, re-encoded image out. No HTTP, no database.
//!
//! The format is decided by content, never by name. Dimensions are read from the header before
//! anything is decoded, and so is the memory the decode takes (`cost`): PNG is reduced row by row
//! as it is decoded, JPEG in the DCT (1/2, 1/4, 1/8), to about twice the target; then a Lanczos3
//! filter that handles transparency gives the final size.

mod cost;
mod decode;
mod encode;
mod reduce;
mod sniff;
mod stream;

use std::fmt;

pub use cost::{BUDGET_MIB, MAX_DECODE_MIB, Plan};
pub use decode::Pixels;
pub use sniff::Format;

/// Logos wider than this are scaled to it.
pub const TARGET_WIDTH: u32 = 260;
/// The largest side accepted, and the largest area.
pub const MAX_SIDE: u32 = 12_000;
pub const MAX_PIXELS: u64 = 40_000_000;
/// The tallest result accepted (extreme aspect ratios make unusable logos).
pub const MAX_HEIGHT: u32 = 1_040;
/// The largest upload accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// A logo ready to store and serve.
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
}

impl fmt::Debug for Logo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Logo({} x {} {}, {} bytes)",
            self.width,
            self.height,
            self.content_type,
            self.bytes.len()
        )
    }
}

/// Why a file is not accepted, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("The file is empty. Choose a PNG, JPEG, GIF or WebP image.")]
    Empty,
    #[error(
        "SVG images are not accepted (they can carry scripts). Export the logo as PNG, JPEG, GIF or WebP."
    )]
    Svg,
    #[error("This file is {0}, not an image Roster accepts. Use a PNG, JPEG, GIF or WebP image.")]
    NotAnImage(&'static str),
    #[error(
        "The image is {width} x {height} px; the largest accepted is 12,000 px on a side and 40 megapixels. \
         Scale it down first (260 px wide is enough)."
    )]
    TooBig { width: u32, height: u32 },
    #[error(
        "{kind} is decoded whole, so it is accepted up to {megapixels} megapixels; this one is \
         {width} x {height} px. Save it as a PNG (not interlaced) or a baseline JPEG, or scale it \
         down (260 px wide is enough)."
    )]
    TooBigToDecode {
        kind: &'static str,
        width: u32,
        height: u32,
        megapixels: u64,
    },
    #[error(
        "The logo would be {height} px tall; the tallest accepted is 1,040 px (logos are at most 260 px \
         wide). Crop it closer to its content."
    )]
    TooTall { height: u32 },
    #[error(
        "The image could not be read; it may be damaged or cut short ({0}). Save it again and retry."
    )]
    Damaged(String),
}

/// The size a logo of `width` x `height` is stored at.
pub fn target_size(width: u32, height: u32) -> (u32, u32) {
    if width <= TARGET_WIDTH {
        (width, height)
    } else {
        let h = (f64::from(height) * f64::from(TARGET_WIDTH) / f64::from(width)).round();
        // At most MAX_SIDE * 260 / 261, so it fits in u32.
        (TARGET_WIDTH, (h as u32).max(1))
    }
}

/// Checks, orients, scales and re-encodes an uploaded logo.
pub fn process(bytes: &[u8]) -> Result<Logo, LogoError> {
    process_planned(bytes, &inspect(bytes)?)
}

/// The same, once `inspect` has planned it (and the caller has reserved its memory).
pub fn process_planned(bytes: &[u8], plan: &Plan) -> Result<Logo, LogoError> {
    encode::encode(&upright_planned(bytes, plan)?)
}

/// What the file is, its size, and how (and with how much memory) it will be decoded; from the
/// header alone. Refuses what is too large.
pub fn inspect(bytes: &[u8]) -> Result<Plan, LogoError> {
    // Header parsers are third-party code too: a panic is a refusal.
    std::panic::catch_unwind(|| {
        let format = sniff::sniff(bytes)?;
        let (width, height) = sniff::dimensions(bytes, format)?;
        if width > MAX_SIDE
            || height > MAX_SIDE
            || u64::from(width) * u64::from(height) > MAX_PIXELS
        {
            return Err(LogoError::TooBig { width, height });
        }
        cost::plan(bytes, format, width, height)
    })
    .unwrap_or_else(|_| Err(LogoError::Damaged("the header could not be read".into())))
}

/// The checked, upright, scaled pixels, before encoding (the benchmark compares these).
pub fn upright(bytes: &[u8]) -> Result<Pixels, LogoError> {
    upright_planned(bytes, &inspect(bytes)?)
}

/// (A result taller than `MAX_HEIGHT` is refused before decoding, once the orientation is known.)
fn upright_planned(bytes: &[u8], plan: &Plan) -> Result<Pixels, LogoError> {
    decode::upright_scaled(bytes, plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_sizes() {
        assert_eq!(target_size(1200, 800), (260, 173));
        assert_eq!(target_size(200, 100), (200, 100));
        assert_eq!(target_size(260, 50), (260, 50));
        assert_eq!(target_size(4000, 3000), (260, 195));
        assert_eq!(target_size(12000, 1), (260, 1));
    }
}
