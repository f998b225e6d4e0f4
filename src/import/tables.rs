//! Every table the import fills, in dependency order (a table only references tables before it),
//! with the original's table it comes from. The SELECT that maps each original row onto these
//! columns is in `source.rs`; what ours has and the original lacks is listed on each spec.

use super::model::{
    Kind::{self, *},
    Missing, Parent, Spec,
};
use crate::uploads::Area;

const fn parent(column: &'static str, table: &'static str, when_missing: Missing) -> Parent {
    Parent {
        column,
        table,
        when_missing,
    }
}

const USERS: &[(&str, Kind)] = &[
    ("id", Int),
    ("username", Text),
    ("password", Text),
    ("email", Text),
    ("first_name", Text),
    ("last_name", Text),
    ("phone_number", OptText),
    ("firebase_uid", OptText),
    ("role", Text),
    ("is_active", Bool),
    ("last_login", OptTime),
    ("created_at", Time),
    ("updated_at", Time),
];

const PACKAGES: &[(&str, Kind)] = &[
    ("id", Int),
    ("name", Text),
    ("price_paise", Paise),
    ("description", Text),
    ("features", Json),
    ("deliverables", Json),
    ("is_active", Bool),
    ("is_popular", Bool),
    ("popular_order", Int),
    ("created_by", OptInt),
    ("created_at", Time),
    ("updated_at", Time),
];

const PACKAGE_ITEMS: &[(&str, Kind)] = &[
    ("id", Int),
    ("package_id", Int),
    ("name", Text),
    ("quantity", Int),
];

const CAMPAIGNS: &[(&str, Kind)] = &[
    ("id", Int),
    ("name", Text),
    ("price_paise", Paise),
    ("unit", Text),
    ("description", Text),
    ("features", Json),
    ("deliverables", Json),
    ("is_active", Bool),
    ("is_popular", Bool),
    ("popular_order", Int),
    ("created_by", OptInt),
    ("created_at", Time),
    ("updated_at", Time),
];

const AUDIT_LOGS: &[(&str, Kind)] = &[
    ("id", Int),
    ("product_type", Text),
    ("product_id", Int),
    ("action", Text),
    ("user_id", OptInt),
    ("changes", Json),
    ("created_at", Time),
];

const FIELDS: &[(&str, Kind)] = &[
    ("id", Int),
    ("product_type", Text),
    ("product_id", Int),
    ("field_name", Text),
    ("field_type", Text),
    ("is_required", Bool),
    ("sort_order", Int),
    ("help_text", Text),
    ("max_file_size_mb", OptInt),
    ("max_length", OptInt),
    ("min_value", OptInt),
    ("max_value", OptInt),
    ("allowed_extensions", Json),
    ("created_at", Time),
];

const TEMPLATES: &[(&str, Kind)] = &[
    ("id", Int),
    ("product_type", Text),
    ("product_id", Int),
    ("name", Text),
    ("description", Text),
    ("sort_order", Int),
    ("is_optional", Bool),
    ("estimated_duration_minutes", OptInt),
    ("created_at", Time),
];

/// `content_type` and `size_bytes` are ours only: from the name's extension and the file in
/// `--media` (0 when it is not there).
const IMAGES: &[(&str, Kind)] = &[
    ("id", Int),
    ("product_type", Text),
    ("product_id", Int),
    ("file_name", File(Area::Products)),
    ("thumbnail_name", OptFile(Area::Products)),
    ("content_type", Text),
    ("size_bytes", Int),
    ("is_primary", Bool),
    ("sort_order", Int),
    ("alt_text", Text),
    ("uploaded_at", Time),
];

const CARTS: &[(&str, Kind)] = &[
    ("id", Int),
    ("user_id", Int),
    ("created_at", Time),
    ("updated_at", Time),
];

const CART_ITEMS: &[(&str, Kind)] = &[
    ("id", Int),
    ("cart_id", Int),
    ("product_type", Text),
    ("product_id", Int),
    ("quantity", Int),
    ("added_at", Time),
];

