//! What a file really is, from its magic bytes (D19, with `infer`). The client's content type and file
//! name are never consulted.

/// The image types product images may have (contract-A §4.9: JPEG, PNG, GIF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    Jpeg,
    Png,
    Gif,
}

impl ImageType {
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Gif => "image/gif",
        }
    }

    /// The extension stored names get.
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Jpeg => "jpg",
            ImageType::Png => "png",
            ImageType::Gif => "gif",
        }
    }

    /// The type a stored name's extension stands for (`jpeg` from imported names too).
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension {
            "jpg" | "jpeg" => Some(ImageType::Jpeg),
            "png" => Some(ImageType::Png),
            "gif" => Some(ImageType::Gif),
            _ => None,
        }
    }

    pub fn format(self) -> image::ImageFormat {
        match self {
            ImageType::Jpeg => image::ImageFormat::Jpeg,
            ImageType::Png => image::ImageFormat::Png,
            ImageType::Gif => image::ImageFormat::Gif,
        }
    }
}

/// The verdict on a file's first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// An accepted image type.
    Image(ImageType),
    /// An image, but of a type that is not accepted (its detected MIME type).
    OtherImage(&'static str),
    /// Not an image (PDF, HTML, SVG, executables, unknown bytes…).
    NotImage,
}

/// Sniffs the leading bytes. SVG and HTML are text, never recognised as images.
pub fn sniff_image(bytes: &[u8]) -> Sniffed {
    match infer::get(bytes) {
        Some(kind) if kind.matcher_type() == infer::MatcherType::Image => match kind.mime_type() {
            "image/jpeg" => Sniffed::Image(ImageType::Jpeg),
            "image/png" => Sniffed::Image(ImageType::Png),
            "image/gif" => Sniffed::Image(ImageType::Gif),
            other => Sniffed::OtherImage(other),
        },
        _ => Sniffed::NotImage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Sniffed::Image(ImageType::Png)
        );
        assert_eq!(
            sniff_image(b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
            Sniffed::Image(ImageType::Jpeg)
        );
        assert_eq!(
            sniff_image(b"GIF89a\x01\0\x01\0"),
            Sniffed::Image(ImageType::Gif)
        );
        assert_eq!(
            sniff_image(b"RIFF\0\0\0\0WEBPVP8 "),
            Sniffed::OtherImage("image/webp")
        );
        for not_image in [
            b"%PDF-1.7\n".as_slice(),
            b"<!DOCTYPE html><script>alert(1)</script>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0",
            b"",
        ] {
            assert_eq!(sniff_image(not_image), Sniffed::NotImage);
        }
    }
}
