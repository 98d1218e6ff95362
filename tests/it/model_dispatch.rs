//! Every command that reads a model (`predict`, `evaluate`, `forecast`,
//! `export`) reads every model format through `lstmkit::io::load`: the native
//! file (or the folder `lstmkit train` wrote it in), `lstmkit train`'s JSON
//! model file, Keras `.keras` and legacy `.h5`; a file without a data
//! pipeline gets one from `--config` or a clear error; a corrupt or foreign
//! file is an error naming it (exit 1, no panic, no output left behind).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{bin, data, run, temp_dir};
use lstmkit::io::{npy, ModelFormat};
use lstmkit::Tensor;

fn write_series(dir: &Path, n: usize) -> PathBuf {
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
    let p = dir.join("tiny.csv");
    std::fs::write(&p, s).unwrap();
    p
}

/// Windows of (6, 2) and two outputs per window: the shapes of `tests/data/seq.h5` too.
const CONFIG: &str = r#"
[data]
path = "tiny.csv"
time_column = "date"
target = "y"
features = ["y", "x"]
timesteps = 6
horizon = 2
scaler = "minmax"
test_split = 0.25
validation_split = 0.2

[[layers]]
type = "lstm"
units = 5

[[layers]]
type = "dense"
units = 2

[compile]
optimizer = "adam"
learning_rate = 0.01

[fit]
epochs = 2
batch_size = 16
seed = 7
"#;

struct Files {
    dir: PathBuf,
    cfg: PathBuf,
    csv: PathBuf,
    /// `out/`, where `lstmkit train` wrote `model.lstmkit` and `model.json`.
    out: PathBuf,
    keras: PathBuf,
    x: PathBuf,
    /// Windows of original-unit rows (y, x), shape (4, 6, 2).
    x_levels: PathBuf,
}

