//! Password hashing (D15): Argon2id for new hashes; Django `pbkdf2_sha256$…` hashes verify and are upgraded on
//! the next login; unknown usernames cost one Argon2id verification like everyone else; all hashing runs
//! on the dedicated [`BlockingPool`].

use std::sync::{Arc, OnceLock};

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::{blocking::BlockingPool, error::AppError};

/// Stored for accounts that cannot log in with a password.
pub const UNUSABLE: &str = "!";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Correct; `rehash` holds an Argon2id replacement when the stored hash is a legacy one.
    Correct {
        rehash: Option<String>,
    },
    Wrong,
}

#[derive(Debug, Clone)]
pub struct Passwords {
    pool: BlockingPool,
    dummy: Arc<OnceLock<String>>,
}

impl Passwords {
    pub fn new(pool: BlockingPool) -> Self {
        Self {
            pool,
            dummy: Arc::new(OnceLock::new()),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.pool.run(move || hash_argon2(&password)).await?
    }

    /// Verifies against a stored hash (Argon2id PHC or Django PBKDF2), off the runtime.
    pub async fn verify(&self, password: String, stored: String) -> Result<Verdict, AppError> {
        self.pool
            .run(move || verify_blocking(&password, &stored))
            .await?
    }

    /// Spends the same work as a real verification, for usernames that do not exist.
    pub async fn verify_dummy(&self, password: String) -> Result<(), AppError> {
        let dummy = Arc::clone(&self.dummy);
        self.pool
            .run(move || {
                let stored = dummy.get_or_init(|| {
                    hash_argon2(&uuid::Uuid::new_v4().to_string()).unwrap_or_default()
                });
                let _ = verify_blocking(&password, stored);
            })
            .await
    }
}

fn hash_argon2(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 hashing failed: {e}")))
}

fn verify_blocking(password: &str, stored: &str) -> Result<Verdict, AppError> {
    if stored.starts_with("$argon2") {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Ok(Verdict::Wrong);
        };
        return Ok(
            match Argon2::default().verify_password(password.as_bytes(), &parsed) {
                Ok(()) => Verdict::Correct { rehash: None },
                Err(_) => Verdict::Wrong,
            },
        );
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        return Ok(if verify_django_pbkdf2(password, rest) {
            Verdict::Correct {
                rehash: Some(hash_argon2(password)?),
            }
        } else {
            Verdict::Wrong
        });
    }
    // Unusable ("!…", empty) or unknown formats never match.
    Ok(Verdict::Wrong)
}

/// `<iterations>$<salt>$<base64 sha256 digest>` as Django's `PBKDF2PasswordHasher` writes it.
fn verify_django_pbkdf2(password: &str, rest: &str) -> bool {
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    if iterations == 0 || iterations > 10_000_000 {
        return false;
    }
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(expected) else {
        return false;
    };
    if expected.len() != 32 {
        return false;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    bool::from(out.ct_eq(&expected))
}

/// Django's encoding, for fixtures and tests.
pub fn django_pbkdf2_hash(password: &str, salt: &str, iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_hashes_verify_and_upgrade() {
        // Computed with Python: hashlib.pbkdf2_hmac('sha256', b'correct horse', b'saltsalt', 1000)
        let stored = django_pbkdf2_hash("correct horse", "saltsalt", 1000);
        assert_eq!(
            stored,
            "pbkdf2_sha256$1000$saltsalt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0="
        );
        match verify_blocking("correct horse", &stored).expect("verify") {
            Verdict::Correct { rehash: Some(new) } => assert!(new.starts_with("$argon2id$")),
            other => panic!("expected an upgrade, got {other:?}"),
        }
        assert_eq!(
            verify_blocking("wrong", &stored).expect("verify"),
            Verdict::Wrong
        );
    }

    #[test]
    fn argon2_round_trip_and_garbage() {
        let h = hash_argon2("s3cret-pass").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            verify_blocking("s3cret-pass", &h).expect("verify"),
            Verdict::Correct { rehash: None }
        );
        assert_eq!(verify_blocking("nope", &h).expect("verify"), Verdict::Wrong);
        for stored in [
            "",
            UNUSABLE,
            "$argon2id$garbage",
            "pbkdf2_sha256$x$y$z",
            "md5$a$b",
        ] {
            assert_eq!(
                verify_blocking("x", stored).expect("verify"),
                Verdict::Wrong,
                "{stored}"
            );
        }
    }
}
