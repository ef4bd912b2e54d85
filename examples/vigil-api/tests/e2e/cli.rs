//! The command line: `--help` and `--version` print and exit without serving, `--config`,
//! `--addr` and `--db` win over their variables, and an unknown flag or a stray argument is
//! an error with the usage (exit status 2), never ignored.

use reqwest::StatusCode;
use serde_json::json;

use crate::config::{Config, DEMO_KEY};
use crate::http::{analyze, expect_json, expect_problem};
use crate::server::{Server, client};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_prints_the_flags_and_exits_without_serving() {
    for flag in ["--help", "-h"] {
        let exit = Server::run_to_exit(Config::default(), Vec::new(), args(&[flag])).await;
        assert_eq!(exit.code, Some(0), "{flag}: {exit:?}");
        for text in [
            "Usage: vigil-api",
            "--config <PATH>",
            "--addr",
            "--db",
            "VIGIL_CONFIG",
        ] {
            assert!(
                exit.stdout.contains(text),
                "{flag}: no {text:?} in {exit:?}"
            );
        }
        assert!(!exit.stdout.contains("listening on"), "{exit:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_prints_the_version_and_exits() {
    for flag in ["--version", "-V"] {
        let exit = Server::run_to_exit(Config::default(), Vec::new(), args(&[flag])).await;
        assert_eq!(exit.code, Some(0), "{flag}: {exit:?}");
        assert_eq!(
            exit.stdout.trim(),
            format!("vigil-api {}", env!("CARGO_PKG_VERSION")),
            "{exit:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_flags_and_stray_arguments_are_usage_errors() {
    for bad in [&["--confg", "x.toml"][..], &["serve"]] {
        let exit = Server::run_to_exit(Config::default(), Vec::new(), args(bad)).await;
        assert_eq!(exit.code, Some(2), "{bad:?}: {exit:?}");
        assert!(exit.stderr.contains("error:"), "{bad:?}: {exit:?}");
        assert!(
            exit.stderr.contains("Usage: vigil-api"),
            "{bad:?}: {exit:?}"
        );
        assert!(exit.stdout.is_empty(), "{bad:?}: {exit:?}");
    }
    // A value the flag cannot take, or none: the same exit status, naming the flag.
    for (bad, flag) in [
        (&["--addr", "not-an-address"][..], "--addr"),
        (&["--config"], "--config"),
    ] {
        let exit = Server::run_to_exit(Config::default(), Vec::new(), args(bad)).await;
        assert_eq!(exit.code, Some(2), "{bad:?}: {exit:?}");
        assert!(exit.stderr.contains(flag), "{bad:?}: {exit:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_config_file_stops_the_server_naming_it() {
    let exit = Server::run_to_exit(
        Config::default(),
        Vec::new(),
        args(&["--config", "/nonexistent/custom-vigil.toml"]),
    )
    .await;
    assert_eq!(exit.code, Some(1), "{exit:?}");
    assert!(
        exit.stderr
            .contains("--config /nonexistent/custom-vigil.toml"),
        "{exit:?}"
    );
}

/// A key only the `--config` file has.
const FLAG_KEY: &str = "vg_flag_config_0a1b2c3d4e5f60718293a4b5c6";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_addr_and_db_flags_win_over_their_variables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let custom = dir.path().join("custom.toml");
    std::fs::write(
        &custom,
        Config::default().toml().replace(DEMO_KEY, FLAG_KEY),
    )
    .expect("writing the custom config");
    let db = dir.path().join("flag.sqlite");
    // VIGIL_CONFIG and VIGIL_DB name the default files; VIGIL_ADDR cannot even be parsed.
    let server = Server::start_with_args(
        Config::default(),
        vec![("VIGIL_ADDR", "not an address".to_owned())],
        vec![
            "--config".to_owned(),
            custom.display().to_string(),
            "--addr=127.0.0.1:0".to_owned(),
            "--db".to_owned(),
            db.display().to_string(),
        ],
    )
    .await;
    let api = client();
    let body = json!({"text": "hello"});
    expect_json(
        analyze(&api, &server, Some(FLAG_KEY), None, &body).await,
        StatusCode::OK,
    )
    .await;
    expect_problem(
        analyze(&api, &server, Some(DEMO_KEY), None, &body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(db.exists(), "--db {} was not created", db.display());
}
