//! `lstmkit train --resume DIR`: a run of 6 epochs resumed to 14 ends with the
//! same bits as 14 epochs straight — weights, optimiser state, history, the
//! callbacks' state and the CSV log — with dropout, EarlyStopping (restoring
//! best weights) and ReduceLROnPlateau in play; and the resume's error paths.

use std::path::Path;
use std::process::Output;

use crate::common::{bin, run, temp_dir};
use lstmkit::io::native;

fn write_series(dir: &Path, n: usize) {
    let mut s = String::from("date,y,x\n");
    for i in 0..n {
        let t = i as f64;
        s.push_str(&format!(
            "d{i},{},{}\n",
            10.0 + (t * 0.3).sin() * 2.0 + t * 0.01 + ((t * 7.3).sin() * 0.3),
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
scaler = "minmax"
test_split = 0.2
validation_split = 0.2

[[layers]]
type = "lstm"
units = 8
dropout = 0.2
recurrent_dropout = 0.1

[[layers]]
type = "dropout"
rate = 0.1

[[layers]]
type = "dense"
units = 1

[compile]
optimizer = "adam"
learning_rate = 0.02
loss = "mse"

[fit]
epochs = 6
batch_size = 16
seed = 5

[callbacks.early_stopping]
patience = 6
restore_best_weights = true

[callbacks.reduce_lr_on_plateau]
factor = 0.5
patience = 1
min_delta = 0.0

[callbacks.csv_logger]
filename = "log.csv"
"#;

fn train(cfg: &Path, out: &Path, epochs: &str) -> Output {
    run(bin()
        .arg("train")
        .arg("--config")
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .args(["--epochs", epochs, "--quiet"]))
}

/// Everything a run leaves that must not depend on the interruption.
fn state(dir: &Path) -> (Vec<lstmkit::Tensor>, serde_json::Value, serde_json::Value) {
    let (m, extras) = native::load(dir.join("model.lstmkit")).unwrap();
    let mut h = extras.history.clone().unwrap();
    h.as_object_mut().unwrap().remove("seconds");
    let mut t = extras.train.clone().unwrap();
    let t = t.get_mut("resume").unwrap().take();
    let opt = serde_json::to_value(m.optimizer()).unwrap();
    let mut w = m.get_weights();
    w.extend(extras.tensors.values().cloned());
    (w, serde_json::json!({"history": h, "optimizer": opt}), t)
}

fn read_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn six_epochs_resumed_to_fourteen_equal_fourteen_straight() {
    let dir = temp_dir("bits");
    write_series(&dir, 260);
    let cfg = dir.join("exp.toml");
    std::fs::write(&cfg, CONFIG).unwrap();

    let straight = dir.join("straight");
    assert!(train(&cfg, &straight, "14").status.success());
    let parts = dir.join("parts");
    assert!(train(&cfg, &parts, "6").status.success());
    let out = run(bin()
        .arg("train")
        .arg("--resume")
        .arg(&parts)
        .args(["--epochs", "14"]));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("resuming") && stdout.contains("at epoch 7 of 14"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Epoch 7/14"),
        "progress goes on from epoch 7: {stdout}"
    );

    let (ws, ms, rs) = state(&straight);
    let (wp, mp, rp) = state(&parts);
    let epochs = ms["history"]["loss"].as_array().unwrap().len();
    // EarlyStopping ends the run after the resume point, which it only does at
    // the same epoch when its count of epochs without improvement carried over
    assert!(
        epochs > 6 && epochs < 14,
        "the straight run stopped after {epochs} epochs"
    );
    assert_eq!(ms["history"], mp["history"], "the histories differ");
    assert!(ms == mp, "the optimiser states differ");
    assert_eq!(rs, rp, "the callback states differ");
    assert_eq!(ws.len(), wp.len());
    for (a, b) in ws.iter().zip(&wp) {
        assert_eq!(a.shape, b.shape);
        let same = a
            .data
            .iter()
            .zip(&b.data)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "weights differ");
    }
    // the learning rate was cut at least once and EarlyStopping holds a best
    let lrs = ms["history"]["learning_rate"].as_array().unwrap();
    assert!(
        lrs.first() != lrs.last(),
        "ReduceLROnPlateau never acted: {lrs:?}"
    );
    assert!(
        rs["callbacks"]["early_stopping"]["tensors"]
            .as_u64()
            .unwrap()
            > 0
    );
    // the CSV log holds all epochs once, the same rows as the straight run
    assert_eq!(
        read_text(&straight.join("log.csv")),
        read_text(&parts.join("log.csv"))
    );
    let metrics = |d: &Path| -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("metrics.json")).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("train_seconds");
        v
    };
    assert_eq!(metrics(&straight), metrics(&parts));
}

#[test]
fn resume_errors_name_the_reason() {
    let dir = temp_dir("errors");
    write_series(&dir, 260);
    let cfg = dir.join("exp.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let a = dir.join("a");
    assert!(train(&cfg, &a, "3").status.success());
    let fails = |args: &[&str], expect: &str| {
        let out = run(bin().arg("train").args(args));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(expect), "{args:?}: '{expect}' not in: {err}");
    };
    let a_s = a.to_str().unwrap();
    fails(
        &["--resume", a_s, "--epochs", "3"],
        "3 epoch(s) already done",
    );
    fails(&["--resume", a_s], "already done");
    let missing = dir.join("nothing");
    fails(
        &["--resume", missing.to_str().unwrap(), "--epochs", "5"],
        "no model.lstmkit",
    );
    fails(
        &["--resume", a_s, "--config", cfg.to_str().unwrap()],
        "cannot be used with",
    );
    fails(&["--resume", a_s, "--seed", "4"], "cannot be used with");
    // the data changed under the saved run
    write_series(&dir, 300);
    fails(&["--resume", a_s, "--epochs", "5"], "no longer gives");
    write_series(&dir, 260);
    // a model file not written by `train`
    let c = dir.join("c");
    std::fs::create_dir_all(&c).unwrap();
    let m = lstmkit::model::Sequential::new(&[6, 2])
        .add(lstmkit::nn::LSTM::new(2))
        .add(lstmkit::nn::Dense::new(1))
        .build(1)
        .unwrap();
    native::save(&m, c.join("model.lstmkit"), &Default::default()).unwrap();
    fails(
        &["--resume", c.to_str().unwrap(), "--epochs", "5"],
        "no training run to resume",
    );
}

/// A run that EarlyStopping ended goes on when resumed (the README's own
/// `train` then `train --resume DIR --epochs N`): patience counter reset as a
/// new Keras `fit()` resets it, best value and best weights kept.
#[test]
fn a_run_early_stopping_ended_goes_on_keeping_the_best_weights() {
    let dir = temp_dir("early-stopped");
    write_series(&dir, 260);
    // never improves on epoch 1 by 100: stops after epoch 2, and after one more epoch when resumed
    let cfg = dir.join("stop.toml");
    std::fs::write(
        &cfg,
        CONFIG.replace("patience = 6", "patience = 0\nmin_delta = 100.0"),
    )
    .unwrap();
    let b = dir.join("b");
    assert!(train(&cfg, &b, "8").status.success());
    let metrics = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join("metrics.json")).unwrap()).unwrap()
    };
    assert_eq!(metrics(&b)["epochs_run"], 2);
    let first_model = dir.join("first.json");
    std::fs::copy(b.join("model.json"), &first_model).unwrap();
    let out = run(bin()
        .arg("train")
        .arg("--resume")
        .arg(&b)
        .args(["--epochs", "12", "--quiet"]));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("EarlyStopping ended that run at epoch 2") && said.contains("best weights"),
        "{said}"
    );
    let m = metrics(&b);
    assert_eq!(
        (m["epochs_run"].as_u64(), m["best_epoch"].as_u64()),
        (Some(3), Some(1))
    );
    let history = std::fs::read_to_string(b.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 1 + 3, "{history}");
    // the model holds epoch 1's weights again (the best of all three epochs,
    // not of the continuation alone): the predictions of the first run's model
    let mut before = lstmkit::io::load_model(&first_model).unwrap();
    let mut after = lstmkit::io::load_model(b.join("model.lstmkit")).unwrap();
    let x = lstmkit::Tensor::new(&[1, 6, 2], (0..12).map(|i| i as f32 * 0.1).collect()).unwrap();
    assert_eq!(before.predict(&x).unwrap(), after.predict(&x).unwrap());
}

