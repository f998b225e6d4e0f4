//! Where each section of the invoice goes (contract-B §7.2's order and colours): a flow of drawing
//! operations, top to bottom, that starts a new page when a block does not fit (the items table
//! repeats its header there).

use crate::invoices::{model::Invoice, words};

/// A4 in points, and the original's 0.75 in margins.
pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN: f32 = 54.0;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Lowest baseline before a new page starts.
pub const BOTTOM: f32 = PAGE_H - MARGIN;

pub const BLUE: (u8, u8, u8) = (0x1a, 0x56, 0xdb);
pub const TITLE: (u8, u8, u8) = (0x37, 0x41, 0x51);
pub const HEADING: (u8, u8, u8) = (0x1f, 0x29, 0x37);
pub const PURPLE: (u8, u8, u8) = (0x7c, 0x3a, 0xed);
pub const LIGHT_PURPLE: (u8, u8, u8) = (0xed, 0xe9, 0xfe);
pub const STRIPE: (u8, u8, u8) = (0xf3, 0xf4, 0xf6);
pub const GRID: (u8, u8, u8) = (0xd1, 0xd5, 0xdb);
pub const GREY: (u8, u8, u8) = (0x6b, 0x72, 0x80);
pub const BLACK: (u8, u8, u8) = (0, 0, 0);
pub const WHITE: (u8, u8, u8) = (0xff, 0xff, 0xff);

#[derive(Clone, Copy, PartialEq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// A drawing operation placed on a page.
pub enum Op {
    Text {
        text: String,
        at: (f32, f32, f32),
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        align: Align,
    },
    Rect((f32, f32, f32, f32), (u8, u8, u8)),
    Box((f32, f32, f32, f32), (u8, u8, u8), f32),
    Line((f32, f32, f32, f32), (u8, u8, u8), f32),
}

/// The items table's columns: title, width, alignment of the body cells.
const COLUMNS: [(&str, f32, Align); 6] = [
    ("Item", 193.28, Align::Left),
    ("Type", 58.0, Align::Centre),
    ("SAC", 46.0, Align::Centre),
    ("Qty", 30.0, Align::Centre),
    ("Unit Price", 80.0, Align::Right),
    ("Amount", 80.0, Align::Right),
];
const ROW_H: f32 = 18.0;
const PAD: f32 = 5.0;

#[derive(Default)]
pub struct Page {
    pub ops: Vec<Op>,
}

/// Places the sections top to bottom, starting a new page when one does not fit.
struct Flow<'a> {
    pages: &'a mut Vec<Page>,
    /// The top of the next block on the current page.
    y: f32,
}

