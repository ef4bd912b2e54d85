//! Mapping redis-rs errors onto [`BackendErrorKind`].

use redis::{ErrorKind, RedisError, ServerErrorKind};

use crate::error::{BackendError, BackendErrorKind};

pub(crate) fn map(err: RedisError) -> BackendError {
    let kind = if err.is_timeout() {
        BackendErrorKind::Timeout
    } else if err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || matches!(
            err.kind(),
            ErrorKind::Io | ErrorKind::ClusterConnectionNotFound | ErrorKind::AuthenticationFailed
        )
    {
        BackendErrorKind::Connection
    } else {
        match err.kind() {
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::ReadOnly
                | ServerErrorKind::Moved
                | ServerErrorKind::Ask,
            ) => BackendErrorKind::Unavailable,
            ErrorKind::Server(
                ServerErrorKind::NoScript
                | ServerErrorKind::ResponseError
                | ServerErrorKind::ExecAbort,
            ) => BackendErrorKind::Script,
            _ => BackendErrorKind::Protocol,
        }
    };
    BackendError::with_source(kind, "redis call failed", err)
}
