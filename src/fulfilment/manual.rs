//! `POST /api/admin/orders/manual/` (contract-B §8.1, D4, Q5): an order taken by phone, WhatsApp or
//! in person. One transaction: the customer found by exact phone number (a customer's name and
//! email refreshed; a staff or admin account is used but never changed) or created (role `user`,
//! an unusable password), active products only, every line already resourced, the initial payment
//! recorded, the optional assignment made (with its checklist and notification).

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::{
        StaffUser,
        model::{NewUser, Role},
        service as accounts,
    },
    catalog::{model::ProductType, products::service as products},
    db::{Tx, now},
    error::{AppError, AppResult, FieldErrors},
    extract::{BaseUrl, SuccessBody, body::success_errors},
    fulfilment::{detail, service as flows},
    money::MAX_PAISE,
    notifications::service::{self as notify, Recipients},
    orders::{
        model::NewItem,
        service as orders,
        status::{self, Status},
    },
    payments::records::{self, NewRecord},
    state::AppState,
    validation::{self, Text},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_manual))
}

const SOURCES: [&str; 6] = [
    "phone_call",
    "whatsapp",
    "walk_in",
    "email",
    "referral",
    "other",
];
/// D4: `unpaid` and `refunded` are accepted too (the original refused them, Q23).
const PAYMENT_STATUSES: [&str; 5] = ["unpaid", "pending", "partial", "paid", "refunded"];
const METHODS: [&str; 6] = ["cash", "upi", "bank_transfer", "card", "cheque", "other"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
/// Most lines and units one manual order takes.
const MAX_LINES: usize = 100;
const MAX_QUANTITY: i32 = 1000;

#[derive(Debug, Clone)]
struct Customer {
    name: String,
    phone: String,
    email: Option<String>,
    address: [String; 4],
}

#[derive(Debug, Clone)]
struct Manual {
    customer: Customer,
    items: Vec<(ProductType, i64, i32)>,
    source: String,
    payment_status: String,
    /// `None`: the key was absent (the record says `cash`).
    method: Option<String>,
    reference: String,
    amount: Option<i64>,
    assigned_to: Option<i64>,
    priority: String,
    notes: String,
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && email.len() <= 254
}

fn customer_of(value: Option<&Value>, errors: &mut FieldErrors) -> Option<Customer> {
    let Some(value) = value else {
        errors.add("customer", validation::REQUIRED);
        return None;
    };
    let Value::Object(_) = value else {
        errors.add(
            "customer",
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                validation::type_name(value)
            ),
        );
        return None;
    };
    let mut e = FieldErrors::default();
    let name = validation::text(value, "name", Text::required().max(100), &mut e);
    let phone = validation::text(value, "phone", Text::required().max(15), &mut e);
    let email = validation::text(value, "email", Text::optional().max(254), &mut e);
    if let Some(email) = email.as_deref().filter(|m| !m.is_empty())
        && !valid_email(email)
    {
        e.add("email", "Enter a valid email address.");
    }
    let mut address: [String; 4] = Default::default();
    for (i, (key, max)) in [
        ("address", 500),
        ("city", 100),
        ("state", 100),
        ("pincode", 10),
    ]
    .into_iter()
    .enumerate()
    {
        address[i] =
            validation::text(value, key, Text::optional().max(max), &mut e).unwrap_or_default();
    }
    if !e.is_empty() {
        errors.set("customer", serde_json::to_value(&e).unwrap_or(Value::Null));
        return None;
    }
    Some(Customer {
        name: name?,
        phone: phone?,
        email: email.filter(|m| !m.is_empty()),
        address,
    })
}

