//! Whose key is it: the scope a request's `Idempotency-Key` lives in, from the
//! [`Principal`] an authentication layer put in its extensions or from the layer's scope
//! closure, and what to do when there is none ([`Unscoped`]).

use std::sync::Arc;

use http::request::Parts;
use tower_vigil_core::Principal;

/// Chooses the scope of a request's key from the request head.
pub(crate) type ScopeFn = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

/// What to do with a keyed request for which no scope is found (no
/// [`Principal`] in its extensions, or a scope closure that returned `None`).
///
/// The default refuses it: a layer stacked behind an authentication layer that does not
/// publish a [`Principal`] (a session layer without its principal mode, say) would otherwise
/// put every user in one key space, where user B sending user A's key and body gets A's
/// stored response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Unscoped {
    /// Refuse it with `401` and a problem+json body (the default): every idempotent request
    /// must come from an identified caller.
    #[default]
    Reject,
    /// Put every unscoped request in one shared anonymous scope. **Unsafe for multi-user
    /// APIs**: any client that learns or guesses another's key (and body) gets that client's
    /// stored response. Only for APIs whose callers are all anonymous and send unguessable
    /// keys (UUIDv4 or better).
    SharedUnsafe,
}

/// The scope part reserved for requests without one; scopes from principals or closures are
/// prefixed with `s:` so they can never equal it.
const ANONYMOUS: &str = "anonymous";

/// The request's scope: `closure`'s answer if there is one, else the principal's. `None`
/// means refuse (the default, [`Unscoped::Reject`]).
pub(crate) fn scope_of(
    closure: Option<&ScopeFn>,
    unscoped: Unscoped,
    parts: &Parts,
) -> Option<String> {
    let found = match closure {
        Some(f) => f(parts),
        None => Principal::from_extensions(&parts.extensions).map(Principal::scope),
    };
    match (found, unscoped) {
        (Some(s), _) => Some(principal_scope(&s)),
        (None, Unscoped::SharedUnsafe) => Some(ANONYMOUS.to_owned()),
        (None, Unscoped::Reject) => None,
    }
}

/// The scope of requests whose closure or principal answered `scope`.
pub(crate) fn principal_scope(scope: &str) -> String {
    format!("s:{scope}")
}