/// `customer_address`, `customer_city`, `customer_state`, `customer_pincode` are ours only (manual
/// orders taken here): left at their default, `''`.
const ORDERS: &[(&str, Kind)] = &[
    ("id", Int),
    ("user_id", Int),
    ("order_number", Text),
    ("total_paise", Paise),
    ("status", Text),
    ("payment_status", Text),
    ("razorpay_order_id", Text),
    ("razorpay_payment_id", OptText),
    ("razorpay_signature", OptText),
    ("payment_completed_at", OptTime),
    ("assigned_to", OptInt),
    ("is_manual_order", Bool),
    ("order_source", Text),
    ("created_by", OptInt),
    ("payment_reference", Text),
    ("priority", Text),
    ("admin_notes", Text),
    ("created_at", Time),
    ("updated_at", Time),
];

/// `product_name` is ours only (the name printed on invoices): the product's name in the original
/// at import time, `''` when the product is gone.
const ORDER_ITEMS: &[(&str, Kind)] = &[
    ("id", Int),
    ("order_id", Int),
    ("product_type", Text),
    ("product_id", Int),
    ("product_name", Text),
    ("quantity", Int),
    ("price_paise", Paise),
    ("resources_uploaded", Bool),
];

const STATUS_HISTORY: &[(&str, Kind)] = &[
    ("id", Int),
    ("order_id", Int),
    ("old_status", Text),
    ("new_status", Text),
    ("changed_by", OptInt),
    ("changed_at", Time),
    ("reason", Text),
    ("is_manual_change", Bool),
];

const PAYMENT_HISTORY: &[(&str, Kind)] = &[
    ("id", Int),
    ("order_id", Int),
    ("payment_method", Text),
    ("transaction_id", Text),
    ("amount_paise", Paise),
    ("currency", Text),
    ("status", Text),
    ("payment_date", Time),
    ("invoice_generated_at", OptTime),
    ("invoice_number", Text),
    ("metadata", JsonText),
    ("created_at", Time),
    ("updated_at", Time),
];

const PAYMENT_RECORDS: &[(&str, Kind)] = &[
    ("id", Int),
    ("order_id", Int),
    ("amount_paise", Paise),
    ("payment_method", Text),
    ("payment_reference", Text),
    ("payment_proof", OptFile(Area::Resources)),
    ("recorded_by", OptInt),
    ("recorded_at", Time),
    ("notes", Text),
];

const ORDER_RESOURCES: &[(&str, Kind)] = &[
    ("id", Int),
    ("order_item_id", Int),
    ("candidate_photo", File(Area::Resources)),
    ("party_logo", File(Area::Resources)),
    ("campaign_slogan", Text),
    ("preferred_date", Text),
    ("whatsapp_number", Text),
    ("additional_notes", Text),
    ("uploaded_at", Time),
];

const SUBMISSIONS: &[(&str, Kind)] = &[
    ("id", Int),
    ("order_item_id", Int),
    ("field_id", Int),
    ("text_value", OptText),
    ("number_value", OptInt),
    ("file_value", OptFile(Area::Resources)),
    ("uploaded_at", Time),
];

const NOTIFICATIONS: &[(&str, Kind)] = &[
    ("id", Int),
    ("user_id", Int),
    ("notification_type", Text),
    ("title", Text),
    ("message", Text),
    ("order_id", OptInt),
    ("is_read", Bool),
    ("created_at", Time),
];

const CHECKLISTS: &[(&str, Kind)] = &[("id", Int), ("order_id", Int), ("created_at", Time)];

const CHECKLIST_ITEMS: &[(&str, Kind)] = &[
    ("id", Int),
    ("checklist_id", Int),
    ("template_item", OptInt),
    ("description", Text),
    ("completed", Bool),
    ("completed_at", OptTime),
    ("completed_by", OptInt),
    ("order_index", Int),
    ("is_optional", Bool),
];

use Missing::{Null, Skip};

