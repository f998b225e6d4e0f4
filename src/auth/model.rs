//! Users, roles and the `UserSerializer` shape (contract-A §3.3).

use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

use crate::timefmt::iso_at;

/// `role` is the only authority (D14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Staff,
    Admin,
}

impl Role {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "user" => Some(Role::User),
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    pub firebase_uid: Option<String>,
    pub role: String,
    pub is_active: bool,
    pub last_login: Option<OffsetDateTime>,
    pub password_changed_at: Option<i64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl User {
    /// An unknown stored role (impossible through the CHECK constraint) counts as the least privilege.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    pub fn is_staff_or_admin(&self) -> bool {
        matches!(self.role(), Role::Staff | Role::Admin)
    }
}

/// `{"id","username","phone_number","role","created_at","order_count"}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    /// `""` when the account has no phone number (the original's signup encoding).
    pub phone_number: String,
    pub role: String,
    pub created_at: String,
    pub order_count: i64,
}

impl UserOut {
    pub fn new(user: &User, tz: UtcOffset, order_count: i64) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            phone_number: user.phone_number.clone().unwrap_or_default(),
            role: user.role.clone(),
            created_at: iso_at(user.created_at, tz),
            order_count,
        }
    }
}

/// What a new account is made of.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub phone_number: Option<String>,
    pub firebase_uid: Option<String>,
    pub role: Role,
}

// ---- request bodies, as the OpenAPI document describes them -------------------------------------

/// `POST /api/auth/login/`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginIn {
    #[schema(min_length = 1)]
    pub username: String,
    #[schema(min_length = 1)]
    pub password: String,
}

/// `POST /api/auth/signup/` (the role is always `user`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SignupIn {
    #[schema(min_length = 1, max_length = 150)]
    pub username: String,
    /// At least 8 characters, not only digits, not a common password, not like the username.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    #[schema(max_length = 15)]
    pub phone_number: Option<String>,
}

/// `POST /api/auth/users/create/` (no password: a random one nobody knows).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UserCreateIn {
    #[schema(min_length = 1, max_length = 150)]
    pub username: String,
    #[schema(min_length = 1, max_length = 15)]
    pub phone_number: String,
    /// Default `user`.
    pub role: Option<RoleName>,
    #[schema(max_length = 128)]
    pub firebase_uid: Option<String>,
    pub password: Option<String>,
}

/// `PATCH /api/auth/users/{id}/role/`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RoleIn {
    pub role: RoleName,
}

/// `user`, `staff` or `admin`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RoleName {
    User,
    Staff,
    Admin,
}
