//! The original database (read only, in one `REPEATABLE READ` snapshot, so every table is read as
//! of the same moment and references between them hold). One SELECT per table maps a batch of the
//! original's rows onto our columns in [`Spec`] order, followed by two texts: why ours cannot hold
//! the row (`skip`), and what the mapping changed (`note`). Money is read as the decimal's text and
//! parsed exactly into paise; Django's content types become `package` / `campaign`.

use std::time::Duration;

use sqlx::{
    AssertSqlSafe, PgConnection, Postgres, Row, Transaction, postgres::PgPoolOptions,
    postgres::PgRow,
};
use time::{OffsetDateTime, UtcOffset};

use super::{
    media,
    model::{FileRef, ImportError, Kind, SourceRow, Spec, Val},
};

/// `products.package` / `products.campaign` → `package` / `campaign` (any other content type → '',
/// and [`not_a_product!`] skips the row).
macro_rules! product_type {
    ($ct:literal) => {
        concat!(
            "CASE WHEN ",
            $ct,
            ".app_label = 'products' AND ",
            $ct,
            ".model IN ('package', 'campaign') THEN ",
            $ct,
            ".model ELSE '' END"
        )
    };
}

/// A `WHEN … THEN <reason>` arm of the skip column for rows whose content type is not a product.
macro_rules! not_a_product {
    ($ct:literal) => {
        concat!(
            "WHEN NOT (",
            $ct,
            ".app_label = 'products' AND ",
            $ct,
            ".model IN ('package', 'campaign')) THEN 'content type ' || ",
            $ct,
            ".app_label || '.' || ",
            $ct,
            ".model || ' is not a package or a campaign'"
        )
    };
}

/// The batch after id `$1`, at most `$2` rows, of `$table` as `$alias`: paged first, so joins only
/// touch the batch's rows (each batch walks the primary key, whatever the planner knows).
macro_rules! page {
    ($table:literal, $alias:literal) => {
        concat!(
            "(SELECT * FROM ",
            $table,
            " WHERE id > $1 ORDER BY id LIMIT $2) ",
            $alias
        )
    };
}

const USERS: &str = concat!(
    "SELECT u.id, u.username, u.password, u.email, u.first_name, u.last_name, \
     NULLIF(u.phone_number, ''), NULLIF(u.firebase_uid, ''), \
     CASE WHEN u.is_staff OR u.is_superuser THEN 'admin' \
          WHEN u.role IN ('user', 'staff', 'admin') THEN u.role ELSE 'user' END, \
     u.is_active, u.last_login, u.created_at, u.updated_at, \
     NULL::text, \
     CASE WHEN (u.is_staff OR u.is_superuser) AND u.role <> 'admin' \
            THEN 'role ' || quote_literal(u.role) || ' became admin (is_staff/is_superuser, D14)' \
          WHEN u.role NOT IN ('user', 'staff', 'admin') \
            THEN 'unknown role ' || quote_literal(u.role) || ' became user' \
          WHEN u.phone_number = '' THEN 'empty phone number stored as NULL (D15)' \
          WHEN u.firebase_uid = '' THEN 'empty firebase_uid stored as NULL' END \
     FROM ",
    page!("authentication_customuser", "u"),
    " ORDER BY u.id"
);

const PACKAGES: &str = concat!(
    "SELECT p.id, p.name, p.price::text, p.description, p.features::text, p.deliverables::text, \
     p.is_active, p.is_popular, p.popular_order::bigint, p.created_by_id, p.created_at, \
     p.updated_at, NULL::text, NULL::text FROM ",
    page!("products_package", "p"),
    " ORDER BY p.id"
);

const PACKAGE_ITEMS: &str = concat!(
    "SELECT i.id, i.package_id, i.name, i.quantity::bigint, NULL::text, NULL::text \
     FROM ",
    page!("products_packageitem", "i"),
    " ORDER BY i.id"
);

