//! The client's IP address, from the source the deployment configures (`CLIENT_IP_SOURCE`):
//! `X-Real-IP` (Railway's edge overwrites it), the rightmost `X-Forwarded-For` entry (the hop your own
//! proxy appended), or the TCP peer. Leftmost `X-Forwarded-For` entries are never trusted.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::ClientIpSource;

/// Resolves the client address; falls back to the peer (or `unknown`) when the header is absent
/// or malformed.
pub fn resolve(source: ClientIpSource, headers: &HeaderMap, peer: Option<IpAddr>) -> String {
    let from_header = match source {
        ClientIpSource::XRealIp => headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<IpAddr>().ok()),
        ClientIpSource::RightmostXForwardedFor => headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .rev()
            .find(|s| !s.trim().is_empty())
            .and_then(|v| v.trim().parse::<IpAddr>().ok()),
        ClientIpSource::Socket => None,
    };
    match from_header.or(peer) {
        Some(ip) => canonical(ip).to_string(),
        None => "unknown".to_string(),
    }
}

/// `::ffff:1.2.3.4` and `1.2.3.4` are the same client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn each_source() {
        let peer = Some("10.0.0.9".parse().expect("ip"));
        let h = headers(&[
            ("x-real-ip", "203.0.113.7"),
            ("x-forwarded-for", "1.1.1.1, 198.51.100.2"),
        ]);
        assert_eq!(resolve(ClientIpSource::XRealIp, &h, peer), "203.0.113.7");
        assert_eq!(
            resolve(ClientIpSource::RightmostXForwardedFor, &h, peer),
            "198.51.100.2"
        );
        assert_eq!(resolve(ClientIpSource::Socket, &h, peer), "10.0.0.9");
        assert_eq!(
            resolve(ClientIpSource::XRealIp, &HeaderMap::new(), peer),
            "10.0.0.9"
        );
        assert_eq!(
            resolve(ClientIpSource::Socket, &HeaderMap::new(), None),
            "unknown"
        );
        let garbage = headers(&[("x-real-ip", "not-an-ip")]);
        assert_eq!(resolve(ClientIpSource::XRealIp, &garbage, peer), "10.0.0.9");
        let mapped = Some("::ffff:192.0.2.1".parse().expect("ip"));
        assert_eq!(
            resolve(ClientIpSource::Socket, &HeaderMap::new(), mapped),
            "192.0.2.1"
        );
    }
}
