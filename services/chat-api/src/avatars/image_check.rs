//! Turning an upload into an avatar: the bytes must be one whole PNG, JPEG or
//! WebP image (judged by content, never by the file name or the declared
//! type), with nothing after its end; it is decoded within limits and
//! re-encoded as a 256×256 WebP from its pixels alone, so no metadata (EXIF,
//! text chunks, ICC) and no smuggled bytes survive.

use std::io::Cursor;

use image::{ExtendedColorType, ImageFormat, ImageReader, Limits, imageops::FilterType};

/// An avatar's side in pixels.
pub const SIDE: u32 = 256;
/// The largest upload taken.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The largest picture decoded (a small file may claim huge dimensions).
const MAX_DIMENSION: u32 = 8192;
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("not a PNG, JPEG or WebP image")]
    UnknownFormat,
    #[error("the image has bytes after its end")]
    TrailingData,
    #[error("the image could not be read")]
    Undecodable,
    #[error("the image is too large")]
    TooLarge,
}

/// The format the bytes really are, if one we take.
fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => Some(f),
        _ => None,
    }
}

/// Where the image's own data ends, by its container: PNG's IEND chunk,
/// WebP's RIFF size, JPEG's final EOI marker. `None` when the structure is broken.
fn image_end(format: ImageFormat, bytes: &[u8]) -> Option<usize> {
    match format {
        ImageFormat::Png => png_end(bytes),
        ImageFormat::WebP => {
            let size = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
            // RIFF pads odd-sized payloads to even.
            let end = 8usize.checked_add(usize::try_from(size).ok()?)?;
            Some(end + (end % 2))
        }
        ImageFormat::Jpeg => jpeg_end(bytes),
        _ => None,
    }
}

/// Walks a JPEG's segments from SOI to its EOI: each marker segment by its
/// length, and each scan's entropy-coded data up to the next marker (a 0xFF
/// there is followed by 0x00, a restart marker or fill).
fn jpeg_end(bytes: &[u8]) -> Option<usize> {
    let byte = |i: usize| bytes.get(i).copied();
    if bytes.get(0..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        if byte(at)? != 0xFF {
            return None;
        }
        while byte(at + 1)? == 0xFF {
            at += 1;
        }
        let marker = byte(at + 1)?;
        at += 2;
        match marker {
            0xD9 => return Some(at),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {
                let len = usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?]));
                if len < 2 {
                    return None;
                }
                at = at.checked_add(len)?;
                if marker == 0xDA {
                    loop {
                        if byte(at)? != 0xFF {
                            at += 1;
                            continue;
                        }
                        match byte(at + 1)? {
                            0x00 | 0xD0..=0xD7 => at += 2,
                            0xFF => at += 1,
                            _ => break,
                        }
                    }
                }
            }
        }
    }
}

fn png_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 8; // the signature
    loop {
        let len =
            usize::try_from(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?)).ok()?;
        let kind = bytes.get(at + 4..at + 8)?;
        let next = at.checked_add(12)?.checked_add(len)?;
        if next > bytes.len() {
            return None;
        }
        if kind == b"IEND" {
            return Some(next);
        }
        at = next;
    }
}

/// The 256×256 WebP made from `bytes`, or why not. CPU-bound: run it off
/// the async workers.
pub fn to_avatar(bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    if bytes.len() > MAX_BYTES {
        return Err(Refused::TooLarge);
    }
    let format = sniff(bytes).ok_or(Refused::UnknownFormat)?;
    match image_end(format, bytes) {
        Some(end) if end == bytes.len() => {}
        Some(end) if end < bytes.len() => return Err(Refused::TrailingData),
        _ => return Err(Refused::Undecodable),
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => Refused::TooLarge,
        _ => Refused::Undecodable,
    })?;
    // Centre crop to a square, then scale.
    let square = picture
        .resize_to_fill(SIDE, SIDE, FilterType::Lanczos3)
        .to_rgba8();
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(square.as_raw(), SIDE, SIDE, ExtendedColorType::Rgba8)
        .map_err(|_| Refused::Undecodable)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("png");
        out.into_inner()
    }

    #[test]
    fn a_png_becomes_a_square_webp() {
        let webp = to_avatar(&png(640, 300)).expect("avatar");
        assert_eq!(
            image::guess_format(&webp).expect("format"),
            ImageFormat::WebP
        );
        let back = image::load_from_memory(&webp).expect("decode");
        assert_eq!((back.width(), back.height()), (SIDE, SIDE));
    }

    #[test]
    fn trailing_bytes_and_other_formats_are_refused() {
        let mut tailed = png(20, 20);
        tailed.extend_from_slice(b"\x7fELF\x02\x01\x01\0payload");
        assert_eq!(to_avatar(&tailed), Err(Refused::TrailingData));
        assert_eq!(
            to_avatar(b"<!doctype html><script>alert(1)</script>"),
            Err(Refused::UnknownFormat)
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(to_avatar(gif), Err(Refused::UnknownFormat));
        let mut cut = png(20, 20);
        cut.truncate(cut.len() - 20);
        assert_eq!(to_avatar(&cut), Err(Refused::Undecodable));
    }

    #[test]
    fn a_jpeg_ends_at_its_own_eoi_even_when_the_tail_holds_one() {
        let img =
            image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 40]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).expect("jpeg");
        let jpeg = out.into_inner();
        assert_eq!(jpeg_end(&jpeg), Some(jpeg.len()));
        assert!(to_avatar(&jpeg).is_ok());
        // A tail that itself ends like a JPEG is still a tail.
        let mut tailed = jpeg.clone();
        tailed.extend_from_slice(b"\x7fELF\x02\x01\x01\0payload\xFF\xD9");
        assert_eq!(to_avatar(&tailed), Err(Refused::TrailingData));
        assert_eq!(jpeg_end(&jpeg[..jpeg.len() - 2]), None);
    }

    #[test]
    fn a_huge_claimed_size_is_refused_before_decoding() {
        // A valid 1×1 PNG whose header claims 100000×100000.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(to_avatar(&bomb).is_err());
    }
}
