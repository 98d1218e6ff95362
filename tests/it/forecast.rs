//! Forecasting: recursive and direct multi-step in original units, equal to
//! repeating the one-step pipeline with each prediction appended as a data
//! row; exogenous inputs only by explicit choice.

use lstmkit::data::{prepare_frame, DataSpec, Frame, Pipeline};
use lstmkit::forecast::{forecast, Exog, ForecastOptions, Method};
use lstmkit::model::Sequential;
use lstmkit::nn::{Dense, LSTM};
use lstmkit::train::{FitOptions, Loss, Optimizer};
use lstmkit::Model;

fn frame(cols: &[(&str, Vec<f64>)]) -> Frame {
    Frame::from_columns(
        "inline",
        cols.iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    )
    .unwrap()
}

fn series(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 20.0 + 3.0 * ((i as f64 + phase) * 0.25).sin() + 0.02 * i as f64)
        .collect()
}

fn pipeline(
    f: &Frame,
    targets: &[&str],
    features: Option<&[&str]>,
    ts: usize,
    h: usize,
    d: usize,
) -> Pipeline {
    let mut spec = DataSpec::new("inline", targets);
    spec.features = features.map(|v| v.iter().map(|s| s.to_string()).collect());
    spec.timesteps = ts;
    spec.horizon = h;
    spec.difference = d;
    prepare_frame(&spec, f.clone()).unwrap().pipeline
}

fn model(ts: usize, nf: usize, out: usize, seed: u64) -> Model {
    Sequential::new(&[ts, nf])
        .add(LSTM::new(6))
        .add(Dense::new(out))
        .build(seed)
        .unwrap()
}

/// One step with the data pipeline's own forecasting windows.
fn one_step(m: &mut Model, p: &Pipeline, f: &Frame) -> Vec<f64> {
    let w = p.latest_windows(f, 1).unwrap();
    let y = m.predict(&w.x).unwrap();
    p.to_levels(f, &w.anchors, &y).unwrap()
}

fn appended(f: &Frame, row: &[(&str, f64)]) -> Frame {
    let mut g = f.clone();
    for (name, v) in row {
        let c = g.column_index(name).unwrap();
        g.data[c].push(*v);
    }
    g
}

#[test]
fn recursive_equals_the_one_step_pipeline_fed_back() {
    for d in [0, 1] {
        let f = frame(&[("y", series(80, 0.0))]);
        let p = pipeline(&f, &["y"], None, 6, 1, d);
        let mut m = model(6, 1, 1, 3);
        let fc = forecast(&mut m, &p, &f, &ForecastOptions::new(7)).unwrap();
        assert_eq!(fc.method, Method::Recursive);
        assert_eq!((fc.steps, fc.history_rows), (7, 80));
        let mut g = f.clone();
        for k in 0..7 {
            let v = one_step(&mut m, &p, &g)[0];
            assert!(
                (v - fc.values[k]).abs() <= 1e-9 * v.abs(),
                "d={d} step {k}: {v} vs {}",
                fc.values[k]
            );
            g = appended(&g, &[("y", v)]);
        }
    }
}

#[test]
fn direct_multi_step_and_blocks_beyond_the_horizon() {
    let f = frame(&[("y", series(90, 1.0))]);
    let p = pipeline(&f, &["y"], None, 8, 3, 1);
    let mut m = model(8, 1, 3, 4);
    let first = one_step(&mut m, &p, &f);
    let fc = forecast(&mut m, &p, &f, &ForecastOptions::new(2)).unwrap();
    assert_eq!(fc.method, Method::Direct);
    assert!((fc.values[0] - first[0]).abs() < 1e-9 && (fc.values[1] - first[1]).abs() < 1e-9);
    let fc = forecast(&mut m, &p, &f, &ForecastOptions::new(5)).unwrap();
    assert_eq!(fc.method, Method::DirectRecursive);
    for k in 0..3 {
        assert!((fc.values[k] - first[k]).abs() < 1e-9);
    }
    let g = (0..3).fold(f.clone(), |g, k| appended(&g, &[("y", first[k])]));
    let second = one_step(&mut m, &p, &g);
    for k in 0..2 {
        assert!((fc.values[3 + k] - second[k]).abs() < 1e-9 * second[k].abs());
    }
}

