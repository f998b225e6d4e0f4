//! Document checks for campaign-resource uploads (D19, contract-B §6.4, issue 10): the bytes decide
//! what a file is — never its name or the client's content type — and each accepted type is checked
//! by its own structure: a PDF starts `%PDF-` and ends with an `%%EOF` marker; a DOCX is a ZIP whose
//! central directory lists `word/document.xml` and `[Content_Types].xml`; a DOC is an OLE compound
//! file with a `WordDocument` stream. Executables, scripts, HTML, SVG and PHP match none of these,
//! however they are named. Nothing scans for byte patterns inside a document, so ordinary PDFs and
//! DOCX files are never refused for containing `MZ` or `#!` (the original's Q49).

use std::io::Cursor;

/// The document types a field may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    Pdf,
    Docx,
    Doc,
}

impl DocumentType {
    pub const ALL: [DocumentType; 3] = [DocumentType::Pdf, DocumentType::Docx, DocumentType::Doc];

    /// The extension stored names get (and the contract's `allowed_extensions` spell, with a dot).
    pub fn extension(self) -> &'static str {
        match self {
            DocumentType::Pdf => "pdf",
            DocumentType::Docx => "docx",
            DocumentType::Doc => "doc",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocumentType::Doc => "application/msword",
        }
    }

    /// `pdf`, `.PDF`, ` .docx ` → the type (D7: with or without the leading dot).
    pub fn from_extension(extension: &str) -> Option<Self> {
        let extension = extension
            .trim()
            .trim_start_matches('.')
            .to_ascii_lowercase();
        DocumentType::ALL
            .into_iter()
            .find(|t| t.extension() == extension)
    }
}

/// Why a document was refused; [`DocumentRejection::message`] is what the customer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentRejection {
    Empty,
    TooLarge {
        max_mb: u64,
    },
    /// Not a document of an allowed type (`detected`: what the bytes are, as a MIME type).
    WrongType {
        detected: &'static str,
        allowed: Vec<DocumentType>,
    },
    /// It starts like an allowed type but its structure is broken (a truncated PDF, a ZIP whose
    /// directory cannot be read).
    Damaged(DocumentType),
}

impl DocumentRejection {
    pub fn message(&self) -> String {
        match self {
            DocumentRejection::Empty => "The submitted file is empty.".into(),
            DocumentRejection::TooLarge { max_mb } => {
                format!("Document file size cannot exceed {max_mb}MB.")
            }
            DocumentRejection::WrongType { detected, allowed } => format!(
                "Invalid file type. Detected: {detected}. Expected: {}",
                allowed
                    .iter()
                    .map(|t| t.mime())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DocumentRejection::Damaged(kind) => format!(
                "Invalid document: the {} file is damaged or incomplete",
                kind.extension().to_ascii_uppercase()
            ),
        }
    }
}

const PDF_MAGIC: &[u8] = b"%PDF-";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Where a PDF's last `%%EOF` must be: within this many bytes of the end (writers append a little
/// whitespace, some a few hundred bytes of padding).
const PDF_EOF_WINDOW: usize = 2048;

/// What the bytes are: an accepted document type after its structural check, or what they look
/// like otherwise.
fn identify(bytes: &[u8]) -> Result<DocumentType, Identified> {
    if bytes.starts_with(PDF_MAGIC) {
        let tail = &bytes[bytes.len().saturating_sub(PDF_EOF_WINDOW)..];
        return if tail.windows(5).any(|w| w == b"%%EOF") {
            Ok(DocumentType::Pdf)
        } else {
            Err(Identified::Damaged(DocumentType::Pdf))
        };
    }
    if bytes.starts_with(ZIP_MAGIC) {
        let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
            return Err(Identified::Damaged(DocumentType::Docx));
        };
        let has = |name: &str| archive.index_for_name(name).is_some();
        return if has("word/document.xml") && has("[Content_Types].xml") {
            Ok(DocumentType::Docx)
        } else {
            Err(Identified::Other("application/zip"))
        };
    }
    if bytes.starts_with(OLE_MAGIC) {
        let Ok(file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
            return Err(Identified::Damaged(DocumentType::Doc));
        };
        return if file.is_stream("/WordDocument") {
            Ok(DocumentType::Doc)
        } else {
            Err(Identified::Other("application/x-ole-storage"))
        };
    }
    Err(Identified::Other(
        infer::get(bytes).map_or_else(|| guess_text(bytes), |kind| kind.mime_type()),
    ))
}

