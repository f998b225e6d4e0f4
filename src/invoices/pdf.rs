//! The invoice as an A4 PDF (krilla): the original's order of sections and colours (contract-B §7.2)
//! with the ₹ sign in an embedded, subset Noto Sans, the seller block, tax lines and the amount in
//! words. Pure and CPU-bound: it runs on the documents pool, never on the async runtime.
//!
//! Coordinates are points from the top-left corner; text is drawn at its baseline. Widths are
//! measured from the font's advances (for right-aligned and centred text and for truncation).

use std::sync::OnceLock;

use krilla::{
    Document,
    color::rgb,
    geom::{PathBuilder, Point, Rect, Size, Transform},
    image::Image,
    metadata::Metadata,
    num::NormalizedF32,
    page::PageSettings,
    paint::{Fill, Stroke},
    surface::Surface,
    text::{Font, TextDirection},
};

use crate::invoices::{
    layout::{Align, CONTENT_W, GREY, MARGIN, Op, PAGE_H, PAGE_W, layout},
    model::Invoice,
};

pub const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
pub const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");

/// One face: krilla's font (embedded and subset on output) and its metrics for measuring.
struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

struct Faces {
    regular: Face,
    bold: Face,
}

fn load(data: &'static [u8]) -> Option<Face> {
    Some(Face {
        font: Font::new(data.into(), 0)?,
        metrics: ttf_parser::Face::parse(data, 0).ok()?,
    })
}

/// Parsed once per process.
fn faces() -> Result<&'static Faces, String> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some(Faces {
                regular: load(REGULAR_TTF)?,
                bold: load(BOLD_TTF)?,
            })
        })
        .as_ref()
        .ok_or_else(|| "the embedded fonts do not parse".to_string())
}

/// Whether the shipped fonts draw `c` (anything else is printed as `?`, never as a missing-glyph box).
pub fn has_glyph(c: char) -> bool {
    faces().is_ok_and(|f| {
        f.regular.metrics.glyph_index(c).is_some() && f.bold.metrics.glyph_index(c).is_some()
    })
}

impl Face {
    fn width(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.metrics.units_per_em());
        let advance: u32 = text
            .chars()
            .filter_map(|c| self.metrics.glyph_index(c))
            .filter_map(|g| self.metrics.glyph_hor_advance(g))
            .map(u32::from)
            .sum();
        advance as f32 * size / units
    }
}

/// The page being drawn, its cursor (`y`: the next line's top), and the fonts.
struct Writer<'a> {
    faces: &'a Faces,
}

fn colour((r, g, b): (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: colour(c).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

impl Writer<'_> {
    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        }
    }

    /// Replaces characters the fonts lack, and cuts the text with `…` to fit `max` points.
    fn fit(&self, text: &str, size: f32, bold: bool, max: f32) -> String {
        let face = self.face(bold);
        let clean: String = text
            .chars()
            .map(|c| {
                if c.is_control() {
                    ' '
                } else if face.metrics.glyph_index(c).is_some() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        if face.width(&clean, size) <= max {
            return clean;
        }
        let ellipsis = face.width("…", size);
        let mut out = String::new();
        let mut used = 0.0;
        for c in clean.chars() {
            let w = face.width(c.encode_utf8(&mut [0; 4]), size);
            if used + w + ellipsis > max {
                break;
            }
            used += w;
            out.push(c);
        }
        out.push('…');
        out
    }

    /// Draws one line of text with its baseline at `y`, aligned in `[x, x + w]`.
    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        s: &mut Surface<'_>,
        text: &str,
        (x, y, w): (f32, f32, f32),
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        align: Align,
    ) {
        let text = self.fit(text, size, bold, w);
        let face = self.face(bold);
        let width = face.width(&text, size);
        let start = match align {
            Align::Left => x,
            Align::Centre => x + (w - width) / 2.0,
            Align::Right => x + w - width,
        };
        s.set_fill(Some(fill(color)));
        s.draw_text(
            Point::from_xy(start, y),
            face.font.clone(),
            size,
            &text,
            false,
            TextDirection::LeftToRight,
        );
    }

    fn rect(&self, s: &mut Surface<'_>, (x, y, w, h): (f32, f32, f32, f32), color: (u8, u8, u8)) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        if let Some(path) = path.finish() {
            s.set_stroke(None);
            s.set_fill(Some(fill(color)));
            s.draw_path(&path);
        }
    }

    fn stroke_rect(
        &self,
        s: &mut Surface<'_>,
        (x, y, w, h): (f32, f32, f32, f32),
        color: (u8, u8, u8),
        width: f32,
    ) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        if let Some(path) = path.finish() {
            s.set_fill(None);
            s.set_stroke(Some(Stroke {
                paint: colour(color).into(),
                width,
                ..Default::default()
            }));
            s.draw_path(&path);
            s.set_stroke(None);
        }
    }

    fn line(
        &self,
        s: &mut Surface<'_>,
        (x1, y1, x2, y2): (f32, f32, f32, f32),
        color: (u8, u8, u8),
        width: f32,
    ) {
        let mut path = PathBuilder::new();
        path.move_to(x1, y1);
        path.line_to(x2, y2);
        if let Some(path) = path.finish() {
            s.set_fill(None);
            s.set_stroke(Some(Stroke {
                paint: colour(color).into(),
                width,
                ..Default::default()
            }));
            s.draw_path(&path);
            s.set_stroke(None);
        }
    }
}

