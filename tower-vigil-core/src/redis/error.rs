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
    } else if err.code() == Some("OOM") {
        // `OOM command not allowed when used memory > 'maxmemory'`: a full server under
        // `noeviction`. redis-rs has no kind for it (an "extension" error); left as a protocol
        // error, the layers would take a full Redis for a bug rather than a backend failure.
        BackendErrorKind::OutOfMemory
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_server_is_out_of_memory_and_a_backend_failure() {
        let oom = redis::make_extension_error(
            "OOM".to_owned(),
            Some("command not allowed when used memory > 'maxmemory'.".to_owned()),
        );
        let err = map(oom);
        assert_eq!(err.kind(), BackendErrorKind::OutOfMemory, "{err}");
        assert!(err.is_unavailable());
        let other = map(redis::make_extension_error("WEIRD".to_owned(), None));
        assert_eq!(other.kind(), BackendErrorKind::Protocol);
    }
}
