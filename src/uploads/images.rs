//! Image validation (contract-A §4.9 `validate_image_file`, with D19's fixes) and thumbnails (§4.10).
//!
//! Order of checks: empty, over 5 MB, magic bytes (JPEG/PNG/GIF only), the header's pixel count
//! (≤ 89,478,485, read without decoding), then a full decode, which both proves the file is a real
//! image (Pillow's `verify()` in the original) and yields the 300×300 thumbnail. Decoding runs on the
//! uploads' worker thread, never on the async runtime.

use std::io::Cursor;

use axum::body::Bytes;
use image::{DynamicImage, ImageReader, Limits, RgbImage, codecs::jpeg::JpegEncoder};

use crate::{
    blocking::BlockingPool,
    error::AppError,
    uploads::sniff::{ImageType, Sniffed, sniff_image},
};

/// 5 MB, as the original (5·1024·1024 bytes).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Pillow's decompression-bomb threshold, which the original enforced.
pub const MAX_PIXELS: u64 = 89_478_485;
/// Thumbnails fit in this square (aspect ratio kept, never enlarged).
pub const THUMBNAIL_SIZE: u32 = 300;
/// JPEG quality of thumbnails (the original's `create_thumbnail`).
pub const THUMBNAIL_QUALITY: u8 = 85;
/// Decoder allocation cap: an RGBA image at the pixel cap is ~342 MiB.
const MAX_DECODE_ALLOC: u64 = 400 * 1024 * 1024;

/// Why an uploaded image was refused; [`ImageRejection::message`] is the contract's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRejection {
    /// No file part at all (or an empty file input).
    NoFile,
    /// The field was sent as plain text, not as a file.
    NotAFile,
    Empty,
    TooLarge,
    NotAnImage,
    /// An image of a type that is not accepted (the detected MIME type).
    WrongType(&'static str),
    TooManyPixels,
}

impl ImageRejection {
    pub fn message(&self) -> String {
        match self {
            ImageRejection::NoFile => "No file was submitted.".into(),
            ImageRejection::NotAFile => {
                "The submitted data was not a file. Check the encoding type on the form.".into()
            }
            ImageRejection::Empty => "The submitted file is empty.".into(),
            ImageRejection::TooLarge => "Image file size cannot exceed 5MB.".into(),
            ImageRejection::NotAnImage => "Upload a valid image. The file you uploaded was either \
                not an image or a corrupted image."
                .into(),
            ImageRejection::WrongType(detected) => format!(
                "Invalid file type. Detected: {detected}. Allowed: image/jpeg, image/png, image/gif"
            ),
            ImageRejection::TooManyPixels => {
                "Image dimensions too large. Maximum pixels: 89,478,485".into()
            }
        }
    }
}

/// A validated image: its sniffed type, size, and the thumbnail (JPEG bytes).
#[derive(Debug, Clone)]
pub struct CheckedImage {
    pub kind: ImageType,
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
}

/// Validates `bytes` as an image of at most `max_bytes` and makes its thumbnail. The outer error is
/// the worker pool failing; the inner one is the verdict on the file.
pub async fn check_image(
    pool: &BlockingPool,
    bytes: Bytes,
    max_bytes: usize,
) -> Result<Result<CheckedImage, ImageRejection>, AppError> {
    let kind = match precheck(&bytes, max_bytes) {
        Ok(kind) => kind,
        Err(rejection) => return Ok(Err(rejection)),
    };
    pool.run(move || decode_and_thumbnail(&bytes, kind)).await
}

/// The size cap, then the sniffed type.
fn precheck(bytes: &[u8], max_bytes: usize) -> Result<ImageType, ImageRejection> {
    if bytes.len() > max_bytes {
        return Err(ImageRejection::TooLarge);
    }
    accepted_type(bytes)
}

/// Validates `bytes` as an image of at most `max_bytes` (the header's pixel count, then the full
/// decode) without making a thumbnail: the campaign-resource uploads, which are never listed.
pub async fn verify_image(
    pool: &BlockingPool,
    bytes: Bytes,
    max_bytes: usize,
) -> Result<Result<ImageType, ImageRejection>, AppError> {
    let kind = match precheck(&bytes, max_bytes) {
        Ok(kind) => kind,
        Err(rejection) => return Ok(Err(rejection)),
    };
    pool.run(move || decode_only(&bytes, kind)).await
}

/// Blocking: the header's dimensions, then the full decode (dropped at once).
fn decode_only(bytes: &[u8], kind: ImageType) -> Result<ImageType, ImageRejection> {
    dimensions(bytes, kind)?;
    reader(bytes, kind)
        .decode()
        .map(|_| kind)
        .map_err(|_| ImageRejection::NotAnImage)
}

