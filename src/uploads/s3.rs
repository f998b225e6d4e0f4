//! [`Storage`] on S3-compatible object storage (D19, issue 10: several instances share files):
//! `PUT`/`GET`/`DELETE` of `<area>/<name>` objects, signed with AWS Signature Version 4 over the
//! shared `reqwest` client (the three calls are all this needs, so no SDK: `object_store` and the AWS
//! SDK would bring a second reqwest and the aws-lc-rs TLS provider this build leaves out). Keys are
//! the server's generated names only, so nothing needs URI-escaping; the bucket is never listed.

use std::{fmt, io, time::Duration};

use axum::body::Bytes;
use futures_util::{StreamExt, TryStreamExt, future::BoxFuture};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, macros::format_description};

use super::storage::{Area, Storage, StoredName, StoredObject};

/// Where and how to reach the bucket.
#[derive(Clone)]
pub struct S3Settings {
    /// `https://s3.<region>.amazonaws.com`, or a compatible server's base URL.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `endpoint/bucket/key` (most compatible servers) instead of `bucket.endpoint/key`.
    pub path_style: bool,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct S3Storage {
    settings: S3Settings,
    http: reqwest::Client,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn other(error: impl fmt::Display) -> io::Error {
    io::Error::other(format!("object storage: {error}"))
}

impl S3Storage {
    pub fn new(settings: S3Settings) -> Self {
        crate::crypto::install_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { settings, http }
    }

    /// `(url, host, canonical path)` of a key (`""`: the bucket itself).
    fn locate(&self, key: &str) -> Result<(String, String, String), io::Error> {
        let base = self.settings.endpoint.trim_end_matches('/');
        let (scheme, rest) = base
            .split_once("://")
            .ok_or_else(|| other("S3_ENDPOINT has no scheme"))?;
        let host = rest.split('/').next().unwrap_or(rest).to_string();
        let bucket = &self.settings.bucket;
        let suffix = if key.is_empty() {
            String::new()
        } else {
            format!("/{key}")
        };
        Ok(if self.settings.path_style {
            let path = format!("/{bucket}{suffix}");
            (format!("{scheme}://{host}{path}"), host, path)
        } else {
            let host = format!("{bucket}.{host}");
            let path = if suffix.is_empty() {
                "/".to_string()
            } else {
                suffix
            };
            (format!("{scheme}://{host}{path}"), host, path)
        })
    }

    /// A request signed with SigV4 (headers `host`, `x-amz-content-sha256`, `x-amz-date`).
    fn signed(
        &self,
        method: reqwest::Method,
        key: &str,
        body: &[u8],
    ) -> Result<reqwest::RequestBuilder, io::Error> {
        let (url, host, path) = self.locate(key)?;
        let now = OffsetDateTime::now_utc();
        let amz_date = now
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .map_err(other)?;
        let date = &amz_date[..8];
        let payload_hash = hex(&Sha256::digest(body));
        let canonical = format!(
            "{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\n\
             host;x-amz-content-sha256;x-amz-date\n{payload_hash}"
        );
        let region = &self.settings.region;
        let scope = format!("{date}/{region}/s3/aws4_request");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let key_date = hmac(
            format!("AWS4{}", self.settings.secret_access_key).as_bytes(),
            date.as_bytes(),
        );
        let key_region = hmac(&key_date, region.as_bytes());
        let key_service = hmac(&key_region, b"s3");
        let key_signing = hmac(&key_service, b"aws4_request");
        let signature = hex(&hmac(&key_signing, to_sign.as_bytes()));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
            self.settings.access_key_id
        );
        Ok(self
            .http
            .request(method, url)
            .header("host", host)
            .header("x-amz-content-sha256", payload_hash)
            .header("x-amz-date", amz_date)
            .header("authorization", authorization))
    }

    fn key(area: Area, name: &StoredName) -> String {
        format!("{}/{}", area.dir(), name.as_str())
    }

    /// Creates the bucket (tests and first-time setup; an existing bucket of ours is fine).
    pub async fn create_bucket(&self) -> io::Result<()> {
        let response = self
            .signed(reqwest::Method::PUT, "", b"")?
            .send()
            .await
            .map_err(other)?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::CONFLICT {
            Ok(())
        } else {
            Err(other(format!("create bucket: HTTP {status}")))
        }
    }
}

impl Storage for S3Storage {
    fn put<'a>(
        &'a self,
        area: Area,
        name: &'a StoredName,
        bytes: Bytes,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let response = self
                .signed(reqwest::Method::PUT, &Self::key(area, name), &bytes)?
                .body(bytes)
                .send()
                .await
                .map_err(other)?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(other(format!("put: HTTP {status}")))
            }
        })
    }

    fn get<'a>(
        &'a self,
        area: Area,
        name: &'a StoredName,
    ) -> BoxFuture<'a, io::Result<Option<StoredObject>>> {
        Box::pin(async move {
            let response = self
                .signed(reqwest::Method::GET, &Self::key(area, name), b"")?
                .send()
                .await
                .map_err(other)?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(other(format!("get: HTTP {status}")));
            }
            let len = response.content_length().unwrap_or(0);
            let body = response.bytes_stream().map_err(other).boxed();
            Ok(Some(StoredObject { len, body }))
        })
    }

    fn delete<'a>(&'a self, area: Area, name: &'a StoredName) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let response = self
                .signed(reqwest::Method::DELETE, &Self::key(area, name), b"")?
                .send()
                .await
                .map_err(other)?;
            let status = response.status();
            if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
                Ok(())
            } else {
                Err(other(format!("delete: HTTP {status}")))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_follows_aws_sigv4() {
        // AWS's documented example key derivation (secret "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        // 20120215, us-east-1, iam).
        let k_date = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215");
        let k_region = hmac(&k_date, b"us-east-1");
        let k_service = hmac(&k_region, b"iam");
        let k_signing = hmac(&k_service, b"aws4_request");
        assert_eq!(
            hex(&k_signing),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn keys_are_located_path_or_host_style() {
        let settings = S3Settings {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "media".into(),
            region: "us-east-1".into(),
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
            path_style: true,
        };
        let s3 = S3Storage::new(settings.clone());
        assert_eq!(
            s3.locate("resources/a.png").expect("url"),
            (
                "http://127.0.0.1:9000/media/resources/a.png".into(),
                "127.0.0.1:9000".into(),
                "/media/resources/a.png".into()
            )
        );
        let s3 = S3Storage::new(S3Settings {
            path_style: false,
            endpoint: "https://s3.amazonaws.com".into(),
            ..settings
        });
        assert_eq!(
            s3.locate("x/y.pdf").expect("url").0,
            "https://media.s3.amazonaws.com/x/y.pdf"
        );
    }
}
