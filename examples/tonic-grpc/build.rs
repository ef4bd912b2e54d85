//! Generates the `vigil.demo.Analyzer` server and client with `tonic_build::manual`: the
//! service is described here in Rust, the messages are `#[derive(prost::Message)]` structs in
//! `src/proto.rs`, so building needs no `.proto` file and no `protoc`.

fn main() {
    let analyze = tonic_build::manual::Method::builder()
        .name("analyze")
        .route_name("Analyze")
        .comment("Scores a text for prompt-injection patterns.")
        .input_type("crate::proto::AnalyzeRequest")
        .output_type("crate::proto::AnalyzeReply")
        .codec_path("tonic_prost::ProstCodec")
        .build();
    let analyzer = tonic_build::manual::Service::builder()
        .name("Analyzer")
        .package("vigil.demo")
        .comment("A tiny prompt-injection analyzer.")
        .method(analyze)
        .build();
    tonic_build::manual::Builder::new().compile(&[analyzer]);
    println!("cargo::rerun-if-changed=build.rs");
}
