//! The issue's baseline: "a minimal middleware doing one EVALSHA of a GCRA script per request
//! through a redis-rs `ConnectionManager`". A plain tower layer, no headers, no failure policy
//! beyond failing open, no deny cache: the floor our Redis rate limit is compared with.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::StatusCode;
use redis::Script;
use redis::aio::ConnectionManager;
use tower_layer::Layer;
use tower_service::Service;

/// GCRA on one key: the theoretical arrival time in µs, Redis `TIME` as the clock.
static GCRA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new = tat + t
if new - tau > now then return {0, tat - now} end
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000) + 1)
return {1, 0}
",
    )
});

/// The layer: emission interval and burst tolerance in µs.
#[derive(Clone)]
pub(crate) struct MinimalGcraLayer {
    conn: ConnectionManager,
    interval_us: u64,
    tolerance_us: u64,
}

impl MinimalGcraLayer {
    pub(crate) async fn connect(url: &str, per_second: u64) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        let interval_us = (1_000_000 / per_second).max(1);
        Ok(Self {
            conn,
            interval_us,
            tolerance_us: interval_us * per_second,
        })
    }
}

impl<S> Layer<S> for MinimalGcraLayer {
    type Service = MinimalGcra<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MinimalGcra {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`MinimalGcraLayer`].
#[derive(Clone)]
pub(crate) struct MinimalGcra<S> {
    inner: S,
    layer: MinimalGcraLayer,
}

impl<S> Service<Request> for MinimalGcra<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let mut conn = self.layer.conn.clone();
        let (t, tau) = (self.layer.interval_us, self.layer.tolerance_us);
        let key = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "min:unknown".to_owned(), |c| format!("min:{}", c.0.ip()));
        Box::pin(async move {
            let answer: redis::RedisResult<(i64, i64)> =
                GCRA.key(key).arg(t).arg(tau).invoke_async(&mut conn).await;
            if let Ok((0, _)) = answer {
                return Ok(StatusCode::TOO_MANY_REQUESTS.into_response());
            }
            inner.call(req).await
        })
    }
}
