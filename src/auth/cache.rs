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

/// Bump when the shape changes: old entries are then simply never read again (v2: timestamps as
/// unix nanoseconds).
const USER_KEY_PREFIX: &str = "auth:user:v2:";

pub fn user_key(id: i64) -> String {
    format!("{USER_KEY_PREFIX}{id}")
}

/// Decoded on every authenticated request with Redis: the timestamps are stored as unix
/// nanoseconds (one integer each), not serde's default for `OffsetDateTime` (a nine-integer tuple
/// that costs about 5 % of a cached `me`, issue 8). They come back in UTC, the same instants.
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
    #[serde(with = "time::serde::timestamp::nanoseconds::option")]
    last_login: Option<OffsetDateTime>,
    password_changed_at: Option<i64>,
    #[serde(with = "time::serde::timestamp::nanoseconds")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::timestamp::nanoseconds")]
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_cached_user_keeps_every_field_and_instant() {
        let user = User {
            id: 7,
            username: "asha".into(),
            password: "argon2id$never-cached".into(),
            email: "asha@example.com".into(),
            first_name: "Asha".into(),
            last_name: "Rao".into(),
            phone_number: Some("9876543210".into()),
            firebase_uid: None,
            role: "staff".into(),
            is_active: true,
            last_login: Some(datetime!(2026-12-06 10:15:30.123456789 +05:30)),
            password_changed_at: Some(1_765_000_000),
            created_at: datetime!(1999-01-02 03:04:05.000001 UTC),
            updated_at: datetime!(2026-12-06 04:45:30.5 UTC),
        };
        let stored = serde_json::to_string(&CachedUser::from(user.clone())).expect("encode");
        assert!(!stored.contains("argon2id"), "{stored}");
        // One integer per timestamp.
        assert!(
            stored.contains("\"updated_at\":1796532330500000000"),
            "{stored}"
        );
        let back = User::from(serde_json::from_str::<CachedUser>(&stored).expect("decode"));
        assert_eq!(back.password, "");
        assert_eq!(
            (back.last_login, back.created_at, back.updated_at),
            (user.last_login, user.created_at, user.updated_at)
        );
        assert_eq!(
            (
                back.id,
                &back.username,
                &back.email,
                &back.role,
                back.is_active
            ),
            (7, &user.username, &user.email, &user.role, true)
        );
        assert_eq!(
            (
                &back.phone_number,
                &back.firebase_uid,
                back.password_changed_at
            ),
            (&user.phone_number, &None, Some(1_765_000_000))
        );
        assert_eq!(
            (&back.first_name, &back.last_name),
            (&user.first_name, &user.last_name)
        );
        let none = r#"{"id":1,"username":"u","email":"","first_name":"","last_name":"","phone_number":null,"firebase_uid":null,"role":"customer","is_active":false,"last_login":null,"password_changed_at":null,"created_at":0,"updated_at":0}"#;
        let none = User::from(serde_json::from_str::<CachedUser>(none).expect("decode"));
        assert_eq!(none.last_login, None);
        assert_eq!(none.created_at, OffsetDateTime::UNIX_EPOCH);
    }
}