/// Trains the tiny model and exports it to `.keras`.
fn setup(tag: &str) -> Files {
    let dir = temp_dir(tag);
    let csv = write_series(&dir, 200);
    let cfg = dir.join("exp.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = dir.join("out");
    let o = run(bin()
        .args(["train", "--quiet", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out));
    assert!(o.status.success());
    let keras = dir.join("m.keras");
    assert!(ok(&export(&out.join("model.lstmkit"), &keras)));
    let x = dir.join("x.npy");
    let v: Vec<f32> = (0..4 * 6 * 2).map(|i| (i as f32 * 0.37).sin()).collect();
    npy::write(&x, &Tensor::new(&[4, 6, 2], v).unwrap()).unwrap();
    let x_levels = dir.join("x_levels.npy");
    let v: Vec<f32> = (0..4 * 6)
        .flat_map(|i| [10.0 + (i as f32 * 0.3).sin() * 2.0, (i as f32 * 0.1).cos()])
        .collect();
    npy::write(&x_levels, &Tensor::new(&[4, 6, 2], v).unwrap()).unwrap();
    Files {
        dir,
        cfg,
        csv,
        out,
        keras,
        x,
        x_levels,
    }
}

fn ok(o: &Output) -> bool {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    o.status.success()
}

fn predict(model: &Path, x: &Path, y: &Path) -> Output {
    predict_with(model, x, y, &[])
}

fn predict_with(model: &Path, x: &Path, y: &Path, more: &[&std::ffi::OsStr]) -> Output {
    run(bin()
        .args(["predict", "--model"])
        .arg(model)
        .arg("--input")
        .arg(x)
        .arg("--output")
        .arg(y)
        .args(more))
}

fn evaluate(model: &Path, config: Option<&Path>, json: &Path) -> Output {
    let mut c = bin();
    c.args(["evaluate", "--model"]).arg(model);
    if let Some(cfg) = config {
        c.arg("--config").arg(cfg);
    }
    run(c.arg("--json").arg(json))
}

fn forecast(model: &Path, config: Option<&Path>, csv: &Path, out: &Path) -> Output {
    let mut c = bin();
    c.args(["forecast", "--steps", "4", "--exog", "hold", "--model"])
        .arg(model)
        .arg("--data")
        .arg(csv);
    if let Some(cfg) = config {
        c.arg("--config").arg(cfg);
    }
    run(c.arg("--out").arg(out))
}

fn export(model: &Path, out: &Path) -> Output {
    run(bin()
        .args(["export", "--model"])
        .arg(model)
        .arg("--out")
        .arg(out))
}

fn test_rmse(json: &Path) -> f64 {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    v["test"]["rmse"]
        .as_f64()
        .unwrap_or_else(|| panic!("no test.rmse in {v}"))
}

/// Names in `dir` that start with '.' (temporary files).
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn every_command_reads_native_json_and_keras_files_alike() {
    let f = setup("dispatch-all");
    let native = f.out.join("model.lstmkit");
    let json = f.out.join("model.json");
    // what each file is, and which hold their pipeline
    for (p, format, has_pipeline) in [
        (&native, ModelFormat::Native, true),
        (&f.out, ModelFormat::Native, true),
        (&json, ModelFormat::Json, true),
        (&f.keras, ModelFormat::Keras, false),
        (&data("seq.h5"), ModelFormat::KerasH5, false),
    ] {
        let l = lstmkit::io::load(p).unwrap();
        assert_eq!(l.format, format, "{}", p.display());
        assert_eq!(l.pipeline.is_some(), has_pipeline, "{}", p.display());
    }
    // (file, --config it needs): the same weights, whatever the format
    let cfg = Some(f.cfg.as_path());
    let same: [(&Path, Option<&Path>); 4] = [
        (&native, None),
        (&f.out, None),
        (&json, None),
        (&f.keras, cfg),
    ];
    let mut preds = Vec::new();
    let mut levels = Vec::new();
    let mut rmses = Vec::new();
    let mut forecasts = Vec::new();
    for (k, (m, config)) in same.iter().enumerate() {
        let what = m.display();
        // the model's own units: the array as is
        let y = f.dir.join(format!("y{k}.npy"));
        assert!(
            ok(&predict_with(m, &f.x, &y, &["--scaled".as_ref()])),
            "predict {what}"
        );
        preds.push(npy::read(&y).unwrap());
        // original units: with the file's pipeline, or --config's for the .keras
        let yo = f.dir.join(format!("yo{k}.npy"));
        let cfg_arg: Vec<&std::ffi::OsStr> = match config {
            Some(c) => vec!["--config".as_ref(), c.as_os_str()],
            None => vec![],
        };
        let o = predict_with(m, &f.x_levels, &yo, &cfg_arg);
        assert!(ok(&o), "predict {what} in original units");
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(said.contains("in original units of y"), "{said}");
        levels.push(npy::read(&yo).unwrap());
        // a file with its own pipeline scores with it, on the data it was
        // trained on (or --config's), a .keras with the one --config fits:
        // the same here
        let ev = f.dir.join(format!("ev{k}.json"));
        assert!(ok(&evaluate(m, cfg, &ev)), "evaluate {what}");
        rmses.push(test_rmse(&ev));
        let ev = f.dir.join(format!("own{k}.json"));
        assert!(
            ok(&evaluate(m, *config, &ev)),
            "evaluate {what} without --config"
        );
        assert_eq!(test_rmse(&ev), rmses[k], "evaluate {what} without --config");
        let fc = f.dir.join(format!("f{k}.csv"));
        assert!(ok(&forecast(m, *config, &f.csv, &fc)), "forecast {what}");
        forecasts.push(std::fs::read_to_string(&fc).unwrap());
        for ext in ["keras", "lstmkit"] {
            let e = f.dir.join(format!("e{k}.{ext}"));
            assert!(ok(&export(m, &e)), "export {what} to .{ext}");
            let mut back = lstmkit::io::load_model(&e).unwrap();
            let x = npy::read(&f.x).unwrap();
            assert_eq!(back.predict(&x).unwrap(), preds[k], "{what} → .{ext}");
        }
    }
    assert_eq!(preds[0].shape, [4, 2]);
    // original units: the array scaled with the file's pipeline, the outputs scaled back
    let l = lstmkit::io::load(&native).unwrap();
    let p = l.pipeline.clone().unwrap();
    let xl = npy::read(&f.x_levels).unwrap();
    let mut m = l.model;
    let raw = m.predict(&p.inputs_from_levels(&xl).unwrap()).unwrap();
    assert_eq!(levels[0], p.outputs_to_levels(&xl, &raw).unwrap());
    // without --scaled a native file reads original units: the scaled array
    // is not the same input, so the outputs differ
    let y = f.dir.join("default.npy");
    let o = predict(&native, &f.x_levels, &y);
    assert!(ok(&o));
    assert_ne!(npy::read(&y).unwrap(), preds[0]);
    // a Keras file without --config: as is, and it says so
    let o = predict(&f.keras, &f.x, &y);
    assert!(ok(&o) && String::from_utf8_lossy(&o.stderr).contains("no data pipeline"));
    assert_eq!(npy::read(&y).unwrap(), preds[0]);
    for k in 1..same.len() {
        assert_eq!(preds[k], preds[0], "predict {}", same[k].0.display());
        assert_eq!(levels[k], levels[0], "predict {}", same[k].0.display());
        assert_eq!(rmses[k], rmses[0], "evaluate {}", same[k].0.display());
        assert_eq!(
            forecasts[k],
            forecasts[0],
            "forecast {}",
            same[k].0.display()
        );
    }
    assert_eq!(forecasts[0].lines().count(), 5, "{}", forecasts[0]);
    // the native export of a JSON file keeps its pipeline: forecast needs no --config
    let fc = f.dir.join("from-json-export.csv");
    assert!(ok(&forecast(&f.dir.join("e2.lstmkit"), None, &f.csv, &fc)));
    assert_eq!(std::fs::read_to_string(&fc).unwrap(), forecasts[0]);
    // a native file without a pipeline (exported from .keras) takes --config's, as a .keras does
    let bare = f.dir.join("e3.lstmkit");
    assert!(lstmkit::io::load(&bare).unwrap().pipeline.is_none());
    let fc = f.dir.join("bare.csv");
    assert!(ok(&forecast(&bare, cfg, &f.csv, &fc)));
    assert_eq!(std::fs::read_to_string(&fc).unwrap(), forecasts[0]);

    // the legacy .h5 (other weights, same shapes): every command, --config for the pipeline
    let h5 = data("seq.h5");
    assert!(ok(&predict(&h5, &f.x, &f.dir.join("h5.npy"))));
    assert!(ok(&evaluate(&h5, cfg, &f.dir.join("h5.json"))));
    assert!(test_rmse(&f.dir.join("h5.json")).is_finite());
    let fc = f.dir.join("h5.csv");
    assert!(ok(&forecast(&h5, cfg, &f.csv, &fc)));
    assert_eq!(std::fs::read_to_string(&fc).unwrap().lines().count(), 5);
    assert!(ok(&export(&h5, &f.dir.join("h5.keras"))));

    // without a pipeline and without --config: one clear error for both commands
    for (m, what) in [
        (&f.keras, "a Keras .keras file"),
        (&bare, "an lstmkit native file"),
    ] {
        let e = evaluate(m, None, &f.dir.join("never.json"));
        let fc = forecast(m, None, &f.csv, &f.dir.join("never.csv"));
        for o in [e, fc] {
            assert_eq!(o.status.code(), Some(1));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.starts_with("error: model file ")
                    && err.contains(&m.display().to_string())
                    && err.contains(what)
                    && err.contains("no data pipeline")
                    && err.contains("add --config"),
                "{err}"
            );
        }
    }
    assert!(!f.dir.join("never.json").exists() && !f.dir.join("never.csv").exists());
    // a config whose windows do not fit the model: both shapes, the file and the config
    let wrong = f.dir.join("wrong.toml");
    std::fs::write(&wrong, CONFIG.replace("horizon = 2", "horizon = 1")).unwrap();
    for o in [
        evaluate(&h5, Some(&wrong), &f.dir.join("never.json")),
        forecast(&f.keras, Some(&wrong), &f.csv, &f.dir.join("never.csv")),
    ] {
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("outputs 2 value(s)")
                && err.contains("wrong.toml")
                && err.contains("needs 1"),
            "{err}"
        );
    }
    assert!(hidden(&f.dir).is_empty() && hidden(&f.out).is_empty());
    std::fs::remove_dir_all(&f.dir).unwrap();
}

