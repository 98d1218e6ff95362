//! `lstmkit bench`: FLOPs counted from the model's shapes, GFLOP/s next to the
//! measured peak of the ISA it ran on, batched inference.

use crate::common::{bin, run};
use lstmkit::cli::bench::bench_model;

fn json(args: &[&str]) -> serde_json::Value {
    let out = run(bin().args(args));
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// Forward FLOPs per sample of the seed's models, by hand from their shapes
/// (2 per multiply-add; LSTM: 2·T·(F + u)·4u per layer).
#[test]
fn flops_follow_the_shapes() {
    let lstm = |t: u64, f: u64, u: u64| 2 * t * (f + u) * 4 * u;
    for (name, want) in [
        ("m1", lstm(10, 1, 50) + 2 * 50),
        ("m2", lstm(10, 3, 100) + lstm(10, 100, 50) + 2 * 50),
        ("m3", 2 * lstm(10, 1, 50) + 2 * 100),
        // LSTM(64) → Attention: scores 10·10·64 and values 10·10·64 → Dense(64 → 1)
        ("m4", lstm(10, 1, 64) + 2 * 10 * 10 * 128 + 2 * 64),
    ] {
        let (m, ..) = bench_model(name).unwrap();
        assert_eq!(m.flops_per_sample(), want, "{name}");
    }
}

#[test]
fn train_reports_gflops_against_the_measured_peak() {
    let v = json(&["bench", "train", "--model", "m1", "--steps", "20", "--json"]);
    let per_sample = 2 * 10 * 51 * 200 + 2 * 50;
    assert_eq!(v["flops_per_step"], 3 * 32 * per_sample);
    let (g, peak, share) = (
        v["gflops"].as_f64().unwrap(),
        v["peak_gflops"].as_f64().unwrap(),
        v["peak_share"].as_f64().unwrap(),
    );
    assert!(
        g > 0.0 && peak > 0.0 && (share - g / peak).abs() < 1e-9,
        "{v}"
    );
    assert!(v["peak_gflops_1thread"].as_f64().unwrap() > 0.0);
    let isa = v["peak_isa"].as_str().unwrap();
    let simd = v["simd"].as_str().unwrap().to_lowercase();
    assert!(
        isa == simd || (simd == "scalar" && isa == "neon"),
        "{isa} vs {simd}"
    );
}

#[test]
fn predict_reports_batched_windows_per_second() {
    let v = json(&[
        "bench", "predict", "--model", "m1", "--steps", "10", "--batch", "64", "--json",
    ]);
    assert_eq!(v["batch"], 64);
    assert!(v["batch_windows_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["us_per_window"].as_f64().unwrap() > 0.0);
    assert_eq!(v["flops_per_window"], (2 * 10 * 51 * 200 + 2 * 50) as f64);
}
