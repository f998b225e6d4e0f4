//! The user-by-id entry used by authentication (DESIGN §4): every field of the row except the password
//! hash, which never leaves the database.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::model::User;

/// Bump when the shape changes: old entries are then simply never read again.
const USER_KEY_PREFIX: &str = "auth:user:v1:";

pub fn user_key(id: i64) -> String {
    format!("{USER_KEY_PREFIX}{id}")
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct CachedUser {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    phone_number: Option<String>,
    firebase_uid: Option<String>,
    role: String,
    is_active: bool,
    last_login: Option<OffsetDateTime>,
    password_changed_at: Option<i64>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<User> for CachedUser {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            phone_number: u.phone_number,
            firebase_uid: u.firebase_uid,
            role: u.role,
            is_active: u.is_active,
            last_login: u.last_login,
            password_changed_at: u.password_changed_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl From<CachedUser> for User {
    fn from(c: CachedUser) -> Self {
        User {
            id: c.id,
            username: c.username,
            password: String::new(),
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            phone_number: c.phone_number,
            firebase_uid: c.firebase_uid,
            role: c.role,
            is_active: c.is_active,
            last_login: c.last_login,
            password_changed_at: c.password_changed_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
