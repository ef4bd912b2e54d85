//! The default answers to rejections: problem+json bodies and their members, `Retry-After`
//! where a retry can succeed, gRPC statuses for gRPC requests.

use http::{StatusCode, header};
use tower_vigil_idempotency::NotReplayableReason;
use tower_vigil_idempotency::{DefaultResponse, Rejection, ResponseForRejection};

#[test]
fn grpc_requests_get_a_grpc_status() {
    let res = DefaultResponse.response(&Rejection::Mismatch, true);
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["grpc-status"], "9");
    let res = DefaultResponse.response(&Rejection::Unavailable, true);
    assert_eq!(res.headers()["grpc-status"], "14");
}

#[test]
fn not_replayable_is_a_typed_409_with_the_original_status() {
    let r = Rejection::NotReplayable {
        status: StatusCode::BAD_GATEWAY,
        reason: NotReplayableReason::TooLarge,
    };
    let res = DefaultResponse.response(&r, false);
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.headers().get(header::RETRY_AFTER).is_none());
    let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
    assert_eq!(v["originalStatus"], 502);
    assert_eq!(v["reason"], "too-large");
    assert!(
        v["type"]
            .as_str()
            .unwrap()
            .ends_with("#variant.NotReplayable")
    );
    assert_eq!(
        DefaultResponse.response(&r, true).headers()["grpc-status"],
        "6"
    );
}

#[test]
fn problem_body_carries_the_detail() {
    let res = DefaultResponse.response(&Rejection::BodyTooLarge { limit: 10 }, false);
    assert_eq!(res.status(), 413);
    let v: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
    assert_eq!(v["status"], 413);
    assert!(v["detail"].as_str().unwrap().contains("10 bytes"));
}
