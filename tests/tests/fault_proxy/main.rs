//! The core backend and `Lock` behind a [`FaultProxy`] (standalone) and on a frozen cluster:
//! every call keeps its deadline under a stall, a late reply is never taken as the answer to
//! a later call, and the same backend recovers within seconds after a heal or a cut.
//!
//! Filed by fault: [`stall`] (stalls, late replies, latency, frozen cluster), [`cut`] (cuts,
//! subscriptions, black holes) and [`lost_reply`] (calls that ran but whose reply was lost);
//! the shared backends and checks are in [`support`].

mod cut;
mod lost_reply;
mod stall;
mod support;
