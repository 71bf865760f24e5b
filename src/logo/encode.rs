//! Re-encoding: PNG when the logo has transparency, otherwise a good-quality JPEG. Only pixels are
//! written, so no metadata (or anything appended to the upload) survives.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::decode::Pixels;
use super::{Logo, LogoError};

const JPEG_QUALITY: u8 = 88;

pub fn encode(image: &Pixels) -> Result<Logo, LogoError> {
    let transparent = image.rgba.chunks_exact(4).any(|p| p[3] < 255);
    let mut bytes = Vec::new();
    let fail = |e: image::ImageError| LogoError::Damaged(e.to_string());
    let content_type = if transparent {
        PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::Adaptive)
            .write_image(
                &image.rgba,
                image.width,
                image.height,
                ExtendedColorType::Rgba8,
            )
            .map_err(fail)?;
        "image/png"
    } else {
        let rgb: Vec<u8> = image
            .rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
            .write_image(&rgb, image.width, image.height, ExtendedColorType::Rgb8)
            .map_err(fail)?;
        "image/jpeg"
    };
    Ok(Logo {
        bytes,
        width: image.width,
        height: image.height,
        content_type,
    })
}
