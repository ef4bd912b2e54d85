//! The wire types of `vigil.demo.Analyzer`, written by hand instead of generated from a
//! `.proto` file (so building needs no `protoc`), and the server and client `build.rs`
//! generates for them with `tonic_build::manual`.
//!
//! The equivalent `.proto`:
//!
//! ```proto
//! syntax = "proto3";
//! package vigil.demo;
//! service Analyzer { rpc Analyze(AnalyzeRequest) returns (AnalyzeReply); }
//! message AnalyzeRequest { string text = 1; }
//! message AnalyzeReply { string verdict = 1; double score = 2; string key_id = 3; }
//! ```
//!
//! ```
//! use prost::Message;
//! use tonic_grpc::proto::AnalyzeRequest;
//!
//! let bytes = AnalyzeRequest { text: "hi".into() }.encode_to_vec();
//! assert_eq!(bytes, b"\x0a\x02hi");
//! ```

/// The request of `Analyze`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AnalyzeRequest {
    /// The text to score.
    #[prost(string, tag = "1")]
    pub text: String,
}

/// The answer of `Analyze`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AnalyzeReply {
    /// `ALLOWED` or `BLOCKED`.
    #[prost(string, tag = "1")]
    pub verdict: String,
    /// How strongly the text looks like a prompt injection, 0.0 to 1.0.
    #[prost(double, tag = "2")]
    pub score: f64,
    /// The id of the API key the call was authenticated with (from the request's
    /// [`Principal`](tower_vigil_core::Principal)).
    #[prost(string, tag = "3")]
    pub key_id: String,
}

// The generated modules `analyzer_server` and `analyzer_client` (see build.rs). Their items
// carry tonic's own docs and lint allowances.
#[allow(missing_docs)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/vigil.demo.Analyzer.rs"));
}

pub use self::generated::{analyzer_client, analyzer_server};