const CAMPAIGNS: &str = concat!(
    "SELECT c.id, c.name, c.price::text, c.unit, c.description, c.features::text, \
     c.deliverables::text, c.is_active, c.is_popular, c.popular_order::bigint, c.created_by_id, \
     c.created_at, c.updated_at, NULL::text, NULL::text FROM ",
    page!("products_campaign", "c"),
    " ORDER BY c.id"
);

const AUDIT_LOGS: &str = concat!(
    "SELECT a.id, ",
    product_type!("ct"),
    ", a.object_id::bigint, a.action, a.user_id, a.changes::text, a.\"timestamp\", CASE ",
    not_a_product!("ct"),
    " WHEN a.action NOT IN ('create', 'update', 'delete', 'activate', 'deactivate') \
       THEN 'action ' || quote_literal(a.action) || ' is not one ours holds' END, NULL::text \
     FROM ",
    page!("products_productauditlog", "a"),
    " JOIN django_content_type ct ON ct.id = a.content_type_id",
    " ORDER BY a.id"
);

const FIELDS: &str = concat!(
    "SELECT f.id, ",
    product_type!("ct"),
    ", f.object_id::bigint, f.field_name, f.field_type, f.is_required, f.\"order\"::bigint, \
     f.help_text, f.max_file_size_mb::bigint, f.max_length::bigint, f.min_value::bigint, \
     f.max_value::bigint, f.allowed_extensions::text, f.created_at, CASE ",
    not_a_product!("ct"),
    " WHEN f.field_type NOT IN ('image', 'text', 'number', 'document', 'phone', 'date') \
       THEN 'field type ' || quote_literal(f.field_type) || ' is not one ours holds' END, NULL::text \
     FROM ",
    page!("products_resourcefielddefinition", "f"),
    " JOIN django_content_type ct ON ct.id = f.content_type_id",
    " ORDER BY f.id"
);

const TEMPLATES: &str = concat!(
    "SELECT t.id, ",
    product_type!("ct"),
    ", t.object_id::bigint, t.name, t.description, t.\"order\"::bigint, t.is_optional, \
     t.estimated_duration_minutes::bigint, t.created_at, CASE ",
    not_a_product!("ct"),
    " END, NULL::text \
     FROM ",
    page!("products_checklisttemplateitem", "t"),
    " JOIN django_content_type ct ON ct.id = t.content_type_id",
    " ORDER BY t.id"
);

/// `content_type` and `size_bytes` are filled in by the service (from the name and the file).
const IMAGES: &str = concat!(
    "SELECT i.id, ",
    product_type!("ct"),
    ", i.object_id::bigint, i.image, NULLIF(i.thumbnail, ''), '', 0::bigint, i.is_primary, \
     i.\"order\"::bigint, i.alt_text, i.uploaded_at, CASE ",
    not_a_product!("ct"),
    " END, NULL::text \
     FROM ",
    page!("products_productimage", "i"),
    " JOIN django_content_type ct ON ct.id = i.content_type_id",
    " ORDER BY i.id"
);

const CARTS: &str = concat!(
    "SELECT c.id, c.user_id, c.created_at, c.updated_at, NULL::text, NULL::text FROM ",
    page!("cart_cart", "c"),
    " ORDER BY c.id"
);

const CART_ITEMS: &str = concat!(
    "SELECT i.id, i.cart_id, ",
    product_type!("ct"),
    ", i.object_id::bigint, i.quantity::bigint, i.added_at, CASE ",
    not_a_product!("ct"),
    " WHEN i.quantity < 1 THEN 'quantity ' || i.quantity || ' (ours holds 1 or more)' END, \
     NULL::text FROM ",
    page!("cart_cartitem", "i"),
    " JOIN django_content_type ct ON ct.id = i.content_type_id",
    " ORDER BY i.id"
);

