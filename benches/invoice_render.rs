//! `cargo bench --bench invoice_render`: renders a 10-item tax invoice (the PDF the download routes
//! serve on a cache miss) `INVOICE_BENCH_RUNS` times (default 200) on one thread and prints the
//! median, p90 and max render time and the PDF's size (DESIGN §9: render ≤ 20 ms at the median).
//! `INVOICE_BENCH_OUT=file.pdf` also writes the PDF. Timings are reported, never asserted.

use std::time::{Duration, Instant};

use electioncart::invoices::{
    model::{BillTo, Invoice, Line, Payment, Seller},
    pdf,
    tax::breakdown,
    words,
};

fn sample() -> Invoice {
    let lines: Vec<Line> = (0..10)
        .map(|i| Line {
            name: format!("Ward {i} Rally Package — posters, banners and 2 vans"),
            kind: if i % 2 == 0 { "Package" } else { "Campaign" }.into(),
            sac: "998361".into(),
            quantity: 1 + i % 3,
            unit_paise: 1_850_000 + i64::from(i) * 12_345,
            amount_paise: (1_850_000 + i64::from(i) * 12_345) * i64::from(1 + i % 3),
        })
        .collect();
    let total: i64 = lines.iter().map(|l| l.amount_paise).sum();
    Invoice {
        seller: Seller {
            name: "Election Cart".into(),
            address: vec!["12 Vidhan Sabha Marg".into(), "Lucknow 226001".into()],
            gstin: "09AAACE1234F1Z5".into(),
            state: "Uttar Pradesh (09)".into(),
            phone: "+91 522 400 0000".into(),
            email: "billing@electioncart.test".into(),
            logo: None,
        },
        invoice_number: "INV-20261125-77DF1A1D".into(),
        order_number: "EC-20261125-1A2B3C4D".into(),
        invoice_date: "November 25, 2026".into(),
        order_date: "November 25, 2026".into(),
        place_of_supply: "Uttar Pradesh (09)".into(),
        bill_to: BillTo {
            name: "Asha Verma".into(),
            email: "asha@example.in".into(),
            phone: "+919333333333".into(),
            address: "N/A".into(),
        },
        lines,
        tax: breakdown(total, 1800, true),
        total_paise: total,
        payment: Payment {
            method: "Razorpay".into(),
            transaction_id: "pay_N3x8Yk2LmQ".into(),
            status: "Completed".into(),
            date: "November 25, 2026 at 06:06 PM IST".into(),
            amount: format!("{} INR", words::inr(total)),
        },
    }
}

fn main() {
    let runs: usize = std::env::var("INVOICE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(1);
    let invoice = sample();
    // The first render also parses the embedded fonts (once per process).
    let started = Instant::now();
    let bytes = match pdf::render(&invoice) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("render failed: {error}");
            std::process::exit(1);
        }
    };
    let first = started.elapsed();
    if let Ok(out) = std::env::var("INVOICE_BENCH_OUT")
        && let Err(error) = std::fs::write(&out, &bytes)
    {
        eprintln!("writing {out}: {error}");
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let _ = std::hint::black_box(pdf::render(std::hint::black_box(&invoice)));
            t.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "invoice render, 10 items, {runs} runs: median {:.2} ms, p90 {:.2} ms, max {:.2} ms; first (fonts parsed) {:.2} ms; {} bytes",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(1.0)),
        ms(first),
        bytes.len()
    );
}