/// Ctrl-C during `train`: the run stops after the batch in progress, is saved
/// (exit code 130) and goes on with `--resume`.
#[test]
fn ctrl_c_stops_after_the_batch_saves_the_run_and_it_resumes() {
    use std::io::BufRead;
    let dir = temp_dir("sigint");
    write_series(&dir, 260);
    let es = CONFIG.find("[callbacks.early_stopping]").unwrap();
    let rl = CONFIG.find("[callbacks.reduce_lr_on_plateau]").unwrap();
    let text = format!("{}{}", &CONFIG[..es], &CONFIG[rl..])
        .replace("epochs = 6", "epochs = 100000\nverbose = 2");
    let cfg = dir.join("long.toml");
    std::fs::write(&cfg, text).unwrap();
    let out = dir.join("run");
    let mut child = bin()
        .arg("train")
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut said = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let third = line.starts_with("Epoch 3/");
        said.push(line);
        if third {
            let ok = std::process::Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(ok.success());
        }
    }
    let status = child.wait().unwrap();
    let said = said.join("\n");
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(
        said.contains("interrupted (Ctrl-C)") && said.contains("--resume"),
        "{said}"
    );
    let rows = |d: &Path| {
        std::fs::read_to_string(d.join("history.csv"))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    let done = rows(&out);
    assert!((2..100).contains(&done), "{done} epochs recorded");
    assert!(out.join("model.lstmkit").exists() && out.join("metrics.json").exists());
    let target = (done + 2).to_string();
    let o = run(bin()
        .arg("train")
        .arg("--resume")
        .arg(&out)
        .args(["--epochs", &target, "--quiet"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(rows(&out), done + 2);
}
