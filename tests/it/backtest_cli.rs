//! `lstmkit backtest`: its files, and `retrain = "always"` folds equal to
//! separate trainings on the truncated data (same bits).

use std::path::Path;

use lstmkit::data::prepare;
use lstmkit::experiment::{Experiment, FitData, FitPlan};

use crate::common::{bin, run, temp_dir};

const EXP: &str = r#"
[data]
path = "series.csv"
target = "y"
features = ["y", "x"]
timesteps = 5
horizon = 2
validation_split = 0.2
test_split = 0.2
[[layers]]
type = "lstm"
units = 4
[[layers]]
type = "dense"
units = 2
[fit]
epochs = 3
batch_size = 8
shuffle = true
seed = 11
[backtest]
start = 50
horizon = 2
stride = 3
retrain = "always"
"#;

fn write_series(dir: &Path, n: usize, name: &str) {
    let mut s = String::from("y,x\n");
    for i in 0..n {
        let y = 20.0 + (i as f64 * 0.45).sin() * 2.0 + 0.03 * i as f64;
        s.push_str(&format!("{y},{}\n", (i % 7) as f64 / 7.0));
    }
    std::fs::write(dir.join(name), s).unwrap();
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn retrain_always_folds_are_separate_trainings_on_the_truncated_rows() {
    let dir = temp_dir("backtest-always");
    write_series(&dir, 64, "series.csv");
    std::fs::write(dir.join("exp.toml"), EXP).unwrap();
    let out = dir.join("out");
    let o = run(bin()
        .args(["backtest", "--config"])
        .arg(dir.join("exp.toml"))
        .arg("--out")
        .arg(&out)
        .args(["--workers", "2", "--quiet"]));
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("5 origin(s)") && stdout.contains("5 training(s)"),
        "{stdout}"
    );
    for f in [
        "backtest.csv",
        "backtest_metrics.json",
        "backtest.png",
        "backtest_steps.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let rows = csv_rows(&out.join("backtest.csv"));
    assert_eq!(
        rows[0].join(","),
        "series,origin,time,step,actual,model,naive,seasonal_naive,drift,mean,ets,theta"
    );
    // origins 50, 53, 56, 59, 62 (62 + 2 = 64), two steps each
    assert_eq!(rows.len(), 1 + 5 * 2);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("backtest_metrics.json")).unwrap()).unwrap();
    assert_eq!(
        (m["origins"].as_u64(), m["retrains"].as_u64()),
        (Some(5), Some(5))
    );
    for name in [
        "model",
        "naive",
        "seasonal_naive",
        "drift",
        "mean",
        "ets",
        "theta",
    ] {
        for k in ["mae", "rmse", "mape", "smape", "mase"] {
            assert!(m["overall"][name][k].is_number(), "{name}.{k}");
        }
    }
    assert_eq!(m["per_step"].as_array().unwrap().len(), 2);
    assert!(m["per_series"]["y"]["model"]["mae"].is_number());

    // each fold: `train`'s data preparation on the file cut at the origin, no test part
    for origin in [50usize, 56, 62] {
        let sub = dir.join(format!("cut{origin}"));
        std::fs::create_dir_all(&sub).unwrap();
        write_series(&sub, origin, "series.csv");
        let mut exp = Experiment::from_toml_str(EXP, "exp.toml").unwrap();
        exp.data.test_split = 0.0;
        let p = prepare(&exp.data, &sub).unwrap();
        let mut model = exp.build_model(&p.pipeline).unwrap();
        FitPlan::new(&exp)
            .unwrap()
            .fit(&mut model, FitData::from(&p), &sub, None, &mut [])
            .unwrap();
        let x = p.pipeline.latest_windows(&p.frame, 1).unwrap();
        let pred = model.predict(&x.x).unwrap();
        let levels = p.pipeline.to_levels(&p.frame, &x.anchors, &pred).unwrap();
        let ours: Vec<f64> = rows[1..]
            .iter()
            .filter(|r| r[1] == origin.to_string())
            .map(|r| r[5].parse().unwrap())
            .collect();
        assert_eq!(
            ours, levels,
            "origin {origin}: bit-identical to a separate training"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flags_override_the_table_and_bad_ones_are_errors() {
    let dir = temp_dir("backtest-flags");
    write_series(&dir, 64, "series.csv");
    std::fs::write(dir.join("exp.toml"), EXP).unwrap();
    let out = dir.join("out");
    let o = run(bin()
        .args(["backtest", "--config"])
        .arg(dir.join("exp.toml"))
        .arg("--out")
        .arg(&out)
        .args([
            "--retrain",
            "never",
            "--start",
            "0.75",
            "--stride",
            "1",
            "--last-points-only",
            "--quiet",
        ]));
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    // ⌊63 · 0.75⌋ = 47: origins 47..=62
    assert!(
        stdout.contains("16 origin(s)") && stdout.contains("1 training(s)"),
        "{stdout}"
    );
    let rows = csv_rows(&out.join("backtest.csv"));
    assert_eq!(rows.len(), 17);
    assert!(rows[1..].iter().all(|r| r[3] == "2"));
    for (flag, value, says) in [
        ("--retrain", "sometimes", "backtest.retrain"),
        ("--horizon", "3", "data.horizon = 2"),
        ("--window", "3", "backtest.window = 3"),
    ] {
        let o = bin()
            .args(["backtest", "--config"])
            .arg(dir.join("exp.toml"))
            .arg("--out")
            .arg(&out)
            .args([flag, value, "--quiet"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{flag} {value}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The backtest examples, one epoch each: elecdaily with future covariates
/// and the day of the week (one series), visnights as a panel of 20.
#[test]
fn the_backtest_examples_run_with_future_covariates_and_on_a_panel() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("../shared/data");
    for (name, csv, retrain, says) in [
        (
            "elecdaily_backtest.toml",
            "elecdaily.csv",
            "30",
            "55 origin(s), horizon 7 (last points only), 2 training(s)",
        ),
        (
            "visnights_backtest.toml",
            "visnights_long.csv",
            "4",
            "180 origin(s), horizon 4 (last points only), 3 training(s)",
        ),
    ] {
        if !data.join(csv).is_file() {
            eprintln!("skipped {name}: ../shared/data/{csv} is absent");
            continue;
        }
        let out = temp_dir(&format!("backtest-example-{name}"));
        let o = run(bin()
            .args(["backtest", "--epochs", "1", "--retrain", retrain, "--quiet"])
            .arg("--config")
            .arg(root.join("examples").join(name))
            .arg("--out")
            .arg(&out));
        assert!(o.status.success(), "{name}");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains(says), "{name}: {stdout}");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("backtest_metrics.json")).unwrap())
                .unwrap();
        for model in ["model", "naive", "seasonal_naive", "ets", "theta"] {
            assert!(
                m["overall"][model]["mase"].as_f64().unwrap() > 0.0,
                "{name}: {model}"
            );
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}
