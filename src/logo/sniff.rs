//! What a file is, by its content; and its dimensions, from its header alone.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use super::LogoError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl Format {
    pub fn image_format(self) -> ImageFormat {
        match self {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Gif => ImageFormat::Gif,
            Format::WebP => ImageFormat::WebP,
        }
    }
}

/// The start of a text file, without a byte-order mark or leading white space, lower-cased.
fn text_start(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes.len().min(start + 1024);
    String::from_utf8_lossy(&bytes[start..end]).to_lowercase()
}

pub fn sniff(bytes: &[u8]) -> Result<Format, LogoError> {
    if bytes.is_empty() {
        return Err(LogoError::Empty);
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Png) => return Ok(Format::Png),
        Ok(ImageFormat::Jpeg) => return Ok(Format::Jpeg),
        Ok(ImageFormat::Gif) => return Ok(Format::Gif),
        Ok(ImageFormat::WebP) => return Ok(Format::WebP),
        Ok(_) => {
            return Err(LogoError::NotAnImage(
                "an image in a format Roster does not accept",
            ));
        }
        Err(_) => {}
    }
    let text = text_start(bytes);
    if text.starts_with("<svg")
        || (text.starts_with("<?xml") || text.starts_with("<!doctype svg")) && text.contains("<svg")
    {
        Err(LogoError::Svg)
    } else if bytes.starts_with(b"%PDF") {
        Err(LogoError::NotAnImage("a PDF document"))
    } else if text.starts_with('<') {
        Err(LogoError::NotAnImage("an HTML or XML document"))
    } else {
        Err(LogoError::NotAnImage("of an unknown kind"))
    }
}

/// Width and height as the header states them; nothing is decoded.
pub fn dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32), LogoError> {
    ImageReader::with_format(Cursor::new(bytes), format.image_format())
        .into_dimensions()
        .map_err(|e| LogoError::Damaged(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n rest"), Ok(Format::Png));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Ok(Format::Jpeg));
        assert_eq!(sniff(b"GIF89a..."), Ok(Format::Gif));
        assert_eq!(
            sniff(b"  <svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>"),
            Err(LogoError::Svg)
        );
        assert_eq!(
            sniff(b"<?xml version='1.0'?>\n<svg></svg>"),
            Err(LogoError::Svg)
        );
        assert_eq!(
            sniff(b"<html><body>hi</body></html>"),
            Err(LogoError::NotAnImage("an HTML or XML document"))
        );
        assert_eq!(
            sniff(b"%PDF-1.7"),
            Err(LogoError::NotAnImage("a PDF document"))
        );
        assert_eq!(sniff(b""), Err(LogoError::Empty));
    }
}
