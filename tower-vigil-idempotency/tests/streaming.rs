//! Streaming responses: frames reach the client as the handler produces them, are captured on
//! the way and stored when the body ends; a body that fails or outgrows the capture limit, or
//! whose client goes away, is recorded so a retry never runs the handler again. On memory,
//! Redis and the 3-master cluster.

mod common;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{Counter, not_replayable, post};
use futures_util::stream::BoxStream;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use tokio::sync::mpsc;
use tower::ServiceExt;
use tower::util::BoxCloneService;
use tower_vigil_core::Backend;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_idempotency::NotReplayableReason;
use tower_vigil_idempotency::{IdempotencyBody, IdempotencyLayer, RequestBody};

type Chunk = Result<Frame<Bytes>, io::Error>;
type HandlerBody = StreamBody<BoxStream<'static, Chunk>>;
type Answer = Response<ResponseBody<IdempotencyBody<HandlerBody>>>;
type Svc = BoxCloneService<Request<Full<Bytes>>, Answer, std::convert::Infallible>;

/// What the test holds to drive the handler's body: each chunk sent is one frame; dropping
/// it ends the body.
type Feed = mpsc::Sender<Chunk>;

/// A handler that answers 200 at once with a body fed by the test, frame by frame. A
/// second run (which must not happen) gets an empty body.
fn streaming(layer: IdempotencyLayer<impl Backend>, runs: Counter) -> (Svc, Feed) {
    let (feed, rx) = mpsc::channel::<Chunk>(4);
    let rx = Arc::new(Mutex::new(Some(rx)));
    let handler = tower::service_fn(move |_req: Request<RequestBody<Full<Bytes>>>| {
        runs.bump();
        let rx = rx.lock().unwrap().take();
        async move {
            let frames: BoxStream<'static, Chunk> = match rx {
                Some(rx) => Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|chunk| (chunk, rx))
                })),
                None => Box::pin(futures_util::stream::empty()),
            };
            Ok::<_, std::convert::Infallible>(Response::new(StreamBody::new(frames)))
        }
    });
    let svc = tower::ServiceBuilder::new().layer(layer).service(handler);
    (BoxCloneService::new(svc), feed)
}

fn data(s: &'static str) -> Chunk {
    Ok(Frame::data(Bytes::from_static(s.as_bytes())))
}

/// Bounds every wait, so a regression (the layer holding the head back) fails instead of
/// hanging. On the paused clock of the memory runs it elapses only when nothing else can run.
const PATIENCE: Duration = Duration::from_secs(30);

async fn call(svc: &Svc, req: Request<Full<Bytes>>) -> Answer {
    tokio::time::timeout(PATIENCE, svc.clone().oneshot(req))
        .await
        .expect("the response head arrives while the handler still streams")
        .unwrap()
}

async fn next_data(body: &mut ResponseBody<IdempotencyBody<HandlerBody>>) -> Bytes {
    let frame = tokio::time::timeout(PATIENCE, body.frame())
        .await
        .expect("a frame arrives as soon as the handler sends it")
        .expect("the body has not ended")
        .expect("the frame is not an error");
    frame.into_data().unwrap()
}

async fn text(res: Answer) -> (http::response::Parts, Bytes) {
    let (parts, body) = res.into_parts();
    (parts, body.collect().await.unwrap().to_bytes())
}