impl Flow<'_> {
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` points, on a new page if needed.
    fn need(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Page::default());
            self.y = MARGIN;
        }
    }

    /// A line of text `size` high, then `gap` below it.
    #[allow(clippy::too_many_arguments)]
    fn text_line(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        align: Align,
        gap: f32,
    ) {
        self.need(size * 1.3);
        let baseline = self.y + size;
        self.page().ops.push(Op::Text {
            text: text.to_string(),
            at: (MARGIN, baseline, CONTENT_W),
            size,
            bold,
            color,
            align,
        });
        self.y += size * 1.3 + gap;
    }

    fn push(&mut self, op: Op) {
        self.page().ops.push(op);
    }
}

/// A table cell's text in the row at `top`, padded inside `[x, x + width]`.
fn cell(
    text: &str,
    (x, top, width): (f32, f32, f32),
    bold: bool,
    color: (u8, u8, u8),
    align: Align,
    size: f32,
) -> Op {
    Op::Text {
        text: text.to_string(),
        at: (x + PAD, top + ROW_H / 2.0 + size * 0.36, width - 2.0 * PAD),
        size,
        bold,
        color,
        align,
    }
}

/// The width of a text in points at a size, regular or bold (the renderer's font metrics).
pub type Measure<'a> = &'a dyn Fn(&str, f32, bool) -> f32;

/// `text` broken into lines no wider than `width` (at spaces; a longer word stands alone).
fn wrap(text: &str, width: f32, size: f32, bold: bool, measure: Measure<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if !current.is_empty() && measure(&candidate, size, bold) > width {
            lines.push(std::mem::take(&mut current));
            current = word.to_string();
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// A column of lines at `x` (width `w`) from `top`: its operations and its height.
/// A line of a text column: text, size, bold, colour.
type ColumnLine = (String, f32, bool, (u8, u8, u8));

fn column(top: f32, (x, w): (f32, f32), lines: &[ColumnLine]) -> (Vec<Op>, f32) {
    let mut ops = Vec::new();
    let mut y = top;
    for (text, size, bold, color) in lines {
        ops.push(Op::Text {
            text: text.clone(),
            at: (x, y + size, w),
            size: *size,
            bold: *bold,
            color: *color,
            align: Align::Left,
        });
        y += size * 1.3;
    }
    (ops, y - top)
}

/// The invoice's pages, each a list of drawing operations.
pub fn layout(invoice: &Invoice, measure: Measure<'_>) -> Vec<Page> {
    let mut pages = vec![Page::default()];
    let mut f = Flow {
        pages: &mut pages,
        y: MARGIN,
    };
    let seller = &invoice.seller;
    // 1. Header: the seller's name, the tagline, the seller block.
    f.text_line(&seller.name, 20.0, true, BLUE, Align::Centre, 2.0);
    f.text_line(
        "Your Complete Election Campaign Solution",
        10.0,
        false,
        BLACK,
        Align::Left,
        2.0,
    );
    for line in &seller.address {
        f.text_line(line, 9.0, false, TITLE, Align::Left, 0.0);
    }
    let mut ids = format!("GSTIN: {}", seller.gstin);
    if !seller.state.is_empty() {
        ids.push_str(&format!("   State: {}", seller.state));
    }
    f.text_line(&ids, 9.0, true, TITLE, Align::Left, 0.0);
    let contact: Vec<String> = [("Phone", &seller.phone), ("Email", &seller.email)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    if !contact.is_empty() {
        f.text_line(&contact.join("   "), 9.0, false, TITLE, Align::Left, 0.0);
    }
    f.y += 8.0;

    // 2. Title; the number/date table (bold right-aligned labels) and, beside it, 3. Bill to.
    let title = if invoice.tax.lines.is_empty() {
        "INVOICE"
    } else {
        "TAX INVOICE"
    };
    f.text_line(title, 16.0, true, TITLE, Align::Centre, 6.0);
    let top = f.y;
    let rows = [
        ("Invoice Number:", &invoice.invoice_number),
        ("Order Number:", &invoice.order_number),
        ("Invoice Date:", &invoice.invoice_date),
        ("Order Date:", &invoice.order_date),
        ("Place of Supply:", &invoice.place_of_supply),
    ];
    let mut y = top;
    for (label, value) in rows {
        let baseline = y + 10.0;
        f.push(Op::Text {
            text: label.into(),
            at: (MARGIN, baseline, 90.0),
            size: 10.0,
            bold: true,
            color: BLACK,
            align: Align::Right,
        });
        f.push(Op::Text {
            text: value.clone(),
            at: (MARGIN + 96.0, baseline, 180.0),
            size: 10.0,
            bold: false,
            color: BLACK,
            align: Align::Left,
        });
        y += 15.0;
    }
    let bill = &invoice.bill_to;
    let bill_x = MARGIN + 290.0;
    let bill_w = CONTENT_W - 290.0;
    let mut bill_lines = vec![
        ("Bill To:".to_string(), 12.0, true, HEADING),
        (bill.name.clone(), 10.0, true, BLACK),
        (format!("Email: {}", bill.email), 10.0, false, BLACK),
        (format!("Phone: {}", bill.phone), 10.0, false, BLACK),
    ];
    for line in wrap(
        &format!("Address: {}", bill.address),
        bill_w,
        10.0,
        false,
        measure,
    ) {
        bill_lines.push((line, 10.0, false, BLACK));
    }
    let (ops, bill_h) = column(top - 2.0, (bill_x, bill_w), &bill_lines);
    for op in ops {
        f.push(op);
    }
    f.y = (y).max(top - 2.0 + bill_h) + 10.0;

    // 4. Items.
    f.text_line("Order Items:", 12.0, true, HEADING, Align::Left, 4.0);
    items_table(&mut f, invoice);
    f.y += 8.0;
    let in_words = format!(
        "Amount in words: {}",
        words::amount_in_words(invoice.total_paise)
    );
    for line in wrap(&in_words, CONTENT_W, 10.0, true, measure) {
        f.text_line(&line, 10.0, true, HEADING, Align::Left, 0.0);
    }
    f.y += 10.0;

    // 5. Payment.
    let p = &invoice.payment;
    f.text_line(
        "Payment Information:",
        12.0,
        true,
        HEADING,
        Align::Left,
        2.0,
    );
    for line in [
        format!("Payment Method: {}", p.method),
        format!("Transaction ID: {}", p.transaction_id),
        format!("Payment Status: {}", p.status),
        format!("Payment Date: {}", p.date),
        format!("Amount Paid: {}", p.amount),
    ] {
        f.text_line(&line, 10.0, false, BLACK, Align::Left, 0.0);
    }
    f.y += 18.0;

    // 6. Footer.
    f.text_line(
        "Thank you for your business!",
        11.0,
        true,
        BLACK,
        Align::Left,
        6.0,
    );
    f.text_line(
        "This is a computer-generated invoice and does not require a signature.",
        8.0,
        false,
        GREY,
        Align::Centre,
        0.0,
    );
    f.text_line(
        &format!("For any queries, please contact us at {}", seller.email),
        8.0,
        false,
        GREY,
        Align::Centre,
        0.0,
    );
    pages
}

/// The header row at `f.y`.
fn table_header(f: &mut Flow<'_>) {
    let top = f.y;
    f.push(Op::Rect((MARGIN, top, CONTENT_W, ROW_H), PURPLE));
    let mut x = MARGIN;
    for (title, width, _) in COLUMNS {
        f.push(cell(
            title,
            (x, top, width),
            true,
            WHITE,
            Align::Centre,
            10.0,
        ));
        x += width;
    }
    f.y += ROW_H;
}

/// The items, then the summary rows (taxable value, taxes, round-off) and the total, with the grid
/// and the outer box drawn per page.
fn items_table(f: &mut Flow<'_>, invoice: &Invoice) {
    f.need(ROW_H * 3.0);
    let mut box_top = f.y;
    table_header(f);
    let close_box = |f: &mut Flow<'_>, top: f32| {
        let bottom = f.y;
        f.push(Op::Box((MARGIN, top, CONTENT_W, bottom - top), PURPLE, 1.5));
    };
    for (i, line) in invoice.lines.iter().enumerate() {
        if f.y + ROW_H > BOTTOM {
            close_box(f, box_top);
            f.need(BOTTOM);
            box_top = f.y;
            table_header(f);
        }
        let top = f.y;
        if i % 2 == 1 {
            f.push(Op::Rect((MARGIN, top, CONTENT_W, ROW_H), STRIPE));
        }
        let cells = [
            line.name.clone(),
            line.kind.clone(),
            line.sac.clone(),
            line.quantity.to_string(),
            words::inr(line.unit_paise),
            words::inr(line.amount_paise),
        ];
        let mut x = MARGIN;
        for ((_, width, align), text) in COLUMNS.iter().zip(cells.iter()) {
            f.push(cell(text, (x, top, *width), false, BLACK, *align, 9.0));
            x += width;
        }
        f.push(Op::Line(
            (MARGIN, top + ROW_H, MARGIN + CONTENT_W, top + ROW_H),
            GRID,
            0.5,
        ));
        f.y += ROW_H;
    }
    // Summary rows span the first four columns for the label.
    let label_w: f32 = COLUMNS[..5].iter().map(|c| c.1).sum();
    let amount_x = MARGIN + label_w;
    let amount_w = COLUMNS[5].1;
    let tax = &invoice.tax;
    let mut summary: Vec<(String, i64)> = Vec::new();
    if !tax.lines.is_empty() {
        summary.push(("Taxable Value".into(), tax.taxable_paise));
        for l in &tax.lines {
            summary.push((l.label.clone(), l.paise));
        }
        if tax.round_off_paise != 0 {
            summary.push(("Round Off".into(), tax.round_off_paise));
        }
    }
    let rows = summary.len() as f32 + 1.0;
    if f.y + ROW_H * rows > BOTTOM {
        close_box(f, box_top);
        f.need(BOTTOM);
        box_top = f.y;
    }
    for (label, paise) in summary {
        let top = f.y;
        f.push(cell(
            &label,
            (MARGIN, top, label_w),
            false,
            BLACK,
            Align::Right,
            9.0,
        ));
        f.push(cell(
            &words::inr(paise),
            (amount_x, top, amount_w),
            false,
            BLACK,
            Align::Right,
            9.0,
        ));
        f.push(Op::Line(
            (MARGIN, top + ROW_H, MARGIN + CONTENT_W, top + ROW_H),
            GRID,
            0.5,
        ));
        f.y += ROW_H;
    }
    let top = f.y;
    let total_h = ROW_H + 4.0;
    f.push(Op::Rect((MARGIN, top, CONTENT_W, total_h), LIGHT_PURPLE));
    f.push(Op::Line(
        (MARGIN, top, MARGIN + CONTENT_W, top),
        PURPLE,
        2.0,
    ));
    let size = 12.0;
    let baseline = top + total_h / 2.0 + size * 0.36;
    f.push(Op::Text {
        text: "Total:".into(),
        at: (MARGIN + PAD, baseline, label_w - 2.0 * PAD),
        size,
        bold: true,
        color: PURPLE,
        align: Align::Right,
    });
    f.push(Op::Text {
        text: words::inr(invoice.total_paise),
        at: (amount_x - 20.0, baseline, amount_w + 20.0 - PAD),
        size,
        bold: true,
        color: PURPLE,
        align: Align::Right,
    });
    f.y += total_h;
    close_box(f, box_top);
}