/// Renders `invoice` as PDF bytes.
pub fn render(invoice: &Invoice) -> Result<Vec<u8>, String> {
    let faces = faces()?;
    let w = Writer { faces };
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("Invoice {}", invoice.invoice_number))
            .creator(invoice.seller.name.clone()),
    );
    let settings = || PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("bad page size".to_string());
    let logo = invoice.seller.logo.as_deref().and_then(logo_image);
    // Lay out first (what goes on which page), then draw each page.
    let measure = |text: &str, size: f32, bold: bool| w.face(bold).width(text, size);
    let pages = layout(invoice, &measure);
    for (index, page) in pages.iter().enumerate() {
        let mut pdf_page = document.start_page_with(settings()?);
        let mut surface = pdf_page.surface();
        if index == 0
            && let Some(image) = &logo
        {
            draw_logo(&mut surface, image);
        }
        for op in &page.ops {
            draw(op, &w, &mut surface);
        }
        if pages.len() > 1 {
            let n = format!("Page {} of {}", index + 1, pages.len());
            w.text(
                &mut surface,
                &n,
                (MARGIN, PAGE_H - MARGIN / 2.0, CONTENT_W),
                8.0,
                false,
                GREY,
                Align::Right,
            );
        }
        surface.finish();
        pdf_page.finish();
    }
    document.finish().map_err(|e| format!("{e:?}"))
}

fn logo_image(bytes: &[u8]) -> Option<Image> {
    let data = bytes.to_vec();
    if bytes.starts_with(b"\x89PNG") {
        Image::from_png(data.into(), true).ok()
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        Image::from_jpeg(data.into(), true).ok()
    } else {
        None
    }
}

/// The logo at the top-left, 40 pt high (at most 120 pt wide).
fn draw_logo(surface: &mut Surface<'_>, image: &Image) {
    let (px_w, px_h) = image.size();
    if px_w == 0 || px_h == 0 {
        return;
    }
    let h = 40.0f32;
    let w = (h * px_w as f32 / px_h as f32).min(120.0);
    let h = w * px_h as f32 / px_w as f32;
    if let Some(size) = Size::from_wh(w, h) {
        surface.push_transform(&Transform::from_translate(MARGIN, MARGIN - 10.0));
        surface.draw_image(image.clone(), size);
        surface.pop();
    }
}

/// Draws one placed operation.
fn draw(op: &Op, w: &Writer<'_>, s: &mut Surface<'_>) {
    {
        match op {
            Op::Text {
                text,
                at,
                size,
                bold,
                color,
                align,
            } => w.text(s, text, *at, *size, *bold, *color, *align),
            Op::Rect(r, c) => w.rect(s, *r, *c),
            Op::Box(r, c, width) => w.stroke_rect(s, *r, *c, *width),
            Op::Line(l, c, width) => w.line(s, *l, *c, *width),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoices::{
        model::{BillTo, Line, Payment, Seller},
        tax::breakdown,
    };

    fn invoice(logo: Option<Vec<u8>>, lines: usize) -> Invoice {
        let lines: Vec<Line> = (0..lines)
            .map(|i| Line {
                name: format!("Line {i} Чайка"),
                kind: "Package".into(),
                sac: "998361".into(),
                quantity: 1,
                unit_paise: 100_000,
                amount_paise: 100_000,
            })
            .collect();
        let total = 100_000 * lines.len() as i64;
        Invoice {
            seller: Seller {
                name: "Election Cart".into(),
                gstin: "N/A".into(),
                logo,
                ..Default::default()
            },
            invoice_number: "INV-1".into(),
            order_number: "EC-1".into(),
            invoice_date: "November 25, 2026".into(),
            order_date: "November 25, 2026".into(),
            place_of_supply: "N/A".into(),
            bill_to: BillTo::default(),
            lines,
            tax: breakdown(total, 1800, true),
            total_paise: total,
            payment: Payment {
                method: "N/A".into(),
                transaction_id: "N/A".into(),
                status: "Paid".into(),
                date: "N/A".into(),
                amount: "N/A".into(),
            },
        }
    }

    fn count(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    }

    #[test]
    fn glyphs_logo_and_page_breaks() {
        assert!(has_glyph('₹') && has_glyph('é') && has_glyph('…'));
        assert!(!has_glyph('Ч'), "outside the shipped subset: printed as ?");

        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(8, 4)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        let with_logo = render(&invoice(Some(png), 3)).expect("render");
        // krilla writes dictionaries without spaces (`/Subtype/Image`).
        assert_eq!(count(&with_logo, b"/Subtype/Image"), 1, "the logo is drawn");
        let plain = render(&invoice(Some(b"not an image".to_vec()), 3)).expect("render");
        assert_eq!(
            count(&plain, b"/Subtype/Image"),
            0,
            "a bad logo is left out"
        );

        let pages = |pdf: &[u8]| count(pdf, b"/Type/Page") - count(pdf, b"/Type/Pages");
        assert_eq!(pages(&plain), 1);
        let long = render(&invoice(None, 80)).expect("render");
        assert!(pages(&long) >= 3, "80 lines break across pages");
    }
}
