//! [`DynStore`]: the session operations on any [`Backend`], behind one object-safe trait, so
//! [`Session`](crate::Session) (a request extension, one type whatever the backend) and
//! [`SessionAdmin`](crate::SessionAdmin) are not generic over the backend. Implemented for
//! every `B: Backend`; every store call passes here, so this is where each is timed and its
//! failure counted.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tower_vigil_core::{Backend, BackendResult};

use super::{Expiry, StoredSession, WriteOutcome, index, session};
use crate::metrics::{observed, op};

pub(crate) trait DynStore: Send + Sync + std::fmt::Debug + 'static {
    fn load<'a>(
        &'a self,
        key: &'a str,
        secret: Option<&'a str>,
    ) -> BoxFuture<'a, BackendResult<Option<StoredSession>>>;
    fn create<'a>(
        &'a self,
        key: &'a str,
        secret: &'a str,
        fields: &'a [(String, Bytes)],
        expiry: Expiry,
    ) -> BoxFuture<'a, BackendResult<bool>>;
    fn write<'a>(
        &'a self,
        key: &'a str,
        secret: &'a str,
        set: &'a [(String, Bytes)],
        delete: &'a [String],
        expiry: Expiry,
    ) -> BoxFuture<'a, BackendResult<WriteOutcome>>;
    fn destroy<'a>(
        &'a self,
        key: &'a str,
        secret: Option<&'a str>,
    ) -> BoxFuture<'a, BackendResult<bool>>;
    fn index_add<'a>(
        &'a self,
        index: &'a str,
        member: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, BackendResult<u64>>;
    fn index_remove<'a>(
        &'a self,
        index: &'a str,
        members: &'a [String],
    ) -> BoxFuture<'a, BackendResult<u64>>;
    fn index_members<'a>(&'a self, index: &'a str) -> BoxFuture<'a, BackendResult<Vec<String>>>;
}

impl<B: Backend> DynStore for B {
    fn load<'a>(
        &'a self,
        key: &'a str,
        secret: Option<&'a str>,
    ) -> BoxFuture<'a, BackendResult<Option<StoredSession>>> {
        Box::pin(observed(op::LOAD, session::load(self, key, secret)))
    }
    fn create<'a>(
        &'a self,
        key: &'a str,
        secret: &'a str,
        fields: &'a [(String, Bytes)],
        expiry: Expiry,
    ) -> BoxFuture<'a, BackendResult<bool>> {
        Box::pin(observed(
            op::CREATE,
            session::create(self, key, secret, fields, expiry),
        ))
    }
    fn write<'a>(
        &'a self,
        key: &'a str,
        secret: &'a str,
        set: &'a [(String, Bytes)],
        delete: &'a [String],
        expiry: Expiry,
    ) -> BoxFuture<'a, BackendResult<WriteOutcome>> {
        Box::pin(observed(
            op::WRITE,
            session::write(self, key, secret, set, delete, expiry),
        ))
    }
    fn destroy<'a>(
        &'a self,
        key: &'a str,
        secret: Option<&'a str>,
    ) -> BoxFuture<'a, BackendResult<bool>> {
        Box::pin(observed(op::DESTROY, session::destroy(self, key, secret)))
    }
    fn index_add<'a>(
        &'a self,
        index: &'a str,
        member: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, BackendResult<u64>> {
        Box::pin(observed(
            op::INDEX_ADD,
            index::index_add(self, index, member, ttl),
        ))
    }
    fn index_remove<'a>(
        &'a self,
        index: &'a str,
        members: &'a [String],
    ) -> BoxFuture<'a, BackendResult<u64>> {
        Box::pin(observed(
            op::INDEX_REMOVE,
            index::index_remove(self, index, members),
        ))
    }
    fn index_members<'a>(&'a self, index: &'a str) -> BoxFuture<'a, BackendResult<Vec<String>>> {
        Box::pin(observed(
            op::INDEX_MEMBERS,
            index::index_members(self, index),
        ))
    }
}
