//! Area averaging, row by row: an image of any pixel count is reduced to a small intermediate (a
//! couple of times the target size) while it is decoded, so that only rows and the intermediate are
//! ever held. Colours are weighted by alpha, so transparent pixels do not darken their neighbours.
//! Across, strips of rows go through fast_image_resize's box filter (the bulk of the work, in
//! SIMD); down, `AreaReducer` sums the narrow rows.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbaImage;

use super::LogoError;

/// Source bytes gathered before a strip is reduced across.
const STRIP_BYTES: usize = 1024 * 1024;

/// How the bytes of a row hold a pixel (8 bits a sample).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
}

impl Channels {
    pub fn count(self) -> usize {
        match self {
            Channels::Gray => 1,
            Channels::GrayAlpha => 2,
            Channels::Rgb => 3,
            Channels::Rgba => 4,
        }
    }

    fn pixel_type(self) -> PixelType {
        match self {
            Channels::Gray => PixelType::U8,
            Channels::GrayAlpha => PixelType::U8x2,
            Channels::Rgb => PixelType::U8x3,
            Channels::Rgba => PixelType::U8x4,
        }
    }

    fn rgba(self, p: &[u8]) -> [u8; 4] {
        match self {
            Channels::Gray => [p[0], p[0], p[0], 255],
            Channels::GrayAlpha => [p[0], p[0], p[0], p[1]],
            Channels::Rgb => [p[0], p[1], p[2], 255],
            Channels::Rgba => [p[0], p[1], p[2], p[3]],
        }
    }
}

/// Where one source pixel (or row) falls on the output grid: the first output cell it covers and
/// the share of it there; the rest (when the share is below one) goes to the next cell.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: usize,
    share: f32,
}

fn spans(source: u32, output: u32) -> Vec<Span> {
    let scale = f64::from(source) / f64::from(output);
    let last = output as usize - 1;
    (0..source)
        .map(|at| {
            let at = f64::from(at);
            let mut first = ((at / scale) as usize).min(last);
            // Rounding can leave a pixel that starts on a boundary in the cell before it.
            if first < last && (first as f64 + 1.0) * scale <= at {
                first += 1;
            }
            let end = (first as f64 + 1.0) * scale;
            let share = if first == last {
                1.0
            } else {
                (end - at).min(1.0)
            };
            Span {
                first,
                share: share as f32,
            }
        })
        .collect()
}

/// Takes the source rows in order and gives the reduced image.
pub struct AreaReducer {
    width: u32,
    height: u32,
    columns: Vec<Span>,
    rows: Vec<Span>,
    /// Pixels per output cell, to turn sums of alpha into alpha.
    cell_area: f32,
    /// The row being pushed, reduced across (premultiplied r, g, b and alpha per output column).
    line: Vec<f32>,
    /// Sums for the output row being filled and for the next one.
    sums: [Vec<f32>; 2],
    /// The output row that `sums[0]` fills.
    filling: usize,
    pushed: u32,
    out: Vec<u8>,
}

impl AreaReducer {
    /// Reduces `width` x `height` to `out_width` x `out_height` (each at most the source's and at
    /// least one).
    pub fn new(width: u32, height: u32, out_width: u32, out_height: u32) -> Self {
        let out_width = out_width.clamp(1, width.max(1));
        let out_height = out_height.clamp(1, height.max(1));
        let cells = out_width as usize * 4;
        Self {
            width,
            height,
            columns: spans(width, out_width),
            rows: spans(height, out_height),
            cell_area: (f64::from(width) / f64::from(out_width)
                * (f64::from(height) / f64::from(out_height))) as f32,
            line: vec![0.0; cells],
            sums: [vec![0.0; cells], vec![0.0; cells]],
            filling: 0,
            pushed: 0,
            out: Vec::with_capacity(cells * out_height as usize),
        }
    }

    fn out_width(&self) -> usize {
        self.line.len() / 4
    }

