//! The users table: every query the auth feature runs, on SQLite and PostgreSQL alike.

use crate::{
    auth::model::{NewUser, Role, User},
    db::{Db, Tx},
    db_read, db_write, tx_run,
};

/// Every column after `id, username, password`.
macro_rules! user_columns_after_password {
    () => {
        "email, first_name, last_name, phone_number, firebase_uid, role, is_active, last_login, \
         password_changed_at, created_at, updated_at"
    };
}

macro_rules! user_columns {
    () => {
        concat!("id, username, password, ", user_columns_after_password!())
    };
}

const BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
/// [`BY_ID`] without the password hash (an empty string in its place): the authentication of
/// every request never needs it (issue 8: a narrower row on every authenticated request).
const AUTH_BY_ID: &str = concat!(
    "SELECT id, username, CAST('' AS TEXT) AS password, ",
    user_columns_after_password!(),
    " FROM users WHERE id = $1"
);
const BY_USERNAME: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username = $1"
);
const INSERT: &str = concat!(
    "INSERT INTO users (username, password, phone_number, firebase_uid, role, is_active, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING ",
    user_columns!()
);
const LIST: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", (SELECT COUNT(*) FROM orders o WHERE o.user_id = users.id) AS order_count",
    " FROM users WHERE is_active = TRUE AND ($1 IS NULL OR role = $1) AND ($2 IS NULL OR \
     LOWER(username) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(phone_number, '')) LIKE $2 ESCAPE '\\') \
     ORDER BY created_at DESC, id DESC"
);
const SET_ROLE: &str = concat!(
    "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1 AND is_active = TRUE RETURNING ",
    user_columns!()
);
const DEACTIVATE: &str =
    "UPDATE users SET is_active = FALSE, updated_at = $2 WHERE id = $1 AND is_active = TRUE";
const SET_PASSWORD: &str = "UPDATE users SET password = $2, updated_at = $3 WHERE id = $1";
const CHANGE_PASSWORD: &str =
    "UPDATE users SET password = $2, password_changed_at = $4, updated_at = $3 WHERE id = $1";
const TOUCH_LOGIN: &str = "UPDATE users SET last_login = $2 WHERE id = $1";
const COUNT_ADMINS: &str = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = TRUE";
const USERNAME_TAKEN: &str = "SELECT COUNT(*) FROM users WHERE username = $1";
const PHONE_TAKEN: &str = "SELECT COUNT(*) FROM users WHERE phone_number = $1";
const FIREBASE_TAKEN: &str = "SELECT COUNT(*) FROM users WHERE firebase_uid = $1";
const REACTIVATE_AS: &str = concat!(
    "UPDATE users SET role = $2, is_active = TRUE, updated_at = $3 WHERE id = $1 RETURNING ",
    user_columns!()
);

/// Which unique field a write collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Username,
    Phone,
    FirebaseUid,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{0:?} already exists")]
    Taken(Taken),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub use crate::db::now;

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, User>(BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// The user `id` for authentication: every field but the password hash, which stays empty.
pub async fn find_for_auth(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, User>(AUTH_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<User>, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_as::<_, User>(BY_USERNAME)
        .bind(username)
        .fetch_optional(pool)
        .await)
}

pub async fn create(db: &Db, new: &NewUser) -> Result<User, CreateError> {
    let mut tx = db.begin().await.map_err(CreateError::Db)?;
    let user = insert(&mut tx, new).await?;
    tx.commit().await.map_err(CreateError::Db)?;
    Ok(user)
}

/// [`create`] inside a transaction that other statements share (manual orders create customers).
pub async fn insert(tx: &mut Tx, new: &NewUser) -> Result<User, CreateError> {
    let result = tx_run!(tx, |conn| sqlx::query_as::<_, User>(INSERT)
        .bind(&new.username)
        .bind(&new.password_hash)
        .bind(&new.phone_number)
        .bind(&new.firebase_uid)
        .bind(new.role.as_str())
        .bind(now())
        .fetch_one(&mut *conn)
        .await);
    result.map_err(|e| match unique_violation(&e) {
        Some(taken) => CreateError::Taken(taken),
        None => CreateError::Db(e),
    })
}

/// Maps a unique-constraint error to the field it concerns (PostgreSQL names the constraint,
/// SQLite the column).
pub fn unique_violation(error: &sqlx::Error) -> Option<Taken> {
    let sqlx::Error::Database(db_error) = error else {
        return None;
    };
    if !db_error.is_unique_violation() {
        return None;
    }
    let text = format!(
        "{} {}",
        db_error.constraint().unwrap_or_default(),
        db_error.message()
    );
    if text.contains("phone_number") {
        Some(Taken::Phone)
    } else if text.contains("firebase_uid") {
        Some(Taken::FirebaseUid)
    } else if text.contains("username") {
        Some(Taken::Username)
    } else {
        None
    }
}

/// Active users, newest first; `role` exact, `search` a case-insensitive substring of username or phone.
/// A user of the admin's list, with how many orders they placed as a customer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    pub user: User,
    pub order_count: i64,
}