async fn the_first_frame_reaches_the_client_before_the_handler_finishes<S: Backend>(s: S) {
    let runs = Counter::default();
    let (svc, feed) = streaming(IdempotencyLayer::new(s), runs.clone());
    let res = call(&svc, post("/events", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    feed.send(data("first ")).await.unwrap();
    assert_eq!(next_data(&mut body).await, "first ");
    // The handler is still producing: only now does it send the rest and end.
    feed.send(data("second")).await.unwrap();
    drop(feed);
    assert_eq!(next_data(&mut body).await, "second");
    assert!(body.frame().await.is_none(), "a clean end");
    // The body ended only once the record was stored: the retry is a replay.
    let (parts, replayed) = text(call(&svc, post("/events", "k", "x")).await).await;
    assert_eq!(parts.headers["idempotent-replayed"], "true");
    assert_eq!(replayed, "first second");
    assert_eq!(runs.get(), 1);
}

async fn a_failing_body_runs_once_and_its_retry_is_409<S: Backend>(s: S) {
    let runs = Counter::default();
    let (svc, feed) = streaming(IdempotencyLayer::new(s), runs.clone());
    feed.send(data("part")).await.unwrap();
    feed.send(Err(io::Error::other("disk gone"))).await.unwrap();
    let res = call(&svc, post("/events", "k", "x")).await;
    assert!(
        res.into_body().collect().await.is_err(),
        "the client sees the error"
    );
    let retry = call(&svc, post("/events", "k", "x")).await;
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    assert_eq!(
        not_replayable(&retry),
        Some((StatusCode::OK, NotReplayableReason::BodyFailed))
    );
    let (_, problem) = text(retry).await;
    let problem: serde_json::Value = serde_json::from_slice(&problem).unwrap();
    assert_eq!(problem["originalStatus"], 200);
    assert_eq!(problem["reason"], "not_replayable");
    assert_eq!(problem["cause"], "body-failed");
    assert_eq!(runs.get(), 1);
}

async fn a_client_gone_mid_stream_still_gets_the_response_recorded<S: Backend>(s: S) {
    let runs = Counter::default();
    // The retry waits for the first request's task to settle instead of answering 409.
    let layer = IdempotencyLayer::builder(s)
        .wait_for_in_flight(PATIENCE)
        .build()
        .unwrap();
    let (svc, feed) = streaming(layer, runs.clone());
    let mut body = call(&svc, post("/events", "k", "x")).await.into_body();
    feed.send(data("first ")).await.unwrap();
    assert_eq!(next_data(&mut body).await, "first ");
    drop(body); // the client hangs up
    feed.send(data("second")).await.unwrap();
    drop(feed);
    let (parts, replayed) = text(call(&svc, post("/events", "k", "x")).await).await;
    assert_eq!(parts.headers["idempotent-replayed"], "true");
    assert_eq!(
        replayed, "first second",
        "captured to the end without a reader"
    );
    assert_eq!(runs.get(), 1);
}

async fn a_client_gone_past_the_limit_frees_nothing_and_runs_nothing_twice<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .max_response_body(8)
        .wait_for_in_flight(PATIENCE)
        .build()
        .unwrap();
    let (svc, feed) = streaming(layer, runs.clone());
    let mut body = call(&svc, post("/events", "k", "x")).await.into_body();
    feed.send(data("0123456789")).await.unwrap();
    assert_eq!(next_data(&mut body).await, "0123456789");
    drop(body);
    // The next frame finds nobody to forward it to and nothing worth capturing: the task
    // stops reading, records the outcome and drops the handler's body (so this send, or a
    // later one, fails).
    let _ = feed.send(data("more")).await;
    let retry = call(&svc, post("/events", "k", "x")).await;
    assert_eq!(
        not_replayable(&retry),
        Some((StatusCode::OK, NotReplayableReason::TooLarge))
    );
    assert_eq!(runs.get(), 1);
}

on_every_backend!(
    the_first_frame_reaches_the_client_before_the_handler_finishes,
    a_failing_body_runs_once_and_its_retry_is_409,
    a_client_gone_mid_stream_still_gets_the_response_recorded,
    a_client_gone_past_the_limit_frees_nothing_and_runs_nothing_twice,
);

mod failed_write {
    //! When the final write fails after the head went out: the stream still ends cleanly (the
    //! client has the whole response; an error would only make it retry and run the handler
    //! again), and trailers, when the body has some, say it was not stored. On memory: the
    //! behaviour is the layer's, the failing store a wrapper.

    use http::HeaderMap;
    use http_body::Frame;
    use http_body_util::BodyExt;
    use tower_vigil_core::MemoryBackend;
    use tower_vigil_idempotency::IdempotencyLayer;

    use super::common::failing::{self, Failing};
    use super::common::{Counter, post};
    use super::{call, data, next_data, streaming};

    /// A memory backend on which every completion fails.
    fn complete_fails() -> Failing<MemoryBackend> {
        failing::refusing(MemoryBackend::new(), failing::COMPLETE)
    }

    #[tokio::test(start_paused = true)]
    async fn a_streamed_body_ends_cleanly_and_its_trailers_say_not_stored() {
        let runs = Counter::default();
        let layer = IdempotencyLayer::new(complete_fails());
        let (svc, feed) = streaming(layer, runs.clone());
        let mut body = call(&svc, post("/events", "k", "x")).await.into_body();
        feed.send(data("all of it")).await.unwrap();
        assert_eq!(next_data(&mut body).await, "all of it");
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        feed.send(Ok(Frame::trailers(trailers))).await.unwrap();
        drop(feed);
        let rest = body.collect().await.expect("a clean end, not an error");
        let trailers = rest.trailers().expect("the handler's trailers");
        assert_eq!(trailers["grpc-status"], "0");
        assert_eq!(trailers["idempotency-status"], "not-stored");
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_body_of_known_size_says_so_in_its_head() {
        let runs = Counter::default();
        let layer = IdempotencyLayer::new(complete_fails());
        let svc = super::common::service(layer, runs);
        let res = super::common::send(&svc, post("/ok", "k", "x")).await;
        assert_eq!(res.status(), 201);
        assert_eq!(res.headers()["idempotency-status"], "not-stored");
        assert_eq!(res.body(), "x");
    }
}
