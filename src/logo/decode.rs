//! Decoding to an upright RGBA image of the target size, by the route `cost` planned: PNG through
//! `stream`, JPEG scaled in the DCT, the rest whole; each reduced to an intermediate, then resized
//! with Lanczos3 and turned upright.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbaImage};

use super::cost::{Plan, Route, jpeg_refused, jpeg_want};
use super::stream::{png_reduced, reduce_whole};
use super::{Format, LogoError, MAX_DECODE_MIB, MAX_HEIGHT, MAX_PIXELS, MAX_SIDE, target_size};

/// An RGBA image, upright, at its final size.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

#[allow(clippy::needless_pass_by_value, reason = "used as `map_err(damaged)`")]
pub(super) fn damaged(e: impl ToString) -> LogoError {
    LogoError::Damaged(e.to_string())
}

/// True when the orientation turns the image a quarter (width and height swap).
fn swaps(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// True when a JPEG's last scan is followed by its end marker. Decoders fill a cut-short image
/// with grey rather than fail; Roster refuses it instead. (Inside scan data a 0xFF byte is always
/// followed by 0x00 or a restart marker, so 0xFF 0xD9 there can only be the end.)
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    last_scan.is_some_and(|at| bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// The size the decoded (not yet turned) image is scaled to, so that once turned it is the target;
/// refused before anything large is made when the result would be too tall.
pub(super) fn stored_target(
    width: u32,
    height: u32,
    orientation: Orientation,
) -> Result<(u32, u32), LogoError> {
    let turned = swaps(orientation);
    let (tw, th) = if turned {
        target_size(height, width)
    } else {
        target_size(width, height)
    };
    if th > MAX_HEIGHT {
        return Err(LogoError::TooTall { height: th });
    }
    Ok(if turned { (th, tw) } else { (tw, th) })
}

pub fn upright_scaled(bytes: &[u8], plan: &Plan) -> Result<Pixels, LogoError> {
    let (format, width, height) = (plan.format, plan.width, plan.height);
    if format == Format::Jpeg && !jpeg_is_complete(bytes) {
        return Err(damaged("the file ends before the image does"));
    }
    // Decoders are third-party code fed with untrusted bytes: a panic there is a refusal, not a crash.
    let (image, orientation) = catch_unwind(AssertUnwindSafe(|| match (format, plan.route) {
        (Format::Png, _) => png_reduced(bytes, width, height),
        (Format::Jpeg, Route::JpegScaled { whole }) => match jpeg_reduced(bytes, width, height) {
            Ok(Some(reduced)) => Ok(reduced),
            _ if whole => generic(bytes, format, width, height),
            Ok(None) => Err(jpeg_refused(width, height)),
            Err(e) => Err(e),
        },
        _ => generic(bytes, format, width, height),
    }))
    .map_err(|_| damaged("the decoder gave up"))??;
    let (rw, rh) = stored_target(width, height, orientation)?;
    let mut small = resize(image, rw, rh)?;
    small.apply_orientation(orientation);
    let rgba = small.into_rgba8();
    Ok(Pixels {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

/// Any accepted format through `image`, decoded whole within limits (GIF gives its first frame),
/// then reduced to the intermediate.
fn generic(
    bytes: &[u8],
    format: Format,
    width: u32,
    height: u32,
) -> Result<(DynamicImage, Orientation), LogoError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(u64::from(MAX_DECODE_MIB) * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let target = stored_target(width, height, orientation)?;
    let image = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    Ok((reduce_whole(image, target)?, orientation))
}

/// JPEG decoded at the smallest DCT scale (1/8, 1/4, 1/2) that stays at least twice the target;
/// `None` for what this decoder reads but not into RGB or grey (CMYK, 16 bits).
fn jpeg_reduced(
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<Option<(DynamicImage, Orientation)>, LogoError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(MAX_PIXELS * 4).unwrap_or(usize::MAX));
    decoder.read_info().map_err(damaged)?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let target = stored_target(width, height, orientation)?;
    let (iw, ih) = jpeg_want(width, height, target);
    let want = |side: u32| u16::try_from(side).unwrap_or(u16::MAX);
    let (w, h) = decoder.scale(want(iw), want(ih)).map_err(damaged)?;
    let info = decoder.info().ok_or_else(|| damaged("no frame"))?;
    let pixels = decoder.decode().map_err(damaged)?;
    let (w, h) = (u32::from(w), u32::from(h));
    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        // CMYK and 16-bit JPEGs are rare for logos: `image` decodes them whole, when small enough.
        _ => return Ok(None),
    };
    image
        .map(|i| Some((i, orientation)))
        .ok_or_else(|| damaged("the decoder gave fewer pixels than the header said"))
}

/// Resizes in the image's own pixel layout (no copy to RGBA of the large image), with Lanczos3;
/// with alpha, premultiplied during the resize so that transparent edges do not darken.
fn resize(image: DynamicImage, width: u32, height: u32) -> Result<DynamicImage, LogoError> {
    if (image.width(), image.height()) == (width, height) {
        return Ok(image);
    }
    let (sw, sh) = (image.width(), image.height());
    let (pixels, kind) = match image {
        DynamicImage::ImageRgb8(buf) => (buf.into_raw(), PixelType::U8x3),
        DynamicImage::ImageLuma8(buf) => (buf.into_raw(), PixelType::U8),
        other => (other.into_rgba8().into_raw(), PixelType::U8x4),
    };
    let src = Image::from_vec_u8(sw, sh, pixels, kind).map_err(damaged)?;
    let mut dst = Image::new(width, height, kind);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(damaged)?;
    let out = dst.into_vec();
    let image = match kind {
        PixelType::U8x3 => {
            image::RgbImage::from_raw(width, height, out).map(DynamicImage::ImageRgb8)
        }
        PixelType::U8 => {
            image::GrayImage::from_raw(width, height, out).map(DynamicImage::ImageLuma8)
        }
        _ => RgbaImage::from_raw(width, height, out).map(DynamicImage::ImageRgba8),
    };
    image.ok_or_else(|| damaged("resize"))
}
