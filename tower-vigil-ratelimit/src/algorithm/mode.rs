//! [`Mode`]: what a call does with the policies' state, and [`transition`], the tail every
//! algorithm shares once it has read its state.

/// What a call does with the policies' state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Take `cost` from every policy if all have room, else take nothing (the default).
    #[default]
    Acquire,
    /// Decide as `Acquire` would, but change nothing.
    Peek,
    /// Take `cost` whatever is left (never below empty): charging after the fact.
    Charge,
    /// Give `cost` back (never above full): refunding after the fact.
    Refund,
}

impl Mode {
    /// The number the Lua script reads (`ARGV[3]`).
    pub(crate) fn code(self) -> i64 {
        match self {
            Self::Acquire => 0,
            Self::Peek => 1,
            Self::Charge => 2,
            Self::Refund => 3,
        }
    }

    /// The mode of a [`code`](Self::code).
    pub(crate) fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::Acquire,
            1 => Self::Peek,
            2 => Self::Charge,
            3 => Self::Refund,
            _ => return None,
        })
    }

    /// True when the state is written whatever the policies say.
    pub(crate) fn always_writes(self) -> bool {
        matches!(self, Self::Charge | Self::Refund)
    }
}

/// The state a call leaves (a count, a level, a TAT, a change to a log) and whether to write
/// it; `None` when the request is denied (which writes nothing). `Charge` and `Refund` move the
/// state by the cost within its bounds (`charged`, `refunded`) and always write; `Acquire` and
/// `Peek` take `admitted` (`None`: the cost does not fit), written only by an `Acquire` of
/// some cost. The Lua twin is `transition` in `prelude.lua`.
pub(crate) fn transition<S>(
    mode: Mode,
    cost: i64,
    charged: impl FnOnce() -> S,
    refunded: impl FnOnce() -> S,
    admitted: Option<S>,
) -> Option<(S, bool)> {
    match mode {
        Mode::Charge => Some((charged(), true)),
        Mode::Refund => Some((refunded(), true)),
        Mode::Acquire | Mode::Peek => admitted.map(|s| (s, mode == Mode::Acquire && cost > 0)),
    }
}