    /// Adds the next source row (`width` pixels laid out as `channels` says).
    pub fn push_row(&mut self, row: &[u8], channels: Channels) -> Result<(), LogoError> {
        let step = channels.count();
        if self.pushed >= self.height || row.len() < self.width as usize * step {
            return Err(LogoError::Damaged("a row does not fit the image".into()));
        }
        self.line.fill(0.0);
        for (pixel, span) in row.chunks_exact(step).zip(&self.columns) {
            let [r, g, b, a] = channels.rgba(pixel);
            let alpha = f32::from(a);
            let value = [
                f32::from(r) * alpha,
                f32::from(g) * alpha,
                f32::from(b) * alpha,
                alpha,
            ];
            add(&mut self.line, span.first, span.share, value);
            if span.share < 1.0 {
                add(&mut self.line, span.first + 1, 1.0 - span.share, value);
            }
        }
        let span = self.rows[self.pushed as usize];
        while span.first > self.filling {
            self.emit();
        }
        for (sum, value) in self.sums[0].iter_mut().zip(&self.line) {
            *sum += value * span.share;
        }
        if span.share < 1.0 {
            let rest = 1.0 - span.share;
            for (sum, value) in self.sums[1].iter_mut().zip(&self.line) {
                *sum += value * rest;
            }
        }
        self.pushed += 1;
        Ok(())
    }

    /// Writes the output row being filled and moves on to the next.
    fn emit(&mut self) {
        for cell in self.sums[0].chunks_exact(4) {
            let alpha = cell[3];
            let colour = |c: f32| {
                if alpha > 0.0 {
                    (c / alpha).round().clamp(0.0, 255.0) as u8
                } else {
                    0
                }
            };
            self.out.extend_from_slice(&[
                colour(cell[0]),
                colour(cell[1]),
                colour(cell[2]),
                (alpha / self.cell_area).round().clamp(0.0, 255.0) as u8,
            ]);
        }
        self.sums.swap(0, 1);
        self.sums[1].fill(0.0);
        self.filling += 1;
    }

    /// The reduced image, once every source row has been pushed.
    pub fn finish(mut self) -> Result<RgbaImage, LogoError> {
        if self.pushed != self.height {
            return Err(LogoError::Damaged("the image ends early".into()));
        }
        let out_height = self.rows.last().map_or(0, |s| s.first + 1);
        while self.filling < out_height {
            self.emit();
        }
        let width = self.out_width() as u32;
        RgbaImage::from_raw(width, out_height as u32, self.out)
            .ok_or_else(|| LogoError::Damaged("reduction".into()))
    }
}

/// Reduces `width` x `height` rows of one layout to `out_width` x `out_height` RGBA: across in
/// strips with a box filter, then down with `AreaReducer`.
pub struct RowReducer {
    channels: Channels,
    width: u32,
    out_width: u32,
    /// Source rows waiting to be reduced across (a few at a time, so the filter runs in bulk).
    strip: Vec<u8>,
    strip_rows: usize,
    resizer: Resizer,
    down: AreaReducer,
}

impl RowReducer {
    pub fn new(
        width: u32,
        height: u32,
        out_width: u32,
        out_height: u32,
        channels: Channels,
    ) -> Self {
        let out_width = out_width.clamp(1, width.max(1));
        let row = width as usize * channels.count();
        Self {
            channels,
            width,
            out_width,
            strip: Vec::with_capacity(STRIP_BYTES.max(row)),
            strip_rows: (STRIP_BYTES / row.max(1)).max(1),
            resizer: Resizer::new(),
            down: AreaReducer::new(out_width, height, out_width, out_height),
        }
    }

    pub fn push_row(&mut self, row: &[u8]) -> Result<(), LogoError> {
        let length = self.width as usize * self.channels.count();
        let row = row
            .get(..length)
            .ok_or_else(|| LogoError::Damaged("a row does not fit the image".into()))?;
        if self.out_width == self.width {
            return self.down.push_row(row, self.channels);
        }
        self.strip.extend_from_slice(row);
        if self.strip.len() >= self.strip_rows * length {
            self.flush()?;
        }
        Ok(())
    }