#[test]
fn exogenous_inputs_need_an_explicit_policy() {
    let n = 70;
    let temp = series(n, 2.0);
    let hum: Vec<f64> = (0..n)
        .map(|i| 50.0 + (i as f64 * 0.1).cos() * 10.0)
        .collect();
    let f = frame(&[("temp", temp.clone()), ("hum", hum.clone())]);
    let p = pipeline(&f, &["temp"], Some(&["temp", "hum"]), 5, 1, 0);
    let mut m = model(5, 2, 1, 5);
    let e = forecast(&mut m, &p, &f, &ForecastOptions::new(4))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("hum") && e.contains("known") && e.contains("hold"),
        "{e}"
    );

    // hold: all rows are history, hum stays at its last value
    let held = forecast(&mut m, &p, &f, &ForecastOptions::new(4).exog(Exog::Hold)).unwrap();
    assert_eq!(held.history_rows, n);
    let mut g = f.clone();
    for k in 0..4 {
        let v = one_step(&mut m, &p, &g)[0];
        assert!((v - held.values[k]).abs() < 1e-9 * v.abs());
        g = appended(&g, &[("temp", v), ("hum", hum[n - 1])]);
    }
    // known: the last 4 rows give hum's future; their temp cells are not used
    let known = forecast(&mut m, &p, &f, &ForecastOptions::new(4).exog(Exog::Known)).unwrap();
    assert_eq!(known.history_rows, n - 4);
    let mut scrambled = f.clone();
    let ti = scrambled.column_index("temp").unwrap();
    for r in n - 4..n {
        scrambled.data[ti][r] = -999.0;
    }
    let again = forecast(
        &mut m,
        &p,
        &scrambled,
        &ForecastOptions::new(4).exog(Exog::Known),
    )
    .unwrap();
    assert_eq!(again.values, known.values);
    let hi = f.column_index("hum").unwrap();
    let mut g = frame(&[
        ("temp", temp[..n - 4].to_vec()),
        ("hum", hum[..n - 4].to_vec()),
    ]);
    for k in 0..4 {
        let v = one_step(&mut m, &p, &g)[0];
        assert!((v - known.values[k]).abs() < 1e-9 * v.abs());
        g = appended(&g, &[("temp", v), ("hum", f.data[hi][n - 4 + k])]);
    }
    // different known futures give different forecasts
    let mut other = f.clone();
    for r in n - 4..n {
        other.data[hi][r] += 30.0;
    }
    let moved = forecast(
        &mut m,
        &p,
        &other,
        &ForecastOptions::new(4).exog(Exog::Known),
    )
    .unwrap();
    assert_ne!(moved.values[1..], known.values[1..]);
    // too little history
    assert!(forecast(
        &mut m,
        &p,
        &f,
        &ForecastOptions::new(n - 3).exog(Exog::Known)
    )
    .is_err());
    assert!(forecast(&mut m, &p, &f, &ForecastOptions::new(0)).is_err());
    // a model that does not fit the data spec
    let mut wrong = model(5, 1, 1, 1);
    assert!(forecast(
        &mut wrong,
        &p,
        &f,
        &ForecastOptions::new(2).exog(Exog::Hold)
    )
    .is_err());
}

#[test]
fn a_trained_model_forecasts_a_periodic_series() {
    // period 16 sine + level; train on windows, forecast 24 steps recursively
    let n = 400;
    let y: Vec<f64> = (0..n + 24)
        .map(|i| 5.0 + (i as f64 * std::f64::consts::TAU / 16.0).sin())
        .collect();
    let f = frame(&[("y", y[..n].to_vec())]);
    let mut spec = DataSpec::new("inline", &["y"]);
    spec.timesteps = 16;
    spec.test_split = 0.0;
    let prep = prepare_frame(&spec, f.clone()).unwrap();
    let mut m = Sequential::new(&[16, 1])
        .add(LSTM::new(16))
        .add(Dense::new(1))
        .build(2)
        .unwrap();
    m.compile(Optimizer::adam(1e-2), Loss::Mse);
    m.fit(
        &prep.train.x,
        &prep.train.y,
        &FitOptions::new().epochs(30).batch_size(32).verbose(0),
    )
    .unwrap();
    let fc = forecast(&mut m, &prep.pipeline, &f, &ForecastOptions::new(24)).unwrap();
    let rmse = (fc
        .values
        .iter()
        .zip(&y[n..])
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / 24.0)
        .sqrt();
    // a flat forecast at the mean would give 1/√2 ≈ 0.71
    println!("24-step recursive forecast RMSE on a unit sine: {rmse:.4}");
    assert!(rmse < 0.2, "{rmse}");
    let csv = fc.to_csv();
    assert!(csv.starts_with("step,y\n1,"), "{csv}");
    assert_eq!(csv.lines().count(), 25);
}
