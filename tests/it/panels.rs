//! Panels and covariates end to end: a global model forecasts each series
//! with its covariates; the examples train, evaluate and forecast through the
//! command line on the shared data (skipped, with the reason printed, when
//! `../shared` is absent).

use std::path::PathBuf;

use lstmkit::data::{prepare_frame, DataSpec, Frame};
use lstmkit::forecast::{forecast_panel, ForecastOptions, Method};
use lstmkit::model::Sequential;
use lstmkit::nn::{Dense, LSTM};

use crate::common::{bin, run, temp_dir};

/// `../shared/data/NAME`, or `None` with the reason printed.
fn shared_data(name: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = root.join("../shared/data").join(name);
    if p.is_file() {
        return Some(p);
    }
    eprintln!(
        "skipped: {} is absent (the examples read ../shared/data beside the repository)",
        p.display()
    );
    None
}

/// Two series with a future covariate `x`; `y` follows `x` one row later.
fn two_series(n: usize) -> Frame {
    let mut y = Vec::new();
    let mut x = Vec::new();
    for k in 0..2 {
        for r in 0..n {
            let c = ((r * 5 + k) % 7) as f64;
            x.push(c);
            y.push(10.0 * (k + 1) as f64 + c);
        }
    }
    Frame::from_columns("inline", vec![("y".into(), y), ("x".into(), x)])
        .unwrap()
        .with_series("id", vec![("p".into(), 0..n), ("q".into(), n..2 * n)])
        .unwrap()
}

