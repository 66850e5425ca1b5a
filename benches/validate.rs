//! Validation throughput: bodies judged per second on one core, against a baseline
//! (serde_json parsing alone) run in the same process on the same bodies.
//!
//! Run: cargo bench --bench validate

use std::time::{Duration, Instant};

fn fixtures() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures/doc", "tests/fixtures/corpus"] {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).expect("fixture readable");
            // Both the pretty form (as published) and the compact form the sender writes.
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
            out.push(serde_json::to_vec(&v).expect("serialises"));
            out.push(bytes);
        }
    }
    out
}

/// Runs `f` over all bodies until `min` has passed; returns bodies per second.
fn rate(bodies: &[Vec<u8>], min: Duration, mut f: impl FnMut(&[u8]) -> usize) -> f64 {
    let mut n = 0u64;
    let mut sink = 0usize;
    let start = Instant::now();
    while start.elapsed() < min {
        for b in bodies {
            sink = sink.wrapping_add(f(b));
            n += 1;
        }
    }
    std::hint::black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let bodies = fixtures();
    brhook::testkit::schema::warm();
    let min = Duration::from_secs(3);
    let parse = rate(&bodies, min, |b| {
        serde_json::from_slice::<serde_json::Value>(b)
            .map(|v| v.as_object().map_or(0, |o| o.len()))
            .unwrap_or(0)
    });
    let judge = rate(&bodies, min, |b| brhook::testkit::body::judge(b).findings.len());
    println!(
        "bodies: {} (doc examples and corpus, pretty and compact)",
        bodies.len()
    );
    println!("baseline serde_json parse : {parse:>12.0} bodies/s");
    println!("brhook::testkit::body::judge       : {judge:>12.0} bodies/s");
    println!("ratio judge/parse         : {:>12.3}", judge / parse);
}
