//! Demo orders for `seed-demo --orders N` (a full-looking admin panel on a fresh checkout, and the
//! benchmark's 10k-order database): spread over the demo customer, every status, payment state and
//! source, with the assigned ones on the demo staff member, created over the past year (newest
//! first) and the paid ones paid an hour after, so the analytics have months to show. Inserted in
//! batches of 500 per transaction through the orders feature's writers (history row and lines
//! included).

use crate::{
    catalog::{model::ProductType, products::service as products},
    db::now,
    orders::{
        model::NewItem,
        service as orders,
        status::{self, Status},
    },
    state::AppState,
};

const BATCH: usize = 500;
/// The demo orders span this many days back from now.
const SPAN_DAYS: i64 = 365;
const SOURCES: [&str; 4] = ["phone_call", "whatsapp", "walk_in", "referral"];
const PAYMENTS: [&str; 4] = ["unpaid", "partial", "paid", "paid"];

/// Adds `n` orders for `customer`; `staff` takes the assigned, in-progress and completed ones.
pub async fn seed_orders(
    state: &AppState,
    n: usize,
    customer: i64,
    staff: i64,
    created_by: i64,
) -> anyhow::Result<usize> {
    let catalog = products::active_summaries(state, ProductType::Package, 10).await?;
    let Some(first) = catalog.first() else {
        anyhow::bail!("no active package to order (seed the catalog first)");
    };
    let start = now();
    let step = time::Duration::days(SPAN_DAYS) / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let mut made = 0;
    while made < n {
        let mut tx = state.db.begin().await?;
        for i in made..(made + BATCH).min(n) {
            let product = catalog.get(i % catalog.len()).unwrap_or(first);
            let quantity = 1 + (i % 3) as i32;
            let st = Status::ALL[i % Status::ALL.len()];
            let number = orders::order_number(now(), state.config.tz_offset);
            let new = orders::NewManual {
                user_id: customer,
                order_number: &number,
                total_paise: product.price_paise * i64::from(quantity),
                status: st.as_str(),
                payment_status: PAYMENTS[i % PAYMENTS.len()],
                order_source: SOURCES[i % SOURCES.len()],
                created_by,
                priority: "normal",
                admin_notes: "",
                address: ["", "", "", ""],
            };
            let Some(id) = orders::insert_manual(&mut tx, &new).await? else {
                continue;
            };
            let created =
                start - time::Duration::hours(1) - step * u32::try_from(i).unwrap_or(u32::MAX);
            let paid = (new.payment_status == "paid").then(|| created + time::Duration::hours(1));
            orders::backdate(&mut tx, id, created, paid).await?;
            status::record_initial(&mut tx, id, st, Some(created_by), "Demo order").await?;
            let line = NewItem {
                product_type: "package".into(),
                product_id: product.id,
                product_name: product.name.clone(),
                quantity,
                price_paise: product.price_paise,
            };
            orders::insert_items(&mut tx, id, std::slice::from_ref(&line)).await?;
            if matches!(
                st,
                Status::Assigned | Status::InProgress | Status::Completed
            ) {
                orders::set_assignee(&mut tx, id, Some(staff)).await?;
            }
        }
        tx.commit().await?;
        made = (made + BATCH).min(n);
    }
    crate::orders::derived::changed(state).await;
    Ok(made)
}