/// The cheap checks on bytes already within the size cap: not empty, and sniffed as JPEG, PNG or GIF.
pub fn accepted_type(bytes: &[u8]) -> Result<ImageType, ImageRejection> {
    if bytes.is_empty() {
        return Err(ImageRejection::Empty);
    }
    match sniff_image(bytes) {
        Sniffed::Image(kind) => Ok(kind),
        Sniffed::OtherImage(mime) => Err(ImageRejection::WrongType(mime)),
        Sniffed::NotImage => Err(ImageRejection::NotAnImage),
    }
}

fn reader(bytes: &[u8], kind: ImageType) -> ImageReader<Cursor<&[u8]>> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(limits);
    reader
}

/// The header's dimensions, within the pixel cap (read before any decode).
fn dimensions(bytes: &[u8], kind: ImageType) -> Result<(u32, u32), ImageRejection> {
    let (width, height) = reader(bytes, kind)
        .into_dimensions()
        .map_err(|_| ImageRejection::NotAnImage)?;
    if width == 0 || height == 0 {
        return Err(ImageRejection::NotAnImage);
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageRejection::TooManyPixels);
    }
    Ok((width, height))
}

/// Blocking: the header's dimensions, then the full decode and the thumbnail.
pub fn decode_and_thumbnail(bytes: &[u8], kind: ImageType) -> Result<CheckedImage, ImageRejection> {
    let (width, height) = dimensions(bytes, kind)?;
    let image = reader(bytes, kind)
        .decode()
        .map_err(|_| ImageRejection::NotAnImage)?;
    let thumbnail = thumbnail_jpeg(&image).map_err(|_| ImageRejection::NotAnImage)?;
    Ok(CheckedImage {
        kind,
        width,
        height,
        thumbnail,
    })
}

/// Fits the image in 300×300 (never enlarging), flattens transparency onto white and encodes a
/// quality-85 JPEG.
pub fn thumbnail_jpeg(image: &DynamicImage) -> Result<Vec<u8>, image::ImageError> {
    let small = if image.width() > THUMBNAIL_SIZE || image.height() > THUMBNAIL_SIZE {
        image.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
    } else {
        image.clone()
    };
    let rgba = small.to_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = px.0;
        let alpha = u16::from(a);
        let blend = |c: u8| -> u8 {
            let value = (u16::from(c) * alpha + 255 * (255 - alpha) + 127) / 255;
            u8::try_from(value).unwrap_or(u8::MAX)
        };
        out.0 = [blend(r), blend(g), blend(b)];
    }
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY).encode_image(&rgb)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder, Rgba, RgbaImage, codecs::png::PngEncoder};

    use super::*;

    fn png(width: u32, height: u32, pixel: [u8; 4]) -> Vec<u8> {
        let img = RgbaImage::from_pixel(width, height, Rgba(pixel));
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgba8)
            .expect("png");
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn thumbnails_fit_and_flatten_on_white() {
        let checked =
            decode_and_thumbnail(&png(900, 450, [0, 0, 0, 0]), ImageType::Png).expect("valid png");
        assert_eq!((checked.width, checked.height), (900, 450));
        let thumb = image::load_from_memory(&checked.thumbnail).expect("jpeg");
        assert_eq!((thumb.width(), thumb.height()), (300, 150));
        let px = thumb.to_rgb8().get_pixel(10, 10).0;
        assert!(
            px.iter().all(|c| *c > 245),
            "transparent became white: {px:?}"
        );
        // Small images are not enlarged.
        let checked = decode_and_thumbnail(&png(40, 20, [255, 0, 0, 255]), ImageType::Png)
            .expect("valid png");
        let thumb = image::load_from_memory(&checked.thumbnail).expect("jpeg");
        assert_eq!((thumb.width(), thumb.height()), (40, 20));
    }

    #[test]
    fn pixel_cap_is_read_from_the_header() {
        // A PNG header claiming 10000×10000 pixels, with no image data at all.
        let mut bytes = png(1, 1, [0, 0, 0, 255]);
        bytes[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        // The IHDR chunk's CRC covers its type and data (bytes 12..29).
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            decode_and_thumbnail(&bytes, ImageType::Png).err(),
            Some(ImageRejection::TooManyPixels)
        );
    }

    #[test]
    fn truncated_images_are_not_images() {
        let bytes = png(64, 64, [1, 2, 3, 255]);
        let cut = &bytes[..bytes.len() / 2];
        assert_eq!(
            decode_and_thumbnail(cut, ImageType::Png).err(),
            Some(ImageRejection::NotAnImage)
        );
    }
}