fn items_of(value: Option<&Value>, errors: &mut FieldErrors) -> Vec<(ProductType, i64, i32)> {
    let list = match value {
        None => {
            errors.add("items", validation::REQUIRED);
            return Vec::new();
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            errors.add(
                "items",
                format!(
                    "Expected a list of items but got type \"{}\".",
                    validation::type_name(other)
                ),
            );
            return Vec::new();
        }
    };
    if list.is_empty() {
        errors.add("items", "Ensure this field has at least 1 elements.");
        return Vec::new();
    }
    if list.len() > MAX_LINES {
        errors.add(
            "items",
            format!("Ensure this field has no more than {MAX_LINES} elements."),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut per_item = Map::new();
    for (i, item) in list.iter().enumerate() {
        let mut e = FieldErrors::default();
        if !item.is_object() {
            e.add(
                "non_field_errors",
                format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    validation::type_name(item)
                ),
            );
        }
        let kind = validation::choice(item, "product_type", &["campaign", "package"], true, &mut e)
            .and_then(|k| ProductType::parse(&k));
        let id = match item.get("product_id") {
            None => {
                e.add("product_id", validation::REQUIRED);
                None
            }
            Some(v) => {
                let id = validation::id_value(v);
                if id.is_none() {
                    e.add("product_id", validation::INVALID_INT);
                }
                id
            }
        };
        let quantity = validation::integer(item, "quantity", true, false, &mut e).flatten();
        if let Some(q) = quantity
            && !(1..=MAX_QUANTITY).contains(&q)
        {
            let message = if q < 1 {
                "Ensure this value is greater than or equal to 1.".to_string()
            } else {
                format!("Ensure this value is less than or equal to {MAX_QUANTITY}.")
            };
            e.add("quantity", message);
        }
        match (kind, id, quantity, e.is_empty()) {
            (Some(kind), Some(id), Some(q), true) => out.push((kind, id, q)),
            _ => {
                per_item.insert(
                    i.to_string(),
                    serde_json::to_value(&e).unwrap_or(Value::Null),
                );
            }
        }
    }
    if !per_item.is_empty() {
        errors.set("items", Value::Object(per_item));
    }
    out
}

fn parse(body: &Value) -> Result<Manual, FieldErrors> {
    validation::object(body)?;
    let mut errors = FieldErrors::default();
    let customer = customer_of(body.get("customer"), &mut errors);
    let items = items_of(body.get("items"), &mut errors);
    let source = validation::choice(body, "order_source", &SOURCES, true, &mut errors);
    let payment_status = validation::choice(
        body,
        "payment_status",
        &PAYMENT_STATUSES,
        false,
        &mut errors,
    )
    .unwrap_or_else(|| "pending".into());
    let method = match body.get("payment_method") {
        Some(Value::String(s)) if s.trim().is_empty() => Some(String::new()),
        Some(Value::Null) => Some(String::new()),
        Some(_) => validation::choice(body, "payment_method", &METHODS, false, &mut errors),
        None => None,
    };
    let reference = validation::text(
        body,
        "payment_reference",
        Text::optional().max(100),
        &mut errors,
    )
    .unwrap_or_default();
    let amount = validation::money(body, "payment_amount", false, Some(0), &mut errors);
    let assigned_to = match body.get("assigned_to") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => {
            let id = validation::id_value(v);
            if id.is_none() {
                errors.add("assigned_to", validation::INVALID_INT);
            }
            id
        }
    };
    let priority = validation::choice(body, "priority", &PRIORITIES, false, &mut errors)
        .unwrap_or_else(|| "normal".into());
    let notes = validation::text(body, "notes", Text::optional().max(5000), &mut errors)
        .unwrap_or_default();
    match (customer, source) {
        (Some(customer), Some(source)) if errors.is_empty() => Ok(Manual {
            customer,
            items,
            source,
            payment_status,
            method,
            reference,
            amount,
            assigned_to,
            priority,
            notes,
        }),
        _ => Err(errors),
    }
}

fn not_found() -> AppError {
    AppError::Message(
        StatusCode::NOT_FOUND,
        "Product not found or inactive".into(),
    )
}

/// The customer with this phone number, or a new one (see the module docs).
async fn customer(tx: &mut Tx, c: &Customer) -> AppResult<i64> {
    if let Some(user) = accounts::find_by_phone_in(tx, &c.phone).await? {
        if user.role() == Role::User {
            accounts::set_profile_in(tx, user.id, &c.name, c.email.as_deref()).await?;
        }
        return Ok(user.id);
    }
    let mut username = c.phone.clone();
    for n in 2..10 {
        if !accounts::username_taken_in(tx, &username).await? {
            break;
        }
        username = format!("{}-{n}", c.phone);
    }
    let unusable = format!("!{}", uuid::Uuid::new_v4().simple());
    let user = accounts::insert_in(
        tx,
        &NewUser {
            username,
            password_hash: unusable,
            phone_number: Some(c.phone.clone()),
            firebase_uid: None,
            role: Role::User,
        },
    )
    .await?;
    accounts::set_profile_in(tx, user.id, &c.name, c.email.as_deref()).await?;
    Ok(user.id)
}