/// A Razorpay payment id on several orders (D18: one payment pays one order here) stays on the
/// first order and is left empty on the others.
const ORDERS: &str = concat!(
    "WITH firsts AS (SELECT razorpay_payment_id AS payment, MIN(id) AS first FROM orders_order \
       WHERE razorpay_payment_id <> '' GROUP BY razorpay_payment_id) \
     SELECT o.id, o.user_id, o.order_number, o.total_amount::text, o.status, o.payment_status, \
     o.razorpay_order_id, CASE WHEN f.first = o.id THEN o.razorpay_payment_id END, \
     o.razorpay_signature, o.payment_completed_at, o.assigned_to_id, o.is_manual_order, \
     o.order_source, o.created_by_id, o.payment_reference, o.priority, o.admin_notes, \
     o.created_at, o.updated_at, \
     CASE WHEN o.total_amount < 0 THEN 'a negative total ' || o.total_amount END, \
     CASE WHEN f.first <> o.id THEN 'razorpay_payment_id ' || o.razorpay_payment_id \
            || ' also paid order ' || f.first || ' (D18: one payment, one order): left empty here' \
          WHEN o.razorpay_payment_id = '' THEN 'empty razorpay_payment_id stored as NULL' END \
     FROM ",
    page!("orders_order", "o"),
    " LEFT JOIN firsts f ON f.payment = o.razorpay_payment_id",
    " ORDER BY o.id"
);

const ORDER_ITEMS: &str = concat!(
    "SELECT i.id, i.order_id, ",
    product_type!("ct"),
    ", i.object_id::bigint, \
     COALESCE(CASE WHEN ct.app_label <> 'products' THEN NULL \
       WHEN ct.model = 'package' THEN (SELECT p.name FROM products_package p WHERE p.id = i.object_id) \
       WHEN ct.model = 'campaign' THEN (SELECT c.name FROM products_campaign c WHERE c.id = i.object_id) \
       END, ''), \
     i.quantity::bigint, i.price::text, i.resources_uploaded, CASE ",
    not_a_product!("ct"),
    " WHEN i.quantity < 1 THEN 'quantity ' || i.quantity || ' (ours holds 1 or more)' \
      WHEN i.price < 0 THEN 'a negative price ' || i.price END, NULL::text \
     FROM ",
    page!("orders_orderitem", "i"),
    " JOIN django_content_type ct ON ct.id = i.content_type_id",
    " ORDER BY i.id"
);

const STATUS_HISTORY: &str = concat!(
    "SELECT h.id, h.order_id, h.old_status, h.new_status, h.changed_by_id, h.changed_at, h.reason, \
     h.is_manual_change, NULL::text, NULL::text FROM ",
    page!("orders_orderstatushistory", "h"),
    " ORDER BY h.id"
);

/// A transaction id on several payments (ours holds one payment per transaction id): the first is
/// imported, the others are skipped and reported.
const PAYMENT_HISTORY: &str = concat!(
    "WITH firsts AS (SELECT transaction_id AS tx, MIN(id) AS first FROM orders_paymenthistory \
       GROUP BY transaction_id) \
     SELECT p.id, p.order_id, p.payment_method, p.transaction_id, p.amount::text, p.currency, \
     p.status, p.payment_date, p.invoice_generated_at, p.invoice_number, p.metadata::text, \
     p.created_at, p.updated_at, \
     CASE WHEN f.first <> p.id THEN 'transaction id ' || quote_literal(p.transaction_id) \
       || ' is already on payment ' || f.first || ' (ours holds one payment per transaction id)' END, \
     NULL::text FROM ",
    page!("orders_paymenthistory", "p"),
    " JOIN firsts f ON f.tx = p.transaction_id",
    " ORDER BY p.id"
);

const PAYMENT_RECORDS: &str = concat!(
    "SELECT r.id, r.order_id, r.amount::text, r.payment_method, r.payment_reference, \
     NULLIF(r.payment_proof, ''), r.recorded_by_id, r.recorded_at, r.notes, NULL::text, NULL::text \
     FROM ",
    page!("orders_paymentrecord", "r"),
    " ORDER BY r.id"
);

