//! Account operations shared by the operator subcommands (`create-admin`, `seed-demo`).

use crate::{
    auth::{
        model::{NewUser, Role, User},
        policy,
        repo::{self, CreateError},
    },
    crypto::password::{self, Verdict},
    state::AppState,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    Created,
    /// Existed; role, activity or password were brought in line.
    Updated,
    Unchanged,
}

/// Makes sure `username` exists, is active, has `role` and (when given) `password`. Idempotent: a
/// second run with the same arguments changes nothing (and voids no tokens).
pub async fn ensure_user(
    state: &AppState,
    username: &str,
    password: Option<&str>,
    role: Role,
    phone: Option<&str>,
) -> anyhow::Result<(User, Ensured)> {
    if let Some(p) = password {
        policy::check_policy(p, username).map_err(|m| anyhow::anyhow!("password rejected: {m}"))?;
    }
    if let Some(user) = repo::find_by_username(&state.db, username).await? {
        let mut outcome = Ensured::Unchanged;
        let mut user = user;
        if user.role() != role || !user.is_active {
            user = repo::reactivate_as(&state.db, user.id, role)
                .await?
                .ok_or_else(|| anyhow::anyhow!("user {username} vanished"))?;
            crate::auth::cache::invalidate_user(&state.cache, user.id).await;
            outcome = Ensured::Updated;
        }
        if let Some(p) = password {
            let current = state
                .passwords
                .verify(p.to_string(), user.password.clone())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if !matches!(current, Verdict::Correct { rehash: None }) {
                let hash = state
                    .passwords
                    .hash(p.to_string())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                repo::change_password(&state.db, user.id, &hash).await?;
                crate::auth::cache::invalidate_user(&state.cache, user.id).await;
                outcome = Ensured::Updated;
            }
        }
        return Ok((user, outcome));
    }
    let hash = match password {
        Some(p) => state
            .passwords
            .hash(p.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        None => password::UNUSABLE.to_string(),
    };
    let new = NewUser {
        username: username.to_string(),
        password_hash: hash,
        phone_number: phone.map(str::to_string).filter(|p| !p.is_empty()),
        firebase_uid: None,
        role,
    };
    match repo::create(&state.db, &new).await {
        Ok(user) => Ok((user, Ensured::Created)),
        Err(CreateError::Taken(field)) => {
            anyhow::bail!("cannot create {username}: {field:?} already taken by another account")
        }
        Err(CreateError::Db(e)) => Err(e.into()),
    }
}

/// The account `id`, read inside the caller's transaction.
pub async fn find_in(tx: &mut crate::db::Tx, id: i64) -> Result<Option<User>, sqlx::Error> {
    repo::find_by_id_in(tx, id).await
}

/// The account with this exact phone number, inside the caller's transaction.
pub async fn find_by_phone_in(
    tx: &mut crate::db::Tx,
    phone: &str,
) -> Result<Option<User>, sqlx::Error> {
    repo::find_by_phone_in(tx, phone).await
}

pub async fn username_taken_in(
    tx: &mut crate::db::Tx,
    username: &str,
) -> Result<bool, sqlx::Error> {
    repo::username_taken_in(tx, username).await
}

/// Sets a customer's first name and (when given) email; the cached user entry is left to expire
/// (its role and activity, what authentication reads, are unchanged).
pub async fn set_profile_in(
    tx: &mut crate::db::Tx,
    id: i64,
    first_name: &str,
    email: Option<&str>,
) -> Result<(), sqlx::Error> {
    repo::set_profile_in(tx, id, first_name, email).await
}

/// A new account inside the caller's transaction (manual orders create their customers).
pub async fn insert_in(
    tx: &mut crate::db::Tx,
    new: &NewUser,
) -> Result<User, crate::error::AppError> {
    repo::insert(tx, new).await.map_err(|e| match e {
        CreateError::Taken(taken) => crate::error::AppError::Message(
            axum::http::StatusCode::BAD_REQUEST,
            format!(
                "A user with this {} already exists",
                match taken {
                    repo::Taken::Username => "username",
                    repo::Taken::Phone => "phone number",
                    repo::Taken::FirebaseUid => "Firebase id",
                }
            ),
        ),
        CreateError::Db(e) => e.into(),
    })
}
