//! `lstmkit forecast` end to end: a native model file carrying its data
//! pipeline, a CSV, a forecast CSV and a PNG.

use std::process::Command;

use lstmkit::data::{load_csv, prepare_frame, DataSpec, Frame};
use lstmkit::forecast::{forecast, Exog, ForecastOptions};
use lstmkit::io::native::{self, Extras};
use lstmkit::model::Sequential;
use lstmkit::nn::{Dense, LSTM};

fn write_csv(path: &std::path::Path, n: usize) {
    let mut s = String::from("date,temp,hum\n");
    for i in 0..n {
        s.push_str(&format!(
            "2020-01-{:03},{},{}\n",
            i,
            15.0 + 5.0 * (i as f64 * 0.3).sin(),
            60.0 + 10.0 * (i as f64 * 0.1).cos()
        ));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn forecast_cli_writes_csv_and_plot_and_needs_an_exog_choice() {
    let dir = crate::common::tmp_root().join(format!("lstmkit-fcli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("weather.csv");
    write_csv(&csv, 80);
    let mut spec = DataSpec::new(&csv, &["temp"]);
    spec.time_column = Some("date".into());
    spec.features = Some(vec!["temp".into(), "hum".into()]);
    spec.timesteps = 6;
    let frame: Frame = spec.load_frame(&dir).unwrap();
    let p = prepare_frame(&spec, frame).unwrap();
    let mut model = Sequential::new(&[6, 2])
        .add(LSTM::new(5))
        .add(Dense::new(1))
        .build(3)
        .unwrap();
    let mpath = dir.join("m.lstmkit");
    let extras = Extras {
        data: Some(Extras::data_blob(Some(&spec), &p.pipeline)),
        ..Extras::default()
    };
    native::save(&model, &mpath, &extras).unwrap();
    let bin = env!("CARGO_BIN_EXE_lstmkit");

    // a multivariate model without --exog: an error that names the choice
    let o = Command::new(bin)
        .args(["forecast", "--model"])
        .arg(&mpath)
        .args(["--data"])
        .arg(&csv)
        .args(["--steps", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("hum") && err.contains("known") && err.contains("hold"),
        "{err}"
    );

    let out = dir.join("f.csv");
    let png = dir.join("f.png");
    let o = Command::new(bin)
        .args(["forecast", "--model"])
        .arg(&mpath)
        .args(["--data"])
        .arg(&csv)
        .args(["--steps", "5", "--exog", "known", "--out"])
        .arg(&out)
        .arg("--plot")
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "step,time,temp");
    assert_eq!(lines.len(), 6);
    assert!(lines[1].starts_with("1,2020-01-075,"), "{}", lines[1]);
    // the same numbers as the library call
    let frame = load_csv(&csv, &p.pipeline.csv_options()).unwrap();
    let f = forecast(
        &mut model,
        &p.pipeline,
        &frame,
        &ForecastOptions::new(5).exog(Exog::Known),
    )
    .unwrap();
    // written with the data's precision
    let temp = frame.require("temp").unwrap();
    let d = lstmkit::cli::forecast::data_decimals(&temp[..f.history_rows]);
    assert_eq!(text, f.to_csv_with(Some(d)));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));

    // a model file without a data pipeline is refused with a reason
    let bare = dir.join("bare.lstmkit");
    native::save(&model, &bare, &Extras::default()).unwrap();
    let o = Command::new(bin)
        .args(["forecast", "--model"])
        .arg(&bare)
        .args(["--data"])
        .arg(&csv)
        .args(["--steps", "2", "--exog", "hold"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no data pipeline"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_writes_a_native_file_that_forecast_reads() {
    let dir = crate::common::tmp_root().join(format!("lstmkit-train-fc-{}", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_lstmkit");
    let o = Command::new(bin)
        .args(["train", "--epochs", "1", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = dir.join("model.lstmkit");
    let (model, extras) = native::load(&m).unwrap();
    assert!(model.optimizer().unwrap().iterations > 0);
    assert!(extras.pipeline().unwrap().is_some() && extras.history.is_some());
    let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/co2_weekly.csv");
    let out = dir.join("f.csv");
    let o = Command::new(bin)
        .args(["forecast", "--model"])
        .arg(&m)
        .arg("--data")
        .arg(&csv)
        .args(["--steps", "4", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    // CO2 stays in a plausible range (ppm) right after the last observation
    for line in text.lines().skip(1) {
        let v: f64 = line.split(',').next_back().unwrap().parse().unwrap();
        assert!((300.0..500.0).contains(&v), "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A model exported to Keras' `.keras` forecasts, with the experiment's
/// `[data]` section as its pipeline (`--config`), exactly what the native
/// file forecasts; without `--config` the error says what to add; a config
/// whose windows do not fit the model is refused naming both shapes.
#[test]
fn export_to_keras_then_forecast_with_config_equals_native() {
    use crate::common::{bin, run, temp_dir};
    let dir = temp_dir("export-fc");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = root.join("examples/m1_co2.toml");
    let csv = root.join("data/co2_weekly.csv");
    assert!(run(bin()
        .args(["train", "--epochs", "2", "--quiet", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&dir))
    .status
    .success());
    let native_m = dir.join("model.lstmkit");
    let keras_m = dir.join("m.keras");
    let o = run(bin()
        .args(["export", "--model"])
        .arg(&native_m)
        .arg("--out")
        .arg(&keras_m));
    assert!(o.status.success());
    let back = native_m.with_extension("copy.lstmkit");
    assert!(run(bin()
        .args(["export", "--model"])
        .arg(&keras_m)
        .arg("--out")
        .arg(&back))
    .status
    .success());
    let fc = |model: &std::path::Path, config: Option<&std::path::Path>| {
        let mut c = bin();
        c.args(["forecast", "--steps", "6", "--model"])
            .arg(model)
            .arg("--data")
            .arg(&csv);
        if let Some(p) = config {
            c.arg("--config").arg(p);
        }
        c.output().unwrap()
    };
    let a = fc(&native_m, None);
    let b = fc(&keras_m, Some(&cfg));
    assert!(a.status.success() && b.status.success());
    assert_eq!(String::from_utf8_lossy(&a.stdout).lines().count(), 7);
    assert_eq!(
        a.stdout, b.stdout,
        "the .keras export forecasts differently"
    );
    let c = fc(&keras_m, None);
    assert_eq!(c.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&c.stderr).contains("add --config"));
    // windows of 12 do not fit a model of 10
    let wrong = dir.join("wrong.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("timesteps = 10", "timesteps = 12")
        .replace(
            "\"co2_weekly.csv\"",
            &format!("{:?}", csv.to_str().unwrap()),
        );
    std::fs::write(&wrong, text).unwrap();
    let d = fc(&keras_m, Some(&wrong));
    assert_eq!(d.status.code(), Some(1));
    let err = String::from_utf8_lossy(&d.stderr);
    assert!(err.contains("[10, 1]") && err.contains("[12, 1]"), "{err}");
    let e = run(bin()
        .args(["export", "--model"])
        .arg(&keras_m)
        .arg("--out")
        .arg(dir.join("m.onnx")));
    assert_eq!(e.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