const ORDER_RESOURCES: &str = concat!(
    "SELECT r.id, r.order_item_id, r.candidate_photo, r.party_logo, r.campaign_slogan, \
     to_char(r.preferred_date, 'YYYY-MM-DD'), r.whatsapp_number, r.additional_notes, r.uploaded_at, \
     NULL::text, NULL::text FROM ",
    page!("orders_orderresource", "r"),
    " ORDER BY r.id"
);

const SUBMISSIONS: &str = concat!(
    "SELECT s.id, s.order_item_id, s.field_definition_id, s.text_value, s.number_value::bigint, \
     NULLIF(s.file_value, ''), s.uploaded_at, NULL::text, NULL::text \
     FROM ",
    page!("orders_dynamicresourcesubmission", "s"),
    " ORDER BY s.id"
);

const NOTIFICATIONS: &str = concat!(
    "SELECT n.id, n.user_id, n.notification_type, n.title, n.message, n.order_id, n.is_read, \
     n.created_at, NULL::text, NULL::text FROM ",
    page!("admin_panel_notification", "n"),
    " ORDER BY n.id"
);

const CHECKLISTS: &str = concat!(
    "SELECT c.id, c.order_id, c.created_at, NULL::text, NULL::text FROM ",
    page!("orders_orderchecklist", "c"),
    " ORDER BY c.id"
);

const CHECKLIST_ITEMS: &str = concat!(
    "SELECT i.id, i.checklist_id, i.template_item_id, i.description, i.completed, i.completed_at, \
     i.completed_by_id, i.order_index::bigint, i.is_optional, NULL::text, NULL::text \
     FROM ",
    page!("orders_checklistitem", "i"),
    " ORDER BY i.id"
);

fn select_of(table: &str) -> &'static str {
    match table {
        "users" => USERS,
        "packages" => PACKAGES,
        "package_items" => PACKAGE_ITEMS,
        "campaigns" => CAMPAIGNS,
        "product_audit_logs" => AUDIT_LOGS,
        "resource_field_definitions" => FIELDS,
        "checklist_template_items" => TEMPLATES,
        "product_images" => IMAGES,
        "carts" => CARTS,
        "cart_items" => CART_ITEMS,
        "orders" => ORDERS,
        "order_items" => ORDER_ITEMS,
        "order_status_history" => STATUS_HISTORY,
        "payment_history" => PAYMENT_HISTORY,
        "payment_records" => PAYMENT_RECORDS,
        "order_resources" => ORDER_RESOURCES,
        "resource_submissions" => SUBMISSIONS,
        "notifications" => NOTIFICATIONS,
        "order_checklists" => CHECKLISTS,
        "checklist_items" => CHECKLIST_ITEMS,
        other => unreachable!("no SELECT for table {other}"),
    }
}

/// The original, read in one snapshot.
pub struct Source {
    tx: Transaction<'static, Postgres>,
}

/// The original's tables that are not carried over, and why (counted when they hold rows).
const NOT_CARRIED: &[(&str, &str)] = &[
    (
        "authentication_customuser_groups",
        "group memberships (D14: the role is the only authority)",
    ),
    (
        "authentication_customuser_user_permissions",
        "per-user permissions (D14: the role is the only authority)",
    ),
    ("auth_group", "groups (D14)"),
    (
        "django_admin_log",
        "Django admin site history (D24: no admin site)",
    ),
    (
        "django_session",
        "Django admin site sessions (API tokens are JWTs and keep working, D12)",
    ),
];

fn source_error(e: sqlx::Error) -> ImportError {
    ImportError::Source(e)
}

