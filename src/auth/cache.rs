//! The user-by-id entry read on every authenticated request (DESIGN §4): every field of the row except
//! the password hash, which never leaves the database. Cached in Redis only (see
//! [`CacheOptions::redis_only`]): without Redis the row is read on every call, exactly as before the
//! cache. Every change to a user invalidates the entry ([`invalidate_user`]).

use std::future::Future;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    auth::model::User,
    cache::{Cache, CacheOptions},
    state::AppState,
};

/// Bump when the shape changes: old entries are then simply never read again.
const USER_KEY_PREFIX: &str = "auth:user:v1:";

pub fn user_key(id: i64) -> String {
    format!("{USER_KEY_PREFIX}{id}")
}

#[derive(Debug, Serialize, Deserialize)]
struct CachedUser {
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

/// The user `id` for authentication (the password hash left empty), cached for
/// `CACHE_USER_TTL_SECONDS`. An unknown id is not cached (the account may be created later).
pub async fn user_by_id<E, Fut>(
    state: &AppState,
    id: i64,
    load: impl FnOnce() -> Fut,
) -> Result<Option<User>, E>
where
    Fut: Future<Output = Result<Option<User>, E>>,
{
    enum Load<E> {
        Missing,
        Failed(E),
    }
    let options = CacheOptions::new(state.config.cache_user_ttl).redis_only();
    let found = state
        .cache
        // The load (a query: a large future) is started, and boxed, only when it runs: held
        // inline it made every authenticated handler's future that large (see `catalog`'s `cached`).
        .get_or_compute_with(&user_key(id), options, async move {
            match Box::pin(load()).await {
                Ok(Some(user)) => Ok(CachedUser::from(user)),
                Ok(None) => Err(Load::Missing),
                Err(e) => Err(Load::Failed(e)),
            }
        })
        .await;
    match found {
        Ok(user) => Ok(Some(User::from(user))),
        Err(Load::Missing) => Ok(None),
        Err(Load::Failed(e)) => Err(e),
    }
}

/// Call after any change to user `id` (role, activity, password, deletion).
pub async fn invalidate_user(cache: &Cache, id: i64) {
    cache.invalidate(&user_key(id)).await;
}