#[test]
fn corrupt_or_foreign_model_files_are_errors_naming_the_file() {
    let f = setup("dispatch-bad");
    let native = std::fs::read(f.out.join("model.lstmkit")).unwrap();
    let keras = std::fs::read(&f.keras).unwrap();
    let bad = f.dir.join("bad");
    std::fs::create_dir_all(bad.join("empty-folder")).unwrap();
    let mut flipped = native.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.txt",
            b"hello, not a model".to_vec(),
            "not a model file",
        ),
        (
            "half.lstmkit",
            native[..native.len() / 2].to_vec(),
            "truncated",
        ),
        ("flipped.lstmkit", flipped, "corrupt"),
        (
            "half.keras",
            keras[..keras.len() / 2].to_vec(),
            "model file",
        ),
        (
            "other.json",
            b"{\"layers\": []}".to_vec(),
            "not an lstmkit model file",
        ),
        ("empty.keras", Vec::new(), "empty"),
    ];
    let mut paths: Vec<(PathBuf, &str)> = Vec::new();
    for (name, bytes, says) in &files {
        let p = bad.join(name);
        std::fs::write(&p, bytes).unwrap();
        paths.push((p, says));
    }
    paths.push((bad.join("empty-folder"), "holds no model.lstmkit"));
    paths.push((bad.join("missing.lstmkit"), "No such file"));
    let out = f.dir.join("results");
    std::fs::create_dir_all(&out).unwrap();
    let cfg = Some(f.cfg.as_path());
    for (p, says) in &paths {
        let runs = [
            ("predict", predict(p, &f.x, &out.join("y.npy"))),
            ("evaluate", evaluate(p, cfg, &out.join("ev.json"))),
            ("forecast", forecast(p, cfg, &f.csv, &out.join("f.csv"))),
            ("export", export(p, &out.join("m.keras"))),
        ];
        for (cmd, o) in runs {
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{cmd} {}: {err}", p.display());
            assert!(!err.contains("panicked"), "{cmd}: {err}");
            assert!(
                err.starts_with("error: ")
                    && err.contains(&p.display().to_string())
                    && err.contains(says),
                "{cmd} {}: expected the file and '{says}' in: {err}",
                p.display()
            );
            let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
            assert!(left.is_empty(), "{cmd} {}: left {left:?}", p.display());
        }
    }
    // an output folder that does not exist: an error naming the output, nothing written
    let nowhere = f.dir.join("no/such/folder");
    let native_p = f.out.join("model.lstmkit");
    for (cmd, o, target) in [
        (
            "predict",
            predict(&native_p, &f.x, &nowhere.join("y.npy")),
            "y.npy",
        ),
        (
            "evaluate",
            evaluate(&native_p, cfg, &nowhere.join("ev.json")),
            "ev.json",
        ),
        (
            "forecast",
            forecast(&native_p, None, &f.csv, &nowhere.join("f.csv")),
            "f.csv",
        ),
        (
            "export",
            export(&native_p, &nowhere.join("m.keras")),
            "m.keras",
        ),
    ] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains(&nowhere.join(target).display().to_string()),
            "{cmd}: {err}"
        );
    }
    assert!(!f.dir.join("no").exists());
    std::fs::remove_dir_all(&f.dir).unwrap();
}