impl Source {
    /// Connects and opens the read-only snapshot.
    pub async fn open(url: &str) -> Result<Self, ImportError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ImportError::SourceUrl);
        }
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(source_error)?;
        let tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(source_error)?;
        Ok(Self { tx })
    }

    fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Whether the original has `table` (in its search path).
    async fn has(&mut self, table: &str) -> Result<bool, ImportError> {
        sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(self.conn())
            .await
            .map_err(source_error)
    }

    /// Refuses early when one of the original's tables is missing (an older or other schema).
    pub async fn check_tables(&mut self, specs: &[Spec]) -> Result<(), ImportError> {
        for spec in specs {
            if !self.has(spec.original).await? {
                return Err(ImportError::MissingTable(spec.original));
            }
        }
        Ok(())
    }

    /// How many rows the original's table holds.
    pub async fn count(&mut self, spec: &Spec) -> Result<u64, ImportError> {
        let sql = format!("SELECT COUNT(*) FROM {}", spec.original);
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(self.conn())
            .await
            .map_err(source_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The next batch of `spec`'s rows after `after`, mapped.
    pub async fn batch(
        &mut self,
        spec: &Spec,
        after: i64,
        limit: usize,
    ) -> Result<Vec<SourceRow>, ImportError> {
        let rows = sqlx::query(select_of(spec.table))
            .bind(after)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.conn())
            .await
            .map_err(source_error)?;
        rows.iter()
            .map(|row| decode(spec, row).map_err(source_error))
            .collect()
    }

    /// What the original holds that is not carried over.
    pub async fn not_carried(&mut self) -> Result<Vec<String>, ImportError> {
        let mut out = Vec::new();
        for (table, what) in NOT_CARRIED {
            if !self.has(table).await? {
                continue;
            }
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_one(self.conn())
                .await
                .map_err(source_error)?;
            if n > 0 {
                out.push(format!("{table}: {n} row(s), {what}"));
            }
        }
        let flagged: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM authentication_customuser WHERE is_staff OR is_superuser",
        )
        .fetch_one(self.conn())
        .await
        .map_err(source_error)?;
        if flagged > 0 {
            out.push(format!(
                "authentication_customuser.is_staff/is_superuser: {flagged} user(s) flagged, carried as role admin (D14); the flags themselves are not kept"
            ));
        }
        out.push("authentication_customuser.date_joined: not kept (created_at is)".to_string());
        Ok(out)
    }
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

fn json(text: String) -> Result<Val, sqlx::Error> {
    serde_json::from_str(&text)
        .map(Val::Json)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn paise(text: String) -> Result<Val, sqlx::Error> {
    crate::money::parse_rupees(&serde_json::Value::String(text.clone()))
        .map(Val::Int)
        .map_err(|e| sqlx::Error::Decode(format!("amount {text}: {}", e.message()).into()))
}

/// One original row → our columns (plus the files it names, by column).
fn decode(spec: &Spec, row: &PgRow) -> Result<SourceRow, sqlx::Error> {
    let mut values = Vec::with_capacity(spec.columns.len());
    let mut files = Vec::new();
    for (i, kind) in spec.kinds().enumerate() {
        let value = match kind {
            Kind::Int => Val::Int(row.try_get(i)?),
            Kind::OptInt => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Val::Null, Val::Int),
            Kind::Text => Val::Text(row.try_get(i)?),
            Kind::OptText => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Val::Null, Val::Text),
            Kind::Bool => Val::Bool(row.try_get(i)?),
            Kind::Time => Val::Time(utc(row.try_get(i)?)),
            Kind::OptTime => row
                .try_get::<Option<OffsetDateTime>, _>(i)?
                .map_or(Val::Null, |t| Val::Time(utc(t))),
            Kind::Json | Kind::JsonText => json(row.try_get(i)?)?,
            Kind::Paise => paise(row.try_get(i)?)?,
            Kind::File(area) | Kind::OptFile(area) => match row.try_get::<Option<String>, _>(i)? {
                Some(original) => {
                    let name = media::stored_name(&original);
                    files.push(FileRef {
                        column: i,
                        area,
                        original,
                        name: name.clone(),
                    });
                    Val::Text(name)
                }
                None => Val::Null,
            },
        };
        values.push(value);
    }
    let n = spec.columns.len();
    let id = values.first().and_then(Val::as_int).unwrap_or_default();
    Ok(SourceRow {
        id,
        values,
        skip: row.try_get(n)?,
        note: row.try_get(n + 1)?,
        files,
    })
}