/// The tables, parents first.
pub const TABLES: &[Spec] = &[
    Spec {
        table: "users",
        original: "authentication_customuser",
        columns: USERS,
        parents: &[],
    },
    Spec {
        table: "packages",
        original: "products_package",
        columns: PACKAGES,
        parents: &[parent("created_by", "users", Null)],
    },
    Spec {
        table: "package_items",
        original: "products_packageitem",
        columns: PACKAGE_ITEMS,
        parents: &[parent("package_id", "packages", Skip)],
    },
    Spec {
        table: "campaigns",
        original: "products_campaign",
        columns: CAMPAIGNS,
        parents: &[parent("created_by", "users", Null)],
    },
    Spec {
        table: "product_audit_logs",
        original: "products_productauditlog",
        columns: AUDIT_LOGS,
        parents: &[parent("user_id", "users", Null)],
    },
    Spec {
        table: "resource_field_definitions",
        original: "products_resourcefielddefinition",
        columns: FIELDS,
        parents: &[],
    },
    Spec {
        table: "checklist_template_items",
        original: "products_checklisttemplateitem",
        columns: TEMPLATES,
        parents: &[],
    },
    Spec {
        table: "product_images",
        original: "products_productimage",
        columns: IMAGES,
        parents: &[],
    },
    Spec {
        table: "carts",
        original: "cart_cart",
        columns: CARTS,
        parents: &[parent("user_id", "users", Skip)],
    },
    Spec {
        table: "cart_items",
        original: "cart_cartitem",
        columns: CART_ITEMS,
        parents: &[parent("cart_id", "carts", Skip)],
    },
    Spec {
        table: "orders",
        original: "orders_order",
        columns: ORDERS,
        parents: &[
            parent("user_id", "users", Skip),
            parent("assigned_to", "users", Null),
            parent("created_by", "users", Null),
        ],
    },
    Spec {
        table: "order_items",
        original: "orders_orderitem",
        columns: ORDER_ITEMS,
        parents: &[parent("order_id", "orders", Skip)],
    },
    Spec {
        table: "order_status_history",
        original: "orders_orderstatushistory",
        columns: STATUS_HISTORY,
        parents: &[
            parent("order_id", "orders", Skip),
            parent("changed_by", "users", Null),
        ],
    },
    Spec {
        table: "payment_history",
        original: "orders_paymenthistory",
        columns: PAYMENT_HISTORY,
        parents: &[parent("order_id", "orders", Skip)],
    },
    Spec {
        table: "payment_records",
        original: "orders_paymentrecord",
        columns: PAYMENT_RECORDS,
        parents: &[
            parent("order_id", "orders", Skip),
            parent("recorded_by", "users", Null),
        ],
    },
    Spec {
        table: "order_resources",
        original: "orders_orderresource",
        columns: ORDER_RESOURCES,
        parents: &[parent("order_item_id", "order_items", Skip)],
    },
    Spec {
        table: "resource_submissions",
        original: "orders_dynamicresourcesubmission",
        columns: SUBMISSIONS,
        parents: &[
            parent("order_item_id", "order_items", Skip),
            parent("field_id", "resource_field_definitions", Skip),
        ],
    },
    Spec {
        table: "notifications",
        original: "admin_panel_notification",
        columns: NOTIFICATIONS,
        parents: &[
            parent("user_id", "users", Skip),
            parent("order_id", "orders", Skip),
        ],
    },
    Spec {
        table: "order_checklists",
        original: "orders_orderchecklist",
        columns: CHECKLISTS,
        parents: &[parent("order_id", "orders", Skip)],
    },
    Spec {
        table: "checklist_items",
        original: "orders_checklistitem",
        columns: CHECKLIST_ITEMS,
        parents: &[
            parent("checklist_id", "order_checklists", Skip),
            parent("template_item", "checklist_template_items", Null),
            parent("completed_by", "users", Null),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_name_real_columns() {
        for (at, spec) in TABLES.iter().enumerate() {
            assert_eq!(spec.columns[0], ("id", Int), "{}", spec.table);
            for p in spec.parents {
                assert!(
                    spec.index_of(p.column).is_some(),
                    "{}.{}",
                    spec.table,
                    p.column
                );
                let parent_at = TABLES.iter().position(|s| s.table == p.table);
                assert!(
                    parent_at.is_some_and(|i| i < at),
                    "{} must come after {}",
                    spec.table,
                    p.table
                );
            }
        }
    }
}
