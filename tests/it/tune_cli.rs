//! `lstmkit tune` end to end: worker processes, live output, resume, status,
//! the best model file, Hyperband's epochs, errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lstmkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lstmkit"))
}

fn tmp(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = crate::common::tmp_root().join(format!(
        "lstmkit-tune-cli-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn experiment(tune: &str) -> String {
    format!(
        r#"
[data]
path = "bundled:co2"
target = "co2"
timesteps = 5
validation_split = 0.2

[[layers]]
type = "lstm"
units = {{ int = [4, 8], step = 4 }}
activation = "relu"

[[layers]]
type = "dense"
units = 1

[compile]
optimizer = "adam"
learning_rate = {{ float = [1e-3, 1e-2], sampling = "log" }}

[fit]
epochs = 2
batch_size = {{ choice = [64, 128] }}

[tune]
{tune}
"#
    )
}

fn run_tune(dir: &Path, cfg: &str, study: &str, workers: usize) -> Output {
    lstmkit()
        .args(["tune", "--config"])
        .arg(dir.join(cfg))
        .args(["--study", study, "--workers", &workers.to_string(), "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap()
}

#[test]
fn tune_two_workers_resume_and_status() {
    let dir = tmp("random");
    std::fs::write(
        dir.join("exp.toml"),
        experiment("max_trials = 4\nseed = 3\nheartbeat_seconds = 0.2\nstale_seconds = 5"),
    )
    .unwrap();
    let o = run_tune(&dir, "exp.toml", "s", 2);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("4 complete, 0 pruned, 0 failed"), "{t}");
    assert!(t.contains("best: trial #"), "{t}");
    for k in [
        "layers.0.units=",
        "compile.learning_rate=",
        "fit.batch_size=",
    ] {
        assert!(t.contains(k), "{k}: {t}");
    }
    let best = dir.join("out/s/best_model.lstmkit");
    let (model, extras) = lstmkit::io::native::load(&best).unwrap();
    let w = model.get_weights();
    let units = w[1].shape[0]; // recurrent kernel: (units, 4 units)
    assert!(units == 4 || units == 8, "{:?}", w[1].shape);
    assert!(extras.pipeline().unwrap().is_some());
    let logs: Vec<_> = std::fs::read_dir(dir.join("out/s"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("worker-"))
        .collect();
    assert_eq!(logs.len(), 2);
    // Re-running resumes: the study is complete, nothing new runs.
    let o = run_tune(&dir, "exp.toml", "s", 1);
    let t2 = text(&o);
    assert!(o.status.success(), "{t2}");
    assert!(t2.contains("4 complete, 0 pruned, 0 failed"), "{t2}");
    // Status reads the same study.
    let o = lstmkit()
        .args(["tune", "status", "--study", "s", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let st = text(&o);
    assert!(o.status.success(), "{st}");
    assert!(
        st.contains("study 's': random search, objective val_loss (min), max_trials 4"),
        "{st}"
    );
    assert_eq!(st.matches("COMPLETE").count(), 4, "{st}");
    // A changed search under the same name is refused.
    std::fs::write(
        dir.join("other.toml"),
        experiment("max_trials = 4\nseed = 4"),
    )
    .unwrap();
    let o = run_tune(&dir, "other.toml", "s", 1);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("different search"), "{}", text(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tune_hyperband_trains_tuner_epochs() {
    let dir = tmp("hyperband");
    std::fs::write(
        dir.join("exp.toml"),
        experiment("tuner = \"hyperband\"\nmax_epochs = 3\nfactor = 3\nseed = 1"),
    )
    .unwrap();
    let o = run_tune(&dir, "exp.toml", "hb", 1);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // Keras Tuner's brackets for max_epochs=3, factor=3: 3 trials × 1 epoch,
    // the best continued to 3 epochs, then 2 trials × 3 epochs.
    assert!(t.contains("6 complete"), "{t}");
    assert_eq!(
        t.matches("tuner/epochs=1").count(),
        3 * 2,
        "table + lines: {t}"
    );
    assert!(t.contains("tuner/trial_id="), "{t}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tune_errors() {
    let dir = tmp("errors");
    std::fs::write(
        dir.join("plain.toml"),
        experiment("max_trials = 2")
            .replace("{ int = [4, 8], step = 4 }", "4")
            .replace("{ float = [1e-3, 1e-2], sampling = \"log\" }", "0.01")
            .replace("{ choice = [64, 128] }", "64"),
    )
    .unwrap();
    let o = run_tune(&dir, "plain.toml", "s", 1);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no search space"), "{}", text(&o));
    std::fs::write(
        dir.join("bad.toml"),
        experiment("max_trials = 2\ntuner = \"bayes\""),
    )
    .unwrap();
    let o = run_tune(&dir, "bad.toml", "s", 1);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("unknown tuner 'bayes'"), "{}", text(&o));
    let o = lstmkit()
        .args(["tune", "status", "--study", "nope", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    // nothing ran, so there is no database: looking says so and creates none
    assert!(text(&o).contains("no study database at"), "{}", text(&o));
    assert!(!dir.join("out/tune.sqlite3").exists());
    // a study name cannot lead outside --out
    std::fs::write(dir.join("ok.toml"), experiment("max_trials = 1")).unwrap();
    let o = run_tune(&dir, "ok.toml", "../escaped", 1);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("a study name is a folder name"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("escaped").exists());
    let o = lstmkit().args(["tune", "--study", "x"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tune_runs_on_a_panel_experiment() {
    // three series in long format (one too short: skipped with a note, not a failure)
    let dir = tmp("panel");
    let mut csv = String::from("region,t,y\n");
    for (k, n) in [("north", 40), ("south", 36), ("tiny", 4)] {
        for r in 0..n {
            let v = 10.0 * (k.len() as f64) + (r as f64 * 0.5).sin() + 0.05 * r as f64;
            csv.push_str(&format!("{k},{r},{v:.4}\n"));
        }
    }
    std::fs::write(dir.join("panel.csv"), csv).unwrap();
    std::fs::write(
        dir.join("exp.toml"),
        r#"
[data]
path = "panel.csv"
id_column = "region"
time_column = "t"
target = "y"
timesteps = 4
validation_split = 0.2

[[layers]]
type = "lstm"
units = { int = [2, 4], step = 2 }

[[layers]]
type = "dense"
units = 1

[compile]
optimizer = "adam"
learning_rate = { float = [1e-3, 1e-2], sampling = "log" }

[fit]
epochs = 1
batch_size = 16

[tune]
max_trials = 2
seed = 1
"#,
    )
    .unwrap();
    let o = run_tune(&dir, "exp.toml", "p", 1);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("2 complete, 0 pruned, 0 failed"), "{t}");
    // the best model carries the panel's pipeline (one scaler per series used)
    let (_, extras) = lstmkit::io::native::load(dir.join("out/p/best_model.lstmkit")).unwrap();
    let pipe = extras.pipeline().unwrap().unwrap();
    assert_eq!(pipe.id_column.as_deref(), Some("region"));
    assert_eq!(
        pipe.series_scalers.keys().collect::<Vec<_>>(),
        ["north", "south"]
    );
    std::fs::remove_dir_all(&dir).ok();
}
