//! `[intervals]` end to end: `lstmkit train` scores conformal intervals on
//! the test windows and stores the validation errors with the model;
//! `lstmkit forecast` writes `lower_80, upper_80, ...` next to the point
//! forecast; `lstmkit backtest` writes them per forecaster.

use crate::common::{bin, run, temp_dir};

const EXP: &str = r#"
[data]
path = "ar.csv"
target = "y"
time_column = "date"
timesteps = 6
horizon = 3
validation_split = 0.3
test_split = 0.2
[[layers]]
type = "lstm"
units = 6
[[layers]]
type = "dense"
units = 3
[fit]
epochs = 3
seed = 5
verbose = 0
[intervals]
levels = [0.8, 0.95]
[backtest]
start = 0.6
"#;

fn write_series(path: &std::path::Path, n: usize) {
    let mut s = String::from("date,y\n");
    let mut y = 20.0f64;
    let mut r = lstmkit::rng::Rng::new(9);
    for i in 0..n {
        y = 20.0 + 0.6 * (y - 20.0) + r.normal();
        s.push_str(&format!(
            "2020-01-01 {:02}:{:02},{y:.4}\n",
            (i / 60) % 24,
            i % 60
        ));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn train_forecast_and_backtest_give_intervals() {
    let dir = temp_dir("intervals");
    write_series(&dir.join("ar.csv"), 600);
    let exp = dir.join("exp.toml");
    std::fs::write(&exp, EXP.replace("time_column = \"date\"\n", "")).unwrap();
    let out = dir.join("run");
    let o = run(bin()
        .args(["train", "--quiet", "--config"])
        .arg(&exp)
        .arg("--out")
        .arg(&out));
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("intervals on the test windows"), "{stdout}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let iv = &m["intervals"];
    for who in [&iv["model"], &iv["baselines"]["naive"]] {
        for key in ["80", "95"] {
            let b = &who[key];
            let cov = b["coverage"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&cov), "{b}");
            assert!(b["width"].as_f64().unwrap() > 0.0, "{b}");
            assert!(
                b["winkler"].as_f64().unwrap() >= b["width"].as_f64().unwrap(),
                "{b}"
            );
            assert!(b["msis"].as_f64().is_some(), "{b}");
            assert_eq!(b["per_step"].as_array().unwrap().len(), 3, "{b}");
        }
        // a 95% interval is wider than an 80% one
        assert!(who["95"]["width"].as_f64() > who["80"]["width"].as_f64());
    }
    assert!(iv["n_calibration"].as_u64().unwrap() >= 19, "{iv}");

    // forecast: the point and both bounds of each level
    let fc = dir.join("fc.csv");
    let o = run(bin()
        .args(["forecast", "--model"])
        .arg(out.join("model.lstmkit"))
        .arg("--data")
        .arg(dir.join("ar.csv"))
        .args(["--steps", "3", "--out"])
        .arg(&fc)
        .arg("--plot")
        .arg(dir.join("fc.png")));
    assert!(o.status.success());
    let text = std::fs::read_to_string(&fc).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,y,lower_80,upper_80,lower_95,upper_95"
    );
    for l in lines {
        let v: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
        assert!(
            v[4] < v[2] && v[2] < v[1] && v[1] < v[3] && v[3] < v[5],
            "{l}"
        );
    }
    // more steps than the validation windows calibrate: an error that says what to do
    let o = bin()
        .args(["forecast", "--model"])
        .arg(out.join("model.lstmkit"))
        .arg("--data")
        .arg(dir.join("ar.csv"))
        .args(["--steps", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--no-intervals") && err.contains("3"), "{err}");
    let o = run(bin()
        .args(["forecast", "--no-intervals", "--model"])
        .arg(out.join("model.lstmkit"))
        .arg("--data")
        .arg(dir.join("ar.csv"))
        .args(["--steps", "5"]));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("step,y\n"));

    // a one-step model calibrated for 5 recursive steps (intervals.steps)
    let rec = dir.join("rec.toml");
    std::fs::write(
        &rec,
        EXP.replace("time_column = \"date\"\n", "")
            .replace("horizon = 3", "horizon = 1")
            .replace("units = 3", "units = 1")
            .replace("levels = [0.8, 0.95]", "levels = [0.8, 0.95]\nsteps = 5"),
    )
    .unwrap();
    let rout = dir.join("rec");
    assert!(run(bin()
        .args(["train", "--quiet", "--config"])
        .arg(&rec)
        .arg("--out")
        .arg(&rout))
    .status
    .success());
    let o = run(bin()
        .args(["forecast", "--model"])
        .arg(rout.join("model.lstmkit"))
        .arg("--data")
        .arg(dir.join("ar.csv"))
        .args(["--steps", "5"]));
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let widths: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
            assert!(
                v[4] < v[2] && v[2] < v[1] && v[1] < v[3] && v[3] < v[5],
                "{l}"
            );
            v[3] - v[2]
        })
        .collect();
    assert_eq!(widths.len(), 5, "{text}");
    // each step has its own calibration (the errors of that many recursive steps)
    assert!(widths.windows(2).any(|w| w[0] != w[1]), "{widths:?}");

    // backtest: the same table calibrates on the earlier origins
    let bt = dir.join("bt");
    let o = run(bin()
        .args(["backtest", "--quiet", "--config"])
        .arg(&exp)
        .arg("--out")
        .arg(&bt));
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("cov80%"), "{stdout}");
    let csv = std::fs::read_to_string(bt.join("backtest.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("model,model_lower_80,model_upper_80,model_lower_95,model_upper_95,naive,naive_lower_80"),
        "{}",
        csv.lines().next().unwrap()
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bt.join("backtest_metrics.json")).unwrap())
            .unwrap();
    let c = m["overall"]["model"]["intervals"]["80"]["coverage"]
        .as_f64()
        .unwrap();
    assert!((0.5..=1.0).contains(&c), "{c}");
    let _ = std::fs::remove_dir_all(&dir);
}
