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
