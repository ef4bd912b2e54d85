//! [`Outcomes`]: what the decision script answers, one [`Outcome`] per policy.

use crate::algorithm::Outcome;

/// Every policy's outcome, in the policies' order. One policy (the usual case) is kept
/// inline: the memory path, benchmarked against `governor`, allocates nothing for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcomes {
    One(Outcome),
    Many(Vec<Outcome>),
}

impl Outcomes {
    pub(crate) fn as_slice(&self) -> &[Outcome] {
        match self {
            Self::One(o) => std::slice::from_ref(o),
            Self::Many(v) => v,
        }
    }
}
