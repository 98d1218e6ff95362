//! The data pipeline against the reference one (`../shared/bench/common.py`,
//! which produced Keras' figures): every window value, bit for bit, and the
//! naive baseline. Needs the Python env (`LSTMKIT_BENCH_PY` or
//! `~/.cache/lstmkit-bench/bin/python`) and `../shared/bench`; skips otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use lstmkit::data::{prepare, DataSpec};
use lstmkit::eval::{baselines, evaluate_levels};

fn python() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("LSTMKIT_BENCH_PY") {
        candidates.push(PathBuf::from(p));
    }
    if let Ok(h) = std::env::var("HOME") {
        candidates.push(Path::new(&h).join(".cache/lstmkit-bench/bin/python"));
    }
    candidates.into_iter().find(|p| p.exists())
}

const SCRIPT: &str = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import common
out = {}
for name in ["co2", "weather"]:
    d = common.prepare(name)
    naive = common.quality_report(d, d["y_test"])["naive_last_value"]
    out[name] = dict(n_rows=d["n_rows"], n_train=d["n_train_rows"],
                     xtr=d["X_train"].reshape(-1).tolist(), ytr=d["y_train"].tolist(),
                     xte=d["X_test"].reshape(-1).tolist(), yte=d["y_test"].tolist(),
                     naive=naive)
print(json.dumps(out))
"#;

fn as_f32(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn windows_and_naive_match_common_py() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `../shared` from the repository (`../../shared` from a worktree under /work/wt).
    let bench = ["../shared/bench", "../../shared/bench"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.join("common.py").exists())
        .unwrap_or_else(|| root.join("../shared/bench"));
    let Some(py) = python() else {
        println!("skipped: no Python env (set LSTMKIT_BENCH_PY)");
        return;
    };
    if !bench.join("common.py").exists() {
        println!("skipped: {} not found", bench.join("common.py").display());
        return;
    }
    let out = Command::new(&py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(&bench)
        .output()
        .expect("running python");
    if !out.status.success() {
        println!(
            "skipped: the Python env cannot run common.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let refs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let mut co2 = DataSpec::new("bundled:co2", &["co2"]);
    co2.time_column = Some("date".into());
    let mut weather = DataSpec::new("bundled:seattle_weather", &["temp_max"]);
    weather.features = Some(vec![
        "temp_max".into(),
        "temp_min".into(),
        "precipitation".into(),
    ]);
    for (name, spec) in [("co2", co2), ("weather", weather)] {
        let r = &refs[name];
        let p = prepare(&spec, Path::new(".")).unwrap();
        assert_eq!(p.n_rows as u64, r["n_rows"].as_u64().unwrap());
        assert_eq!(p.n_train_rows as u64, r["n_train"].as_u64().unwrap());
        // Bit-identical float32 windows.
        assert_eq!(p.train.x.data, as_f32(&r["xtr"]), "{name} X_train");
        assert_eq!(p.train.y.data, as_f32(&r["ytr"]), "{name} y_train");
        assert_eq!(p.test.x.data, as_f32(&r["xte"]), "{name} X_test");
        assert_eq!(p.test.y.data, as_f32(&r["yte"]), "{name} y_test");
        let ev = evaluate_levels(&p, &baselines::naive_for(&p).unwrap()).unwrap();
        let ours = &ev.baselines.naive.overall;
        let theirs = &r["naive"];
        // common.py scores float32-rounded values; we score the float64 originals.
        for (k, v) in [("mae", ours.mae), ("rmse", ours.rmse), ("r2", ours.r2)] {
            let t = theirs[k].as_f64().unwrap();
            assert!(
                (v - t).abs() < 1e-5,
                "{name} naive {k}: {v} vs common.py {t}"
            );
        }
        println!(
            "{name}: windows identical ({} train, {} test); naive RMSE {:.6} (common.py {:.6})",
            p.train.len(),
            p.test.len(),
            ours.rmse,
            theirs["rmse"].as_f64().unwrap()
        );
    }
}