pub async fn list(
    db: &Db,
    role: Option<&str>,
    search: Option<&str>,
) -> Result<Vec<Listed>, sqlx::Error> {
    let pattern = search.map(|s| {
        let escaped = s
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    db_read!(db, |pool| sqlx::query_as::<_, Listed>(LIST)
        .bind(role)
        .bind(pattern.as_deref())
        .fetch_all(pool)
        .await)
}

pub async fn set_role(db: &Db, id: i64, role: Role) -> Result<Option<User>, sqlx::Error> {
    db_write!(db, |pool| sqlx::query_as::<_, User>(SET_ROLE)
        .bind(id)
        .bind(role.as_str())
        .bind(now())
        .fetch_optional(pool)
        .await)
}

/// Makes an existing account an active holder of `role` (create-admin on an existing username).
pub async fn reactivate_as(db: &Db, id: i64, role: Role) -> Result<Option<User>, sqlx::Error> {
    db_write!(db, |pool| sqlx::query_as::<_, User>(REACTIVATE_AS)
        .bind(id)
        .bind(role.as_str())
        .bind(now())
        .fetch_optional(pool)
        .await)
}

/// D16: "deleting" a user deactivates the account; orders and payments stay.
pub async fn deactivate(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = db_write!(db, |pool| sqlx::query(DEACTIVATE)
        .bind(id)
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Replaces the stored hash without voiding tokens (a legacy-hash upgrade).
pub async fn upgrade_password_hash(db: &Db, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    db_write!(db, |pool| sqlx::query(SET_PASSWORD)
        .bind(id)
        .bind(hash)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))
}

/// A real password change: tokens issued before it stop working.
pub async fn change_password(db: &Db, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    let at = now();
    db_write!(db, |pool| sqlx::query(CHANGE_PASSWORD)
        .bind(id)
        .bind(hash)
        .bind(at)
        .bind(at.unix_timestamp())
        .execute(pool)
        .await
        .map(|_| ()))
}

pub async fn touch_last_login(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    db_write!(db, |pool| sqlx::query(TOUCH_LOGIN)
        .bind(id)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))
}

pub async fn count_active_admins(db: &Db) -> Result<i64, sqlx::Error> {
    db_read!(db, |pool| sqlx::query_scalar::<_, i64>(COUNT_ADMINS)
        .fetch_one(pool)
        .await)
}

pub async fn is_taken(db: &Db, field: Taken, value: &str) -> Result<bool, sqlx::Error> {
    let sql = match field {
        Taken::Username => USERNAME_TAKEN,
        Taken::Phone => PHONE_TAKEN,
        Taken::FirebaseUid => FIREBASE_TAKEN,
    };
    let count = db_read!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
        .bind(value)
        .fetch_one(pool)
        .await)?;
    Ok(count > 0)
}

const BY_PHONE: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE phone_number = $1"
);

/// The account with this exact phone number, inside the caller's transaction.
pub async fn find_by_phone_in(tx: &mut Tx, phone: &str) -> Result<Option<User>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_as::<_, User>(BY_PHONE)
        .bind(phone)
        .fetch_optional(&mut *conn)
        .await)
}

pub async fn find_by_id_in(tx: &mut Tx, id: i64) -> Result<Option<User>, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_as::<_, User>(BY_ID)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await)
}

pub async fn username_taken_in(tx: &mut Tx, username: &str) -> Result<bool, sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query_scalar::<_, i64>(USERNAME_TAKEN)
        .bind(username)
        .fetch_one(&mut *conn)
        .await
        .map(|n| n > 0))
}

/// Sets the first name and (when given) the email, inside the caller's transaction.
pub async fn set_profile_in(
    tx: &mut Tx,
    id: i64,
    first_name: &str,
    email: Option<&str>,
) -> Result<(), sqlx::Error> {
    tx_run!(tx, |conn| sqlx::query(
        "UPDATE users SET first_name = $2, email = COALESCE($3, email), updated_at = $4 \
         WHERE id = $1"
    )
    .bind(id)
    .bind(first_name)
    .bind(email)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map(|_| ()))
}