/// The whole creation; returns the new order's id and whom it notified.
async fn create(state: &AppState, m: &Manual, by: i64) -> AppResult<(i64, Recipients)> {
    let mut tx = state.db.begin().await?;
    let user_id = customer(&mut tx, &m.customer).await?;
    let mut lines: Vec<NewItem> = Vec::new();
    let mut total: i64 = 0;
    for (kind, id, quantity) in &m.items {
        let Some(tag) = products::price_tags_active(&mut tx, *kind, &[*id])
            .await?
            .into_iter()
            .next()
        else {
            return Err(not_found());
        };
        total = total.saturating_add(tag.price_paise.saturating_mul(i64::from(*quantity)));
        lines.push(NewItem {
            product_type: kind.as_str().to_string(),
            product_id: tag.id,
            product_name: tag.name,
            quantity: *quantity,
            price_paise: tag.price_paise,
        });
    }
    if total > MAX_PAISE {
        return Err(AppError::Message(
            StatusCode::BAD_REQUEST,
            "The order total exceeds ₹99,999,999.99".into(),
        ));
    }
    let c = &m.customer;
    let mut order_id = None;
    for _ in 0..5 {
        let number = orders::order_number(now(), state.config.tz_offset);
        let new = orders::NewManual {
            user_id,
            order_number: &number,
            total_paise: total,
            status: Status::ReadyForProcessing.as_str(),
            payment_status: &m.payment_status,
            order_source: &m.source,
            created_by: by,
            priority: &m.priority,
            admin_notes: &m.notes,
            address: [&c.address[0], &c.address[1], &c.address[2], &c.address[3]],
        };
        order_id = orders::insert_manual(&mut tx, &new).await?;
        if order_id.is_some() {
            break;
        }
    }
    let Some(order_id) = order_id else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "five order-number collisions in a row"
        )));
    };
    status::record_initial(
        &mut tx,
        order_id,
        Status::ReadyForProcessing,
        Some(by),
        &format!("Manual order created via {}", m.source),
    )
    .await?;
    orders::insert_items(&mut tx, order_id, &lines).await?;
    orders::mark_all_uploaded(&mut tx, order_id).await?;
    if m.payment_status == "paid" || m.payment_status == "partial" {
        let amount = m.amount.filter(|a| *a > 0).unwrap_or(total);
        records::record_initial(
            &mut tx,
            &NewRecord {
                order_id,
                amount_paise: amount,
                payment_method: m.method.as_deref().unwrap_or("cash"),
                payment_reference: &m.reference,
                payment_proof: None,
                recorded_by: by,
                notes: "Initial payment for manual order",
            },
        )
        .await?;
        if amount >= total {
            orders::stamp_paid_at(&mut tx, order_id).await?;
        }
    }
    let mut notified = Recipients::default();
    if let Some(staff_id) = m.assigned_to
        && let Ok(staff) = flows::assignee(&mut tx, staff_id).await?
    {
        let order = flows::locked(&mut tx, order_id).await?;
        flows::assign_in(&mut tx, &order, &staff, by, true, &mut notified).await?;
    }
    crate::orders::derived::commit(state, tx).await?;
    Ok((order_id, notified))
}

#[utoipa::path(post, path = "/api/admin/orders/manual/", tag = "admin-orders",
    summary = "Create an order taken by phone, WhatsApp or in person (admins and staff)",
    request_body(content = Value, content_type = "application/json", description = "`{customer:{name, phone, email?, address?, city?, state?, pincode?}, items:[{product_type, product_id, quantity}], order_source, payment_status?, payment_method?, payment_reference?, payment_amount?, assigned_to?, priority?, notes?}`"),
    responses((status = 201, description = "`{\"success\": true, \"order\": AdminOrderDetail}`"),
        (status = 400, description = "`{\"success\": false, \"errors\": {...}}`"), (status = 401, description = "Authentication required"),
        (status = 403, description = "Not staff or an admin"), (status = 404, description = "A product is missing or inactive")))]
async fn create_manual(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    BaseUrl(base): BaseUrl,
    SuccessBody(body): SuccessBody<Value>,
) -> AppResult<Response> {
    let manual = parse(&body).map_err(success_errors)?;
    let (id, notified) = create(&state, &manual, user.id).await?;
    notify::announce(&state, notified).await;
    let order = orders::get(&state, id).await?.ok_or_else(flows::no_order)?;
    let order = detail::render(&state, &order, &base).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "message": "Manual order created successfully", "order": order})),
    )
        .into_response())
}