#[test]
fn forecasts_read_future_covariates_after_the_history_and_name_the_missing() {
    let n = 40;
    let f = two_series(n);
    let mut spec = DataSpec::new("inline", &["y"]);
    spec.id_column = Some("id".into());
    spec.future_covariates = vec!["x".into()];
    spec.timesteps = 4;
    let p = prepare_frame(&spec, f.clone()).unwrap();
    let mut m = Sequential::new(&[4, p.pipeline.n_features()])
        .add(LSTM::new(5))
        .add(Dense::new(1))
        .build(3)
        .unwrap();
    // the last 3 rows of each series are the forecast period: targets empty, x known
    let mut g = f.clone();
    let yc = g.column_index("y").unwrap();
    for s in [n - 3..n, 2 * n - 3..2 * n] {
        for r in s {
            g.data[yc][r] = f64::NAN;
        }
    }
    let fc = forecast_panel(&mut m, &p.pipeline, &g, &ForecastOptions::new(3), None).unwrap();
    assert_eq!(fc.len(), 2);
    assert_eq!(fc[0].series.as_deref(), Some("p"));
    assert_eq!(
        (fc[0].history_rows, fc[0].method),
        (n - 3, Method::Recursive)
    );
    // the first step equals the model on the pipeline's window of the history
    // with the next row's covariate, which the data hold in row n - 3
    let hist = lstmkit::data::Panel::new(&f).get("p").unwrap().to_frame();
    let mut cut = hist.clone();
    for c in &mut cut.data {
        c.truncate(n - 2);
    }
    let cut = cut.with_series("id", vec![("p".into(), 0..n - 2)]).unwrap();
    let w = p.pipeline.windows(&cut, 0..n - 2, 1).unwrap();
    let y = m.predict(&w.x).unwrap();
    let first = p
        .pipeline
        .to_levels(
            &cut,
            &w.anchors[w.len() - 1..],
            &lstmkit::Tensor::new(&[1, 1], vec![y.data[w.len() - 1]]).unwrap(),
        )
        .unwrap()[0];
    assert!(
        (first - fc[0].values[0]).abs() < 1e-9 * first.abs(),
        "{first} vs {}",
        fc[0].values[0]
    );
    // another future covariate changes the forecast
    let mut h = g.clone();
    let xc = h.column_index("x").unwrap();
    h.data[xc][n - 2] += 3.0;
    let moved =
        forecast_panel(&mut m, &p.pipeline, &h, &ForecastOptions::new(3), Some("p")).unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].values[0], fc[0].values[0]);
    assert_ne!(moved[0].values[1], fc[0].values[1]);
    // a missing covariate is named with its steps
    h.data[xc][n - 1] = f64::NAN;
    let e = forecast_panel(&mut m, &p.pipeline, &h, &ForecastOptions::new(3), Some("p"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("x (step 3)") && e.contains("series 'p'"), "{e}");
    let e = forecast_panel(&mut m, &p.pipeline, &g, &ForecastOptions::new(5), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("x (steps 4..5)"), "{e}");
    let e = forecast_panel(
        &mut m,
        &p.pipeline,
        &g,
        &ForecastOptions::new(2),
        Some("nope"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no series 'nope'") && e.contains("p, q"), "{e}");
}

/// Trains an example for a few epochs through the command line, then
/// evaluates and forecasts it; returns the train output.
fn train_example(name: &str, tag: &str) -> (PathBuf, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir(tag);
    let o = run(bin()
        .args(["train", "--epochs", "3", "--quiet", "--config"])
        .arg(root.join("examples").join(name))
        .arg("--out")
        .arg(&dir));
    assert!(o.status.success(), "{name}");
    (dir, String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn visnights_global_example_trains_evaluates_and_forecasts_every_region() {
    let Some(csv) = shared_data("visnights_long.csv") else {
        return;
    };
    let (dir, out) = train_example("visnights_global.toml", "visnights");
    assert!(out.contains("in 20 series"), "{out}");
    assert!(
        out.contains("NSWMetro") && out.contains("seasonal"),
        "{out}"
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["per_series"].as_array().unwrap().len(), 20);
    assert!(metrics["baselines"]["seasonal_naive"]["mase"]
        .as_f64()
        .is_some());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ev = run(bin()
        .args(["evaluate", "--model"])
        .arg(dir.join("model.lstmkit"))
        .arg("--config")
        .arg(root.join("examples/visnights_global.toml")));
    assert!(ev.status.success());
    assert!(String::from_utf8_lossy(&ev.stdout).contains("QLDMetro"));
    let fc = run(bin()
        .args(["forecast", "--steps", "4", "--model"])
        .arg(&dir)
        .arg("--data")
        .arg(&csv));
    assert!(fc.status.success());
    let text = String::from_utf8_lossy(&fc.stdout);
    assert_eq!(text.lines().count(), 1 + 20 * 4, "{text}");
    assert!(text.starts_with("series,step,time,trips\n"), "{text}");
    assert!(text.contains("NSWMetro,1,2017Q1,"), "{text}");
    let one = run(bin()
        .args([
            "forecast", "--steps", "2", "--series", "VICMetro", "--model",
        ])
        .arg(&dir)
        .arg("--data")
        .arg(&csv));
    let text = String::from_utf8_lossy(&one.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("VICMetro,2,2017Q2,"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn elecdaily_covariates_example_trains_and_forecasts_with_known_covariates() {
    let Some(csv) = shared_data("elecdaily.csv") else {
        return;
    };
    let (dir, out) = train_example("elecdaily_covariates.toml", "elecdaily");
    assert!(out.contains("seasonal naive"), "{out}");
    // a forecast file: the history, then 3 days with WorkDay and Temperature only
    let text = std::fs::read_to_string(&csv).unwrap();
    let future = "2015-01-01,,0,28.0\n2015-01-02,,1,30.5\n2015-01-03,,0,24.1\n";
    let with_future = dir.join("future.csv");
    std::fs::write(&with_future, format!("{text}{future}")).unwrap();
    let fc = run(bin()
        .args(["forecast", "--steps", "3", "--model"])
        .arg(&dir)
        .arg("--data")
        .arg(&with_future));
    assert!(fc.status.success());
    let got = String::from_utf8_lossy(&fc.stdout);
    assert!(got.contains("3,2015-01-03,"), "{got}");
    // without the future rows, the error names the missing covariates
    let fc = bin()
        .args(["forecast", "--steps", "3", "--model"])
        .arg(&dir)
        .arg("--data")
        .arg(&csv)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&fc.stderr);
    assert!(!fc.status.success(), "{err}");
    assert!(
        err.contains("WorkDay") && err.contains("Temperature"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
