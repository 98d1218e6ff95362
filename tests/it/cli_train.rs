//! End-to-end: the built `lstmkit` binary trains from a small experiment file
//! on tiny data written to a temporary folder, writes every output file, and
//! re-scores the saved model; error paths exit 1 naming the file and line.

use crate::common::{bin, run, temp_dir};
use std::path::Path;

fn write_series(dir: &Path, n: usize) {
    let mut s = String::from("date,y,x\n");
    for i in 0..n {
        let t = i as f64;
        s.push_str(&format!(
            "2020-01-{:02}T{:02},{},{}\n",
            i / 24 + 1,
            i % 24,
            10.0 + (t * 0.3).sin() * 2.0 + t * 0.01,
            (t * 0.1).cos()
        ));
    }
    std::fs::write(dir.join("tiny.csv"), s).unwrap();
}

const CONFIG: &str = r#"
[data]
path = "tiny.csv"
time_column = "date"
target = "y"
features = ["y", "x"]
timesteps = 6
horizon = 1
scaler = "minmax"
test_split = 0.25
validation_split = 0.2
season = 21

[[layers]]
type = "lstm"
units = 6
activation = "tanh"
kernel_regularizer = { l2 = 0.001 }

[[layers]]
type = "dense"
units = 1

[compile]
optimizer = "adam"
learning_rate = 0.01
loss = "mse"
clipnorm = 1.0

[fit]
epochs = 4
batch_size = 16
seed = 3

[callbacks.early_stopping]
patience = 10
restore_best_weights = true

[callbacks.reduce_lr_on_plateau]
factor = 0.5
patience = 2

[callbacks.csv_logger]
filename = "log.csv"
"#;

fn num(v: &serde_json::Value, path: &str) -> f64 {
    let mut cur = v;
    for k in path.split('.') {
        cur = cur
            .get(k)
            .unwrap_or_else(|| panic!("metrics.json has no {path} (missing {k}): {v}"));
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {cur}"))
}

#[test]
fn train_writes_every_file_and_evaluate_rescores() {
    let dir = temp_dir("ok");
    write_series(&dir, 200);
    let cfg = dir.join("exp.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out_dir = dir.join("out");
    let out = run(bin()
        .arg("train")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out_dir)
        .args(["--epochs", "3", "--quiet"]));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Total params"), "{stdout}");
    assert!(stdout.contains("naive"), "{stdout}");
    assert!(stdout.contains("test RMSE"), "{stdout}");
    assert!(
        !stdout.contains("Epoch 1/3"),
        "--quiet prints no progress: {stdout}"
    );

    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("metrics.json")).unwrap()).unwrap();
    for k in [
        "test.mae",
        "test.rmse",
        "test.r2",
        "test.smape",
        "baselines.naive.mae",
        "baselines.naive.rmse",
        "baselines.naive.r2",
        "baselines.seasonal_naive.rmse",
        "epochs_run",
        "best_epoch",
        "train_seconds",
        "n_test_windows",
    ] {
        assert!(num(&m, k).is_finite(), "{k}");
    }
    assert_eq!(
        num(&m, "epochs_run"),
        3.0,
        "--epochs 3 overrides the config's 4"
    );
    let best = num(&m, "best_epoch");
    assert!((1.0..=3.0).contains(&best));
    // 200 rows, test 50 rows, windows of 6 → 44 test windows
    assert_eq!(num(&m, "n_test_windows"), 44.0);

    let hist = std::fs::read_to_string(out_dir.join("history.csv")).unwrap();
    let lines: Vec<&str> = hist.lines().collect();
    assert_eq!(lines[0], "epoch,loss,val_loss,learning_rate,seconds");
    assert_eq!(lines.len(), 4);
    for l in &lines[1..] {
        let cells: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
        assert_eq!(cells.len(), 5);
        assert!(cells[1] > 0.0 && cells[2] > 0.0 && cells[3] > 0.0);
    }
    let log = std::fs::read_to_string(out_dir.join("log.csv")).unwrap();
    assert!(
        log.starts_with("epoch,learning_rate,loss,val_loss\n"),
        "{log}"
    );
    for png in ["predictions.png", "loss.png"] {
        let b = std::fs::read(out_dir.join(png)).unwrap();
        assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{png}");
        assert!(b.len() > 5000, "{png} is suspiciously small");
    }
    // nothing temporary left behind
    for e in std::fs::read_dir(&out_dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "leftover {name}");
    }

    // evaluate reproduces the test metrics from the saved model
    let ev_path = dir.join("ev.json");
    let out = run(bin()
        .arg("evaluate")
        .arg("--model")
        .arg(out_dir.join("model.lstmkit"))
        .arg("--config")
        .arg(&cfg)
        .arg("--json")
        .arg(&ev_path));
    assert!(out.status.success());
    let ev: serde_json::Value = serde_json::from_slice(&std::fs::read(&ev_path).unwrap()).unwrap();
    assert!((num(&ev, "test.rmse") - num(&m, "test.rmse")).abs() < 1e-9);
    assert_eq!(
        num(&ev, "baselines.naive.rmse"),
        num(&m, "baselines.naive.rmse")
    );

    // same seed → same bits
    let out_dir2 = dir.join("out2");
    let out = run(bin()
        .arg("train")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out_dir2)
        .args(["--epochs", "3", "--quiet"]));
    assert!(out.status.success());
    let m2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir2.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(num(&m2, "test.rmse"), num(&m, "test.rmse"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn fails_with(cfg_text: &str, rows: usize, tag: &str, expect: &[&str]) {
    let dir = temp_dir(tag);
    if rows > 0 {
        write_series(&dir, rows);
    }
    let cfg = dir.join("exp.toml");
    std::fs::write(&cfg, cfg_text).unwrap();
    let out = bin()
        .arg("train")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{tag}: {err}");
    assert!(err.starts_with("error: "), "{tag}: {err}");
    for e in expect {
        assert!(err.contains(e), "{tag}: expected '{e}' in: {err}");
    }
    assert!(!dir.join("out/model.lstmkit").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn error_paths_exit_1_naming_file_and_line() {
    // an unknown key: the file, the key and its line
    let bad = CONFIG.replace("units = 6", "units = 6\nunits_typo = 2");
    fails_with(&bad, 200, "key", &["exp.toml", "units_typo", "line 17"]);
    // a value out of range
    let bad = CONFIG.replace("factor = 0.5", "factor = 2.0");
    fails_with(&bad, 200, "range", &["exp.toml", "factor"]);
    // a missing CSV: its path
    fails_with(CONFIG, 0, "missing", &["tiny.csv"]);
    // a series too short for one window: the numbers
    fails_with(
        CONFIG,
        20,
        "short",
        &["tiny.csv", "too short", "timesteps (6)"],
    );
    // a bad cell: file, line and column
    let dir = temp_dir("cell");
    write_series(&dir, 200);
    let text = std::fs::read_to_string(dir.join("tiny.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[7] = "2020-01-01T06,abc,0.5".into();
    std::fs::write(dir.join("tiny.csv"), lines.join("\n")).unwrap();
    std::fs::write(dir.join("exp.toml"), CONFIG).unwrap();
    let out = bin()
        .args(["train", "--quiet", "--config"])
        .arg(dir.join("exp.toml"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("tiny.csv") && err.contains("line 8") && err.contains('y'),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
