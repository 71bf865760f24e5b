//! PNG decoded row by row into the area reducer: whatever the pixel count, only a couple of rows
//! and the small intermediate are held. Interlaced PNGs come in passes, so they are decoded whole
//! (at 8 bits a sample, within the size `cost` allows) and then reduced the same way.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, RgbaImage};
use png::{ColorType, Transformations};

use super::LogoError;
use super::cost::intermediate;
use super::decode::{damaged, stored_target};
use super::reduce::{Channels, RowReducer};

/// The PNG reduced to the intermediate for its stored target, and its EXIF orientation.
pub fn png_reduced(
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<(DynamicImage, Orientation), LogoError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes and low bit depths to 8-bit samples, transparency chunks to alpha, 16 bits to 8.
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(damaged)?;
    let info = reader.info();
    if (info.width, info.height) != (width, height) {
        return Err(damaged("the header changed between reads"));
    }
    let orientation = info
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let target = stored_target(width, height, orientation)?;
    let (iw, ih) = intermediate(width, height, target);
    let channels = match reader.output_color_type().0 {
        ColorType::Grayscale => Channels::Gray,
        ColorType::GrayscaleAlpha => Channels::GrayAlpha,
        ColorType::Rgb => Channels::Rgb,
        ColorType::Rgba => Channels::Rgba,
        ColorType::Indexed => return Err(damaged("a palette that was not expanded")),
    };
    let mut reducer = RowReducer::new(width, height, iw, ih, channels);
    if reader.info().interlaced {
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| damaged("too large"))?;
        let mut whole = vec![0; size];
        let frame = reader.next_frame(&mut whole).map_err(damaged)?;
        for row in whole.chunks_exact(frame.line_size) {
            reducer.push_row(row)?;
        }
    } else {
        while let Some(row) = reader.next_row().map_err(damaged)? {
            reducer.push_row(row.data())?;
        }
    }
    Ok((DynamicImage::ImageRgba8(reducer.finish()?), orientation))
}

/// An image decoded whole, reduced the same way (it is then freed; only the intermediate stays).
pub fn reduce_whole(image: DynamicImage, target: (u32, u32)) -> Result<DynamicImage, LogoError> {
    let (width, height) = (image.width(), image.height());
    let (iw, ih) = intermediate(width, height, target);
    if (iw, ih) == (width, height) {
        return Ok(image);
    }
    let (bytes, channels): (Vec<u8>, Channels) = match image {
        DynamicImage::ImageLuma8(buf) => (buf.into_raw(), Channels::Gray),
        DynamicImage::ImageLumaA8(buf) => (buf.into_raw(), Channels::GrayAlpha),
        DynamicImage::ImageRgb8(buf) => (buf.into_raw(), Channels::Rgb),
        other => (other.into_rgba8().into_raw(), Channels::Rgba),
    };
    let mut reducer = RowReducer::new(width, height, iw, ih, channels);
    for row in bytes.chunks_exact(width as usize * channels.count()) {
        reducer.push_row(row)?;
    }
    let reduced: RgbaImage = reducer.finish()?;
    Ok(DynamicImage::ImageRgba8(reduced))
}
