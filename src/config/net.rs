//! Network settings: `host:port` values.

use std::net::SocketAddr;

use super::ConfigError;

/// `host:port` (`127.0.0.1:9091`, `[::]:9091`); unset is `None`.
pub(super) fn socket_addr(
    name: &str,
    value: Option<String>,
) -> Result<Option<SocketAddr>, ConfigError> {
    value
        .map(|v| {
            v.parse()
                .map_err(|_| ConfigError(format!("{name} must be host:port, got {v:?}")))
        })
        .transpose()
}
