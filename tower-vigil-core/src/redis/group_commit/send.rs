//! Sending what a queue holds: batches of up to `max_batch` calls, one after the other, until
//! the queue is empty; and handing each call its own answer.

use std::sync::Arc;

use super::{Pending, Queue};
use crate::backend::BackendResult;
use crate::error::{BackendError, BackendErrorKind};
use crate::redis::RedisBackend;
use crate::redis::script_call::reply;
use crate::script::Reply;

/// Sends the queue's calls until none is left, then marks it idle. Runs as a task, so no
/// caller's cancellation can stop it halfway.
pub(super) async fn flush(queue: Arc<Queue>, backend: RedisBackend) {
    loop {
        let batch: Vec<Pending> = {
            let mut state = queue.state.lock();
            // Callers that gave up are left out: their calls are not sent at all.
            state.pending.retain(|p| !p.tx.is_closed());
            if state.pending.is_empty() {
                state.in_flight -= 1;
                return;
            }
            let n = state.pending.len().min(queue.max_batch);
            state.pending.drain(..n).collect()
        };
        send(&queue, &backend, batch).await;
    }
}

/// One `EVALSHA`: the plain script for a lone call, the batch script for more.
async fn send(queue: &Queue, backend: &RedisBackend, batch: Vec<Pending>) {
    let lone = batch.len() == 1;
    let mut invocation = if lone {
        queue.plain.prepare_invoke()
    } else {
        let mut inv = queue.batch.prepare_invoke();
        inv.arg(batch.len());
        for p in &batch {
            inv.arg(p.keys.len()).arg(p.args.len());
        }
        inv
    };
    for p in &batch {
        for key in &p.keys {
            invocation.key(key.as_str());
        }
    }
    for p in &batch {
        for arg in &p.args {
            invocation.arg(arg.as_slice());
        }
    }
    let mut conn = backend.conn.clone();
    let result: BackendResult<redis::Value> = backend
        .bounded(async move { invocation.invoke_async(&mut conn).await })
        .await;
    let value = match result {
        Ok(value) => value,
        Err(e) => {
            for p in batch {
                let _ = p.tx.send(Err(copy(&e)));
            }
            return;
        }
    };
    if lone {
        if let Some(p) = batch.into_iter().next() {
            let _ = p.tx.send(reply(value));
        }
        return;
    }
    let answers = match answers(value, batch.len()) {
        Ok(answers) => answers,
        Err(e) => {
            for p in batch {
                let _ = p.tx.send(Err(copy(&e)));
            }
            return;
        }
    };
    for (p, answer) in batch.into_iter().zip(answers) {
        let _ = p.tx.send(answer);
    }
}

/// The batch's reply: one answer per call, `{1}` (nil), `{1, value}` or `{0, message}`.
fn answers(value: redis::Value, n: usize) -> BackendResult<Vec<BackendResult<Reply>>> {
    use redis::Value as V;
    let V::Array(items) = value else {
        return Err(BackendError::protocol(
            "a batch did not answer with an array",
        ));
    };
    if items.len() != n {
        return Err(BackendError::protocol(format!(
            "a batch of {n} calls answered {}",
            items.len()
        )));
    }
    items
        .into_iter()
        .map(|item| {
            let V::Array(mut parts) = item else {
                return Err(BackendError::protocol("a batch answer is not an array"));
            };
            match (parts.len(), parts.first()) {
                (1, Some(V::Int(1))) => Ok(Ok(Reply::Nil)),
                (2, Some(V::Int(1))) => Ok(reply(parts.pop().unwrap_or(V::Nil))),
                (2, Some(V::Int(0))) => {
                    let message = match parts.pop() {
                        Some(V::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
                        _ => "error".to_owned(),
                    };
                    Ok(Err(BackendError::new(
                        kind_of(&message),
                        format!("script failed: {message}"),
                    )))
                }
                _ => Err(BackendError::protocol("a batch answer is malformed")),
            }
        })
        .collect()
}

/// The kind of a failure a call in a batch met, from its Redis error code (the first word), as
/// [`error::map`](crate::redis::error) classifies the same failure of a lone call: a full or
/// read-only server is a backend failure, not a bug in the script.
fn kind_of(message: &str) -> BackendErrorKind {
    match message.split_whitespace().next().unwrap_or("") {
        "OOM" => BackendErrorKind::OutOfMemory,
        "READONLY" | "MASTERDOWN" | "CLUSTERDOWN" | "TRYAGAIN" | "LOADING" | "MOVED" | "ASK" => {
            BackendErrorKind::Unavailable
        }
        _ => BackendErrorKind::Script,
    }
}

/// The same failure for each call of a batch.
fn copy(e: &BackendError) -> BackendError {
    BackendError::new(e.kind(), e.to_string())
}
