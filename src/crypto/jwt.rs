//! Tokens compatible with the original (D12): HS256 only, claims `user_id`, `phone_number`, `role`,
//! `exp`, `iat`, signed with `DJANGO_SECRET_KEY`, so tokens minted by the original keep working.

use std::{collections::HashSet, time::Duration};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode, errors::ErrorKind,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub user_id: i64,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub role: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

/// Allowed clock difference for `iat` in the future.
const IAT_SKEW_SECONDS: i64 = 60;

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &str, lifetime: Duration) -> Self {
        // Explicit provider choice: feature unification must never leave jsonwebtoken without one.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.required_spec_claims = HashSet::from(["exp".to_string()]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            lifetime,
        }
    }

    /// A token for the user `user_id` (with the claims the original put beside it).
    pub fn issue(
        &self,
        user_id: i64,
        phone_number: Option<&str>,
        role: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            user_id,
            phone_number: phone_number.map(str::to_string),
            role: role.to_string(),
            exp: now + self.lifetime.as_secs() as i64,
            iat: Some(now),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let claims = data.claims;
        if claims
            .iat
            .is_some_and(|iat| iat > OffsetDateTime::now_utc().unix_timestamp() + IAT_SKEW_SECONDS)
        {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};

    const SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    }

    /// Signs like PyJWT does, independently of jsonwebtoken.
    fn sign(header: &str, payload: &str, alg: &str, key: &str) -> String {
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let sig = match alg {
            "HS256" => {
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            "HS384" => {
                let mut mac = Hmac::<sha2::Sha384>::new_from_slice(key.as_bytes()).expect("key");
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            "HS512" => {
                let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).expect("key");
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            _ => Vec::new(),
        };
        format!("{signing_input}.{}", b64(&sig))
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn accepts_a_token_made_like_the_original() {
        let keys = JwtKeys::new(SECRET, Duration::from_secs(604_800));
        let payload = format!(
            r#"{{"user_id":1,"phone_number":"+919111111111","role":"admin","exp":{},"iat":{}}}"#,
            now() + 600,
            now()
        );
        let token = sign(r#"{"alg":"HS256","typ":"JWT"}"#, &payload, "HS256", SECRET);
        let claims = keys.verify(&token).expect("original token accepted");
        assert_eq!(claims.user_id, 1);
        assert_eq!(claims.role, "admin");
    }

    #[test]
    fn rejects_everything_else() {
        let keys = JwtKeys::new(SECRET, Duration::from_secs(604_800));
        let good = format!(
            r#"{{"user_id":1,"role":"user","exp":{},"iat":{}}}"#,
            now() + 600,
            now()
        );
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let cases = [
            (
                "alg none",
                format!(
                    "{}.{}.",
                    b64(br#"{"alg":"none","typ":"JWT"}"#),
                    b64(good.as_bytes())
                ),
            ),
            (
                "HS384",
                sign(r#"{"alg":"HS384","typ":"JWT"}"#, &good, "HS384", SECRET),
            ),
            (
                "HS512",
                sign(r#"{"alg":"HS512","typ":"JWT"}"#, &good, "HS512", SECRET),
            ),
            (
                "wrong key",
                sign(
                    header,
                    &good,
                    "HS256",
                    "another-key-of-sufficient-length-000000",
                ),
            ),
            (
                "no exp",
                sign(header, r#"{"user_id":1,"role":"user"}"#, "HS256", SECRET),
            ),
            ("garbage", "not.a.token".to_string()),
            ("empty", String::new()),
            (
                "iat in the future",
                sign(
                    header,
                    &format!(
                        r#"{{"user_id":1,"exp":{},"iat":{}}}"#,
                        now() + 9000,
                        now() + 3600
                    ),
                    "HS256",
                    SECRET,
                ),
            ),
            (
                "nbf in the future",
                sign(
                    header,
                    &format!(
                        r#"{{"user_id":1,"exp":{},"nbf":{}}}"#,
                        now() + 9000,
                        now() + 3600
                    ),
                    "HS256",
                    SECRET,
                ),
            ),
            (
                "string user id",
                sign(
                    header,
                    &format!(r#"{{"user_id":"1","exp":{}}}"#, now() + 600),
                    "HS256",
                    SECRET,
                ),
            ),
        ];
        for (name, token) in cases {
            assert_eq!(keys.verify(&token), Err(TokenError::Invalid), "{name}");
        }
        // Tampered payload with the original signature.
        let token = sign(header, &good, "HS256", SECRET);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(good.replace("\"user\"", "\"admin\"").as_bytes());
        parts[1] = &forged;
        assert_eq!(keys.verify(&parts.join(".")), Err(TokenError::Invalid));

        let expired = sign(
            header,
            &format!(r#"{{"user_id":1,"exp":{}}}"#, now() - 5),
            "HS256",
            SECRET,
        );
        assert_eq!(keys.verify(&expired), Err(TokenError::Expired));
    }
}
