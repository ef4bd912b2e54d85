//! Runs `wrk -t1 -cN -dS --latency` with a Lua script setting the method, headers and body,
//! and reads requests/s, the 50th and 99th percentile latencies and non-2xx responses.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use super::{Load, Sample};

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn script(load: &Load) -> String {
    let mut s = format!("wrk.method = {}\n", lua_string(load.method));
    if !load.body.is_empty() {
        let _ = writeln!(s, "wrk.body = {}", lua_string(&load.body));
    }
    for (n, v) in &load.headers {
        let _ = writeln!(s, "wrk.headers[{}] = {}", lua_string(n), lua_string(v));
    }
    s
}

pub(super) async fn run(
    addr: SocketAddr,
    load: &Load,
    connections: usize,
    run: Duration,
) -> Sample {
    let path = std::env::temp_dir().join(format!("vigil-bench-{}.lua", std::process::id()));
    std::fs::write(&path, script(load)).expect("writing the wrk script");
    let out = tokio::process::Command::new("wrk")
        .args(["-t1", &format!("-c{connections}")])
        .arg(format!("-d{}s", run.as_secs().max(1)))
        .arg("--latency")
        .arg("-s")
        .arg(&path)
        .arg(format!("http://{addr}{}", load.path))
        .output()
        .await
        .expect("running wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).unwrap_or_else(|| panic!("unexpected wrk output:\n{text}"))
}

/// `"812.00us"`, `"1.53ms"`, `"2.00s"` in microseconds.
fn micros(s: &str) -> Option<f64> {
    let (num, factor) = if let Some(n) = s.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e6)
    } else {
        return None;
    };
    Some(num.parse::<f64>().ok()? * factor)
}

fn parse(text: &str) -> Option<Sample> {
    let mut sample = Sample::default();
    let mut rps = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => rps = v.parse().ok(),
            ["50%", v] => sample.p50_us = micros(v)?,
            ["99%", v] => sample.p99_us = micros(v)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => sample.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", ..] => sample.errors += 1,
            _ => {}
        }
    }
    sample.rps = rps?;
    Some(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  Latency Distribution\n     50%  612.00us\n     75%    1.00ms\n     99%    2.50ms\n  1000 requests in 5.00s, 1 MB read\n  Non-2xx or 3xx responses: 7\nRequests/sec:  90000.12\nTransfer/sec:  10MB\n";
        let s = parse(text).unwrap();
        assert!((s.rps - 90000.12).abs() < 1e-6);
        assert!((s.p50_us - 612.0).abs() < 1e-6);
        assert!((s.p99_us - 2500.0).abs() < 1e-6);
        assert_eq!(s.errors, 7);
    }

    #[test]
    fn escapes_lua_strings() {
        assert_eq!(lua_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