enum Identified {
    Damaged(DocumentType),
    Other(&'static str),
}

/// A name for bytes `infer` does not know, for the message only.
fn guess_text(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    if text.contains("<?php") {
        "text/x-php"
    } else if text.contains("<svg") {
        "image/svg+xml"
    } else if text.contains("<html") || text.contains("<!doctype") || text.contains("<script") {
        "text/html"
    } else if std::str::from_utf8(head).is_ok() {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// Checks an uploaded document: not empty, at most `max_bytes`, and one of `allowed` by its bytes
/// and structure. The caller has read the body up to `max_bytes + 1` (never more).
pub fn check_document(
    bytes: &[u8],
    allowed: &[DocumentType],
    max_bytes: u64,
) -> Result<DocumentType, DocumentRejection> {
    if bytes.is_empty() {
        return Err(DocumentRejection::Empty);
    }
    if bytes.len() as u64 > max_bytes {
        return Err(DocumentRejection::TooLarge {
            max_mb: max_bytes.div_ceil(1024 * 1024),
        });
    }
    let allowed = if allowed.is_empty() {
        DocumentType::ALL.to_vec()
    } else {
        allowed.to_vec()
    };
    match identify(bytes) {
        Ok(kind) if allowed.contains(&kind) => Ok(kind),
        Ok(kind) => Err(DocumentRejection::WrongType {
            detected: kind.mime(),
            allowed,
        }),
        Err(Identified::Damaged(kind)) if allowed.contains(&kind) => {
            Err(DocumentRejection::Damaged(kind))
        }
        Err(Identified::Damaged(kind)) => Err(DocumentRejection::WrongType {
            detected: kind.mime(),
            allowed,
        }),
        Err(Identified::Other(detected)) => Err(DocumentRejection::WrongType { detected, allowed }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const MB: u64 = 1024 * 1024;

    /// A small but complete PDF, with bytes a naive scanner would call "malicious" (Q49).
    fn pdf() -> Vec<u8> {
        let mut out =
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                .to_vec();
        out.extend_from_slice(b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n");
        out.extend_from_slice(
            b"3 0 obj << /Length 12 >> stream\nMZ #! <script\nendstream endobj\n",
        );
        out.extend_from_slice(b"trailer << /Root 1 0 R >>\n%%EOF\n");
        out
    }

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for name in names {
            writer.start_file(*name, options).expect("start");
            writer
                .write_all(b"<?xml version=\"1.0\"?><x/>")
                .expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    fn docx() -> Vec<u8> {
        zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
    }

    fn doc() -> Vec<u8> {
        let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("cfb");
        file.create_stream("/WordDocument")
            .expect("stream")
            .write_all(&[0xEC, 0xA5, 0xC1, 0x00])
            .expect("write");
        file.flush().expect("flush");
        file.into_inner().into_inner()
    }

    #[test]
    fn real_documents_pass_whatever_they_contain() {
        assert_eq!(check_document(&pdf(), &[], 20 * MB), Ok(DocumentType::Pdf));
        assert_eq!(
            check_document(&docx(), &[], 20 * MB),
            Ok(DocumentType::Docx)
        );
        assert_eq!(check_document(&doc(), &[], 20 * MB), Ok(DocumentType::Doc));
        // A field may narrow the types.
        let only_pdf = [DocumentType::Pdf];
        assert!(matches!(
            check_document(&docx(), &only_pdf, 20 * MB),
            Err(DocumentRejection::WrongType { .. })
        ));
    }

    #[test]
    fn documents_made_by_a_word_processor_pass() {
        // LibreOffice Writer's output (tests/fixtures/README.md): a 9-page PDF, a DOCX, a DOC.
        let pdf = include_bytes!("../../tests/fixtures/manifesto.pdf");
        let docx = include_bytes!("../../tests/fixtures/manifesto.docx");
        let doc = include_bytes!("../../tests/fixtures/manifesto.doc");
        assert_eq!(check_document(pdf, &[], 20 * MB), Ok(DocumentType::Pdf));
        assert_eq!(check_document(docx, &[], 20 * MB), Ok(DocumentType::Docx));
        assert_eq!(check_document(doc, &[], 20 * MB), Ok(DocumentType::Doc));
    }

    #[test]
    fn the_hostile_battery_is_refused() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("ELF", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec()),
            ("MZ", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec()),
            ("PHP", b"<?php system($_GET['c']); ?>".to_vec()),
            ("HTML", b"<!DOCTYPE html><script>alert(1)</script>".to_vec()),
            (
                "SVG",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            ),
            ("PNG", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
            ("zip", zip_with(&["evil.sh", "readme.txt"])),
            ("truncated PDF", pdf()[..60].to_vec()),
            ("broken zip", b"PK\x03\x04garbage".to_vec()),
            ("broken OLE", [OLE_MAGIC, b"garbage"].concat()),
        ];
        for (name, bytes) in cases {
            let result = check_document(&bytes, &[], 20 * MB);
            assert!(result.is_err(), "{name} accepted");
            let message = result.unwrap_err().message();
            assert!(!message.is_empty(), "{name}");
        }
        let php = check_document(b"<?php echo 1; ?>", &[], MB).unwrap_err();
        assert_eq!(
            php.message(),
            "Invalid file type. Detected: text/x-php. Expected: application/pdf, \
             application/vnd.openxmlformats-officedocument.wordprocessingml.document, application/msword"
        );
    }

    #[test]
    fn the_cap_is_exact() {
        let mut big = pdf();
        let cap = big.len() as u64;
        assert!(check_document(&big, &[], cap).is_ok());
        big.insert(10, b' ');
        assert_eq!(
            check_document(&big, &[], cap),
            Err(DocumentRejection::TooLarge { max_mb: 1 })
        );
        assert_eq!(
            DocumentRejection::TooLarge { max_mb: 20 }.message(),
            "Document file size cannot exceed 20MB."
        );
    }

    #[test]
    fn extensions_with_or_without_a_dot() {
        assert_eq!(
            DocumentType::from_extension(".PDF"),
            Some(DocumentType::Pdf)
        );
        assert_eq!(
            DocumentType::from_extension("docx"),
            Some(DocumentType::Docx)
        );
        assert_eq!(
            DocumentType::from_extension(" .doc "),
            Some(DocumentType::Doc)
        );
        assert_eq!(DocumentType::from_extension(".exe"), None);
    }
}
