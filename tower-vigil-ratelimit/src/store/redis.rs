//! The Lua side: one script with every algorithm, called with `EVALSHA`.

use std::sync::LazyLock;

use tower_vigil_core::redis::Script;
use tower_vigil_core::{BackendError, RedisBackend};

use super::{Acquire, RateLimitStore, decision};
use crate::algorithm::{LUA, Outcome, Params};
use crate::decision::Decision;

static DECIDE: LazyLock<Script> = LazyLock::new(|| Script::new(LUA));

impl RateLimitStore for RedisBackend {
    async fn acquire(&self, req: Acquire<'_>) -> Result<Decision, BackendError> {
        req.check()?;
        let keys = req.keys();
        let mut call = self.script(&DECIDE);
        for k in &keys {
            call = call.key(k);
        }
        let now = req.now_micros.map(|n| n.to_string()).unwrap_or_default();
        call = call.arg(now).arg(req.cost).arg(req.mode.code());
        for p in req.policies {
            let params = Params::of(p);
            call = call
                .arg(p.algorithm().code())
                .arg(params.limit)
                .arg(params.period)
                .arg(params.burst);
        }
        let flat: Vec<i64> = call.invoke().await?;
        if flat.len() != 4 * req.policies.len() {
            return Err(BackendError::protocol(format!(
                "rate-limit script returned {} numbers for {} policies",
                flat.len(),
                req.policies.len()
            )));
        }
        let outcomes: Vec<Outcome> = flat
            .chunks_exact(4)
            .map(|c| Outcome {
                allowed: c[0] == 1,
                remaining: c[1],
                reset: c[2],
                retry: c[3],
            })
            .collect();
        Ok(decision(&req, &outcomes))
    }
}
