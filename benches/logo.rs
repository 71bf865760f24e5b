//! Logo pipeline benchmark (issue: logos). On a generated 4000 x 3000 baseline JPEG, the same
//! picture as an opaque PNG, and a 6,300 x 6,300 transparent PNG, it prints in one run: Roster's
//! pipeline (sniff, header check, reduced decode, Lanczos3 resize, re-encode), `image` decode +
//! `imageops::resize` with Lanczos3, and the wall time of `vipsthumbnail -s 260x` (Debian package
//! libvips-tools); the peak memory of the first two (each measured in a process of its own, as the
//! VmHWM of /proc/self/status); and the quality of ours against `image`'s.
//!
//!     cargo bench --bench logo
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::Command;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageEncoder, RgbImage};

const RUNS: usize = 5;

fn photo(width: u32, height: u32) -> Vec<u8> {
    let image = picture(width, height);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn photo_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    picture(width, height)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Fully transparent pixels: 170 KB of PNG that once took 300 MB to decode.
fn transparent_png(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            &vec![0u8; side as usize * side as usize * 4],
            side,
            side,
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    out
}

fn picture(width: u32, height: u32) -> RgbImage {
    // Smooth gradients, fine stripes and a checkerboard: something for a filter to get wrong.
    RgbImage::from_fn(width, height, |x, y| {
        let r = (x * 255 / width) as u8;
        let g = (y * 255 / height) as u8;
        let b = if (x / 37 + y / 23) % 2 == 0 {
            220
        } else {
            (x ^ y) as u8
        };
        image::Rgb([r, g, b])
    })
}

fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn best<T>(mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = work();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.unwrap())
}

fn ours(bytes: &[u8]) -> roster::logo::Logo {
    roster::logo::process(bytes).unwrap()
}

fn image_lanczos3(bytes: &[u8]) -> image::RgbaImage {
    let decoded = image::load_from_memory(bytes).unwrap();
    let height = (f64::from(decoded.height()) * 260.0 / f64::from(decoded.width())).round() as u32;
    image::imageops::resize(&decoded, 260, height, FilterType::Lanczos3)
}

/// Runs one variant in this process and prints "milliseconds peak_kib before_kib": the peak is
/// that of the first run alone (later runs would add the allocator's leftovers), the time the
/// best of all runs.
fn child(variant: &str, path: &str) {
    let bytes = std::fs::read(path).unwrap();
    let run = |bytes: &[u8]| match variant {
        "ours" => drop(ours(bytes)),
        "image" => drop(image_lanczos3(bytes)),
        "jpeg-decoder" => {
            let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
            d.read_info().unwrap();
            d.scale(520, 390).unwrap();
            drop(d.decode().unwrap());
        }
        _ => {}
    };
    let before = peak_kib();
    let start = Instant::now();
    run(&bytes);
    let first = start.elapsed();
    let peak = peak_kib();
    let (rest, ()) = best(|| run(&bytes));
    println!(
        "{} {} {}",
        first.min(rest).as_secs_f64() * 1000.0,
        peak,
        before
    );
}

fn measure(variant: &str, path: &str) -> (f64, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--variant", variant, path])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let parts: Vec<f64> = text
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    // Peak minus what the process held before the work (the file, the runtime).
    (parts[0], (parts[1] - parts[2]) / 1024.0)
}

fn vipsthumbnail(path: &str) -> Option<f64> {
    let out_path = format!("{path}.vips.jpg");
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let status = Command::new("vipsthumbnail")
            .args(["-s", "260x", path, "-o", &out_path])
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.into_iter().reduce(f64::min)
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

fn rgb_of_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--variant") {
        child(&args[at + 1], &args[at + 2]);
        return;
    }
    let dir = std::env::temp_dir().join(format!("roster-logo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inputs = [
        (
            "4000 x 3000 baseline JPEG",
            "photo-4000x3000.jpg",
            photo(4000, 3000),
            195,
            true,
        ),
        (
            "4000 x 3000 opaque PNG",
            "photo-4000x3000.png",
            photo_png(4000, 3000),
            195,
            true,
        ),
        (
            "6300 x 6300 transparent PNG",
            "clear-6300.png",
            transparent_png(6300),
            260,
            false,
        ),
    ];
    for (label, name, bytes, height, quality) in inputs {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        println!(
            "\ninput: {label}, {} KB; best of {RUNS} runs",
            bytes.len() / 1024
        );
        report(&path.display().to_string(), &bytes, height, quality);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Times, peaks and quality for one input, expected to come out 260 x `height`.
fn report(path: &str, bytes: &[u8], height: u32, quality: bool) {
    let path = path.to_owned();
    let (ours_ms, ours_mib) = measure("ours", &path);
    let (image_ms, image_mib) = measure("image", &path);
    let vips_ms = vipsthumbnail(&path);
    if std::env::var_os("LOGO_BENCH_PARTS").is_some() && path.ends_with(".jpg") {
        let (ms, mib) = measure("jpeg-decoder", &path);
        println!("(jpeg-decoder alone at 1/4: {ms:.1} ms, peak +{mib:.1} MiB)");
    }
    println!(
        "Roster pipeline (reduced decode, fast_image_resize Lanczos3, encode):        {ours_ms:8.1} ms  peak +{ours_mib:6.1} MiB"
    );
    println!(
        "image decode + imageops::resize Lanczos3:                                   {image_ms:8.1} ms  peak +{image_mib:6.1} MiB"
    );
    match vips_ms {
        Some(ms) => println!(
            "vipsthumbnail -s 260x (wall, whole process):                                {ms:8.1} ms"
        ),
        None => println!("vipsthumbnail: not installed (apt-get install libvips-tools)"),
    }

    let logo = roster::logo::upright(bytes).unwrap();
    let reference = image_lanczos3(bytes);
    let scaled_quality = psnr(&rgb_of_rgba(&logo.rgba), &rgb_of_rgba(reference.as_raw()));
    let stored = ours(bytes);
    let stored_pixels = image::load_from_memory(&stored.bytes).unwrap().into_rgba8();
    let stored_quality = psnr(
        &rgb_of_rgba(stored_pixels.as_raw()),
        &rgb_of_rgba(reference.as_raw()),
    );

    let verdict = |ok: bool| if ok { "meets" } else { "MISSES" };
    let time_ratio = ours_ms / image_ms;
    let memory_ratio = ours_mib / image_mib;
    println!(
        "time vs image:   {time_ratio:.3}x (target <= 0.25: {})",
        verdict(time_ratio <= 0.25)
    );
    println!(
        "memory vs image: {memory_ratio:.3}x (target <= 0.20: {})",
        verdict(memory_ratio <= 0.2)
    );
    if let Some(vips) = vips_ms {
        println!(
            "time vs vipsthumbnail: {:.3}x (target <= 1: {})",
            ours_ms / vips,
            verdict(ours_ms <= vips)
        );
    }
    println!(
        "size: {} x {} (expected 260 x {height}: {})",
        logo.width,
        logo.height,
        verdict(logo.width == 260 && logo.height.abs_diff(height) <= 1)
    );
    if quality {
        println!(
            "PSNR of the scaled pixels vs image Lanczos3: {scaled_quality:.1} dB (target >= 45: {})",
            verdict(scaled_quality >= 45.0)
        );
        println!(
            "PSNR of the stored {} (after re-encoding) vs image Lanczos3: {stored_quality:.1} dB (for information)",
            stored.content_type
        );
    } else {
        let clear = logo.rgba.chunks_exact(4).all(|p| p[3] == 0);
        println!("transparency kept: {}", verdict(clear));
    }
}
