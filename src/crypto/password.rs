//! Password hashing (D15): Argon2id for new hashes; Django `pbkdf2_sha256$…` hashes verify and are upgraded on
//! the next login; unknown usernames cost one Argon2id verification like everyone else; all hashing runs
//! on the dedicated [`BlockingPool`].

use std::sync::{Arc, OnceLock};

use argon2::{Argon2, password_hash::phc::PasswordHash};
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
    /// The hashing threads' pool (its queue is a metric).
    pub fn pool(&self) -> &BlockingPool {
        &self.pool
    }

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

/// A new Argon2id hash (the library's defaults: m=19456, t=2, p=1; a 16-byte random salt) in PHC
/// form, computed in this thread's reused working memory ([`ARGON2_MEMORY`]) like verifications.
fn hash_argon2(password: &str) -> Result<String, AppError> {
    let salt = argon2::password_hash::try_generate_salt()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a salt: {e}")))?;
    let params = argon2::Params::default();
    let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
    let blocks = params.block_count();
    let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    with_memory(blocks, |memory| {
        hasher.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
    })
    .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 hashing failed: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={m},t={t},p={p}${}${}",
        b64.encode(salt),
        b64.encode(out)
    ))
}

fn verify_blocking(password: &str, stored: &str) -> Result<Verdict, AppError> {
    if stored.starts_with("$argon2") {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Ok(Verdict::Wrong);
        };
        return Ok(if verify_argon2(password.as_bytes(), &parsed) {
            Verdict::Correct { rehash: None }
        } else {
            Verdict::Wrong
        });
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

thread_local! {
    /// The Argon2 working memory of this hashing thread (19 MiB at the default parameters), kept
    /// between hashes and verifications. Allocated per call, glibc maps and unmaps it each time (its
    /// size sits at the mmap threshold), so every login page-faulted 19 MiB: ≈ 12 ms of kernel time
    /// per verification, measured; and once glibc had raised its threshold, per-call buffers came
    /// from malloc's arenas and stayed: 16 signups grew RSS from 26 to 86 MB. The hashing pool's
    /// threads are bounded, so are these buffers.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`PasswordVerifier::verify_password`] for a PHC Argon2 hash, computing into this thread's
/// reused memory; the outputs are compared in constant time.
fn verify_argon2(password: &[u8], hash: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    with_memory(blocks, |memory| {
        hasher.hash_password_into_with_memory(password, salt.as_ref(), &mut *out, memory)
    })
    .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
}

/// Runs `f` on this thread's Argon2 memory, sized to `blocks`.
fn with_memory<R>(blocks: usize, f: impl FnOnce(&mut [argon2::Block]) -> R) -> R {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        f(&mut memory[..])
    })
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
    use argon2::password_hash::{CustomizedPasswordHasher, PasswordVerifier};

    use super::*;

    /// The reused-memory verification agrees with the library's own, for the default parameters,
    /// other parameters (two lanes, a smaller memory: the buffer is resized between them),
    /// Argon2i/d and a truncated hash.
    #[test]
    fn argon2_verification_with_reused_memory_agrees_with_the_library() {
        let salt = b"0123456789abcdef";
        let cases = [
            (argon2::Algorithm::Argon2id, argon2::Params::default()),
            (
                argon2::Algorithm::Argon2id,
                argon2::Params::new(64, 1, 2, Some(16)).expect("params"),
            ),
            (
                argon2::Algorithm::Argon2i,
                argon2::Params::new(32, 2, 1, None).expect("params"),
            ),
            (
                argon2::Algorithm::Argon2d,
                argon2::Params::new(128, 1, 4, Some(64)).expect("params"),
            ),
        ];
        for (algorithm, params) in cases {
            let hash = Argon2::default()
                .hash_password_customized(
                    b"right password",
                    salt,
                    Some(algorithm.as_str()),
                    None,
                    params.clone(),
                )
                .expect("hash");
            let text = hash.to_string();
            let parsed = PasswordHash::new(&text).expect("parse");
            for (password, right) in [(&b"right password"[..], true), (b"wrong password", false)] {
                let library = Argon2::default().verify_password(password, &parsed).is_ok();
                assert_eq!(library, right, "{text}");
                assert_eq!(verify_argon2(password, &parsed), right, "{text}");
            }
        }
        // A hash without its output or with a tampered one never verifies.
        let text = hash_argon2("pw").expect("hash");
        let (head, _) = text.rsplit_once('$').expect("output");
        let tampered = format!("{head}$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert!(!verify_argon2(
            b"pw",
            &PasswordHash::new(&tampered).expect("parse")
        ));
        assert_eq!(
            verify_blocking("pw", &text).expect("verify"),
            Verdict::Correct { rehash: None }
        );
    }

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
        // The library reads and verifies what we write.
        let parsed = PasswordHash::new(&h).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"s3cret-pass", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"other", &parsed)
                .is_err()
        );
        assert_ne!(
            hash_argon2("s3cret-pass").expect("hash"),
            h,
            "a fresh salt each time"
        );
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
