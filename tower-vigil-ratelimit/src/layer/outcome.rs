//! Counting by outcome: which responses keep the cost the layer took before the call. The
//! refund of those that do not is the decision engine's (`engine.rs`).
//!
//! The cost is always **taken before** the inner service runs and **given back after** when
//! the response does not count, never checked before and charged after: N requests sent at
//! once would all pass a check (nobody has been charged yet) and all run the handler, so a
//! limit of 10 failed logins would let 100 concurrent guesses through. Taken first, at most
//! `limit` of them run at once; the others are refused before they reach the handler.
//!
//! What follows from that, on purpose:
//! - While a request that will be refunded is in flight it holds its unit: concurrent
//!   requests beyond the limit are refused even if they would all have been refunded.
//! - A response that never comes (the inner service failed, or the client went away and the
//!   future was dropped) keeps its cost: a caller cannot dodge the charge by hanging up.
//! - When the refund itself fails (the backend is down or times out), the unit stays charged:
//!   the error is counted in `vigil_ratelimit_backend_errors_total` and traced, the response
//!   is served unchanged, and the limit errs on the strict side until the unit ages out. The
//!   refund goes to the limiter that took the cost (the backend, or the local fallback).
//! - A denied request (in shadow mode it is still served) took nothing, so it is never
//!   refunded: shadow mode counts exactly what enforcing would.
//! - A refunded response carries the headers of the state after the refund (its unit given
//!   back); a failed refund leaves the headers of the acquire, which are then still true.
//! - A refund removes the key's denial from this instance's deny cache: the denial may have
//!   been caused by the unit now given back.
//! - Window algorithms (sliding log and counter, fixed window) give the unit back to the
//!   window current at refund time: a request straddling a window boundary refunds the new
//!   window, which can let through at most the units in flight at the boundary, within the
//!   bound those algorithms already have around a boundary.
//!
//! **Known-good requests** (`known_good`, e.g. an API key this instance has already
//! verified) are the one exception: they carry no guess, so they are *checked* before the
//! call (refused like any other while the key is over its limit, so an attacker past the
//! limit learns nothing from them) but take nothing, and are *charged* after only if their
//! response counts anyway (a key revoked meanwhile). Without it a heavy legitimate caller
//! would fill a failures-only limit with its own requests in flight: 64 concurrent requests
//! from one client behind a limit of 30 failures would see 429s without a single failure.

use std::sync::Arc;

use http::StatusCode;

use crate::algorithm::Mode;
use crate::key::RequestHead;

pub(crate) type StatusFn = dyn Fn(StatusCode) -> bool + Send + Sync;
pub(crate) type HeadFn = dyn Fn(&RequestHead<'_>) -> bool + Send + Sync;

/// Which responses keep the cost taken before the call: those `charge_when` matches (every
/// response when unset) that `refund_when` does not match (none when unset). Both may be set,
/// in either order: a response counts when it passes both.
#[derive(Clone, Default)]
pub(crate) struct Outcome {
    pub(crate) charge_when: Option<Arc<StatusFn>>,
    pub(crate) refund_when: Option<Arc<StatusFn>>,
    /// Requests checked before the call and charged after it (see the module docs).
    pub(crate) known_good: Option<Arc<HeadFn>>,
}

impl Outcome {
    /// True when some responses do not count (a rule by status is set).
    pub(crate) fn by_status(&self) -> bool {
        self.charge_when.is_some() || self.refund_when.is_some()
    }

    /// How the request is decided before the call: [`Mode::Peek`] for a known-good request
    /// (nothing taken), else [`Mode::Acquire`].
    pub(crate) fn mode_before(&self, head: &RequestHead<'_>) -> Mode {
        match &self.known_good {
            Some(known_good) if known_good(head) => Mode::Peek,
            _ => Mode::Acquire,
        }
    }

    /// What settles an admitted request decided in `before` mode once its response has
    /// `status`: a refund of what was taken when the response does not count, a charge
    /// of what was only checked when it does, or nothing.
    pub(crate) fn settlement(&self, before: Mode, status: StatusCode) -> Option<Mode> {
        match before {
            Mode::Acquire => self.refunds(status).then_some(Mode::Refund),
            Mode::Peek => (!self.refunds(status)).then_some(Mode::Charge),
            Mode::Charge | Mode::Refund => None,
        }
    }

    /// True when a response with `status` gets its cost back.
    pub(crate) fn refunds(&self, status: StatusCode) -> bool {
        self.charge_when
            .as_ref()
            .is_some_and(|counts| !counts(status))
            || self
                .refund_when
                .as_ref()
                .is_some_and(|refund| refund(status))
    }
}