    /// Reduces the gathered rows across and passes them down.
    fn flush(&mut self) -> Result<(), LogoError> {
        let length = self.width as usize * self.channels.count();
        let rows = self.strip.len() / length;
        if rows == 0 {
            return Ok(());
        }
        let kind = self.channels.pixel_type();
        let failed = |e: &dyn std::fmt::Display| LogoError::Damaged(e.to_string());
        let height = u32::try_from(rows).map_err(|e| failed(&e))?;
        let src = ImageRef::new(self.width, height, &self.strip, kind).map_err(|e| failed(&e))?;
        let mut dst = Image::new(self.out_width, height, kind);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
        self.resizer
            .resize(&src, &mut dst, &options)
            .map_err(|e| failed(&e))?;
        let narrow = self.out_width as usize * self.channels.count();
        for row in dst.buffer().chunks_exact(narrow) {
            self.down.push_row(row, self.channels)?;
        }
        self.strip.clear();
        Ok(())
    }

    /// The reduced image, once every source row has been pushed.
    pub fn finish(mut self) -> Result<RgbaImage, LogoError> {
        self.flush()?;
        self.down.finish()
    }
}

fn add(line: &mut [f32], cell: usize, share: f32, value: [f32; 4]) {
    let at = cell * 4;
    for (sum, v) in line[at..at + 4].iter_mut().zip(value) {
        *sum += v * share;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(width: u32, height: u32, pixels: &[[u8; 4]], to: (u32, u32)) -> RgbaImage {
        let mut reducer = AreaReducer::new(width, height, to.0, to.1);
        for row in pixels.chunks(width as usize) {
            let bytes: Vec<u8> = row.iter().flatten().copied().collect();
            reducer.push_row(&bytes, Channels::Rgba).unwrap();
        }
        reducer.finish().unwrap()
    }

    #[test]
    fn same_size_keeps_every_pixel() {
        let pixels: Vec<[u8; 4]> = (0..12u8).map(|i| [i * 20, 255 - i, i, 255]).collect();
        let out = reduce(4, 3, &pixels, (4, 3));
        let flat: Vec<u8> = pixels.iter().flatten().copied().collect();
        assert_eq!(out.as_raw(), &flat);
    }

    #[test]
    fn halves_average_and_transparency_does_not_darken() {
        // Opaque white beside transparent black: the colour stays white, alpha halves.
        let pixels = [
            [255, 255, 255, 255],
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [0, 0, 0, 0],
        ];
        let out = reduce(2, 2, &pixels, (1, 1));
        assert_eq!(out.get_pixel(0, 0).0, [255, 255, 255, 128]);
    }

    #[test]
    fn fractional_cells_share_the_pixel_between_them() {
        // Three columns to two: the middle column counts half in each output cell.
        let pixels = [[0, 0, 0, 255], [90, 90, 90, 255], [180, 180, 180, 255]];
        let out = reduce(3, 1, &pixels, (2, 1));
        assert_eq!(out.get_pixel(0, 0).0, [30, 30, 30, 255]);
        assert_eq!(out.get_pixel(1, 0).0, [150, 150, 150, 255]);
    }

    #[test]
    fn strips_reduce_like_whole_rows() {
        // 90 x 30 of vertical stripes 3 px wide (two grey levels), to 30 x 10: each output cell
        // covers one whole stripe.
        let (width, height) = (90u32, 30u32);
        let row: Vec<u8> = (0..width)
            .flat_map(|x| {
                let v = if (x / 3) % 2 == 0 { 40 } else { 200 };
                [v, v, v]
            })
            .collect();
        let mut reducer = RowReducer::new(width, height, 30, 10, Channels::Rgb);
        for _ in 0..height {
            reducer.push_row(&row).unwrap();
        }
        let out = reducer.finish().unwrap();
        assert_eq!((out.width(), out.height()), (30, 10));
        assert_eq!(out.get_pixel(0, 0).0, [40, 40, 40, 255]);
        assert_eq!(out.get_pixel(1, 9).0, [200, 200, 200, 255]);
    }

    #[test]
    fn missing_rows_are_an_error() {
        let mut reducer = AreaReducer::new(2, 2, 1, 1);
        reducer.push_row(&[0; 8], Channels::Rgba).unwrap();
        assert!(reducer.finish().is_err());
        let mut short = AreaReducer::new(2, 1, 1, 1);
        assert!(short.push_row(&[0; 3], Channels::Rgb).is_err());
    }
}
