//! Backtests on hand-made series: what each origin sees, and the settings.

use std::path::Path;

use super::run::{cut, prepare_training};
use super::*;
use crate::data::Frame;
use crate::experiment::Experiment;

const EXP: &str = r#"
layers = [{ type = "lstm", units = 3 }, { type = "dense", units = 3 }]
[data]
path = "inline"
target = "y"
features = ["y", "x"]
timesteps = 4
horizon = 3
validation_split = 0.2
test_split = 0.25
[fit]
epochs = 2
batch_size = 8
seed = 7
"#;

fn frame(n: usize) -> Frame {
    let y: Vec<f64> = (0..n)
        .map(|i| 10.0 + (i as f64 * 0.7).sin() + 0.05 * i as f64)
        .collect();
    let x: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
    Frame::from_columns("inline", vec![("y".into(), y), ("x".into(), x)]).unwrap()
}

fn series(f: Frame) -> Vec<SeriesData> {
    vec![SeriesData {
        id: String::new(),
        frame: f,
    }]
}

fn tmp(tag: &str) -> std::path::PathBuf {
    crate::test_tmp_root().join(format!("lstmkit-bt-{tag}-{}", std::process::id()))
}

#[test]
fn start_is_a_fraction_a_position_or_a_time() {
    let mut f = frame(11);
    let spec = |s: &str| BacktestSpec {
        start: Some(s.parse().unwrap()),
        ..Default::default()
    };
    // Darts: ⌊(n - 1) · fraction⌋
    assert_eq!(spec("0.5").start_row(&f, 0).unwrap(), 5);
    assert_eq!(spec("7").start_row(&f, 0).unwrap(), 7);
    assert_eq!(BacktestSpec::default().start_row(&f, 8).unwrap(), 8);
    assert!(
        spec("2020-01-03").start_row(&f, 0).is_err(),
        "no time column"
    );
    f.time = Some((1..=11).map(|d| format!("2020-01-{d:02}")).collect());
    assert_eq!(spec("2020-01-03").start_row(&f, 0).unwrap(), 2);
    assert!(spec("2021-01-01").start_row(&f, 0).is_err());
    assert!(spec("Jan").start_row(&f, 0).is_err());
    let bad = BacktestSpec {
        start: Some(Start::Fraction(1.5)),
        ..Default::default()
    };
    assert!(bad.validate().is_err());
    assert_eq!("always".parse::<Retrain>().unwrap(), Retrain::Always);
    assert_eq!("10".parse::<Retrain>().unwrap(), Retrain::Every(10));
    assert!("sometimes".parse::<Retrain>().is_err());
    assert_eq!("24".parse::<Window>().unwrap(), Window::Rows(24));
    assert!("0".parse::<Window>().is_err());
}

#[test]
fn the_table_parses_with_words_and_numbers() {
    let text = format!(
        "{EXP}[backtest]\nstart = 0.75\nretrain = 5\nwindow = 40\nlast_points_only = true\nworkers = 2\n"
    );
    let e = Experiment::from_toml_str(&text, "t.toml").unwrap();
    let b = e.backtest.unwrap();
    assert_eq!(
        (
            b.start,
            b.retrain,
            b.window,
            b.last_points_only,
            b.workers,
            b.stride
        ),
        (
            Some(Start::Fraction(0.75)),
            Retrain::Every(5),
            Window::Rows(40),
            true,
            2,
            1
        )
    );
    let e = Experiment::from_toml_str(
        &format!("{EXP}[backtest]\nretrain = \"always\"\n"),
        "t.toml",
    )
    .unwrap();
    assert_eq!(e.backtest.unwrap().retrain, Retrain::Always);
    for bad in [
        "retrain = \"often\"",
        "stride = 0",
        "unknown = 1",
        "window = \"sliding\"",
    ] {
        let r = Experiment::from_toml_str(&format!("{EXP}[backtest]\n{bad}\n"), "t.toml");
        assert!(r.is_err(), "{bad}");
    }
}

#[test]
fn rows_follow_the_folds_and_last_points_only_keeps_the_last_step() {
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("rows");
    let spec = BacktestSpec {
        start: Some(Start::Position(40)),
        stride: 4,
        retrain: Retrain::Every(2),
        ..Default::default()
    };
    let bt = run_backtest(&exp, &spec, &series(frame(60)), &out, true).unwrap();
    // origins 40, 44, ..., 56 (56 + 3 <= 60): 5 origins, trainings at 40, 48, 56
    assert_eq!((bt.origins, bt.retrains), (5, 3));
    assert_eq!(bt.rows.len(), 5 * 3);
    let o: Vec<(String, String, usize)> = bt
        .rows
        .iter()
        .map(|r| (r.origin.clone(), r.time.clone(), r.step))
        .collect();
    assert_eq!(o[0], ("40".into(), "40".into(), 1));
    assert_eq!(o[14], ("56".into(), "58".into(), 3));
    let f = frame(60);
    for r in &bt.rows {
        assert_eq!(r.actual, f.data[0][r.row]);
        assert!(r.baselines.iter().all(|b| b.is_some()), "{r:?}");
    }
    let last = BacktestSpec {
        last_points_only: true,
        ..spec
    };
    let bl = run_backtest(&exp, &last, &series(frame(60)), &out, true).unwrap();
    assert_eq!(bl.rows.len(), 5);
    assert!(bl.rows.iter().all(|r| r.step == 3));
    for (a, b) in bl.rows.iter().zip(bt.rows.iter().filter(|r| r.step == 3)) {
        assert_eq!(a, b);
    }
    let m = bt.metrics().unwrap();
    for name in crate::baselines::NAMES.iter().chain(&["model"]) {
        assert!(m["overall"][name]["mase"].as_f64().unwrap() > 0.0, "{name}");
    }
    assert_eq!(m["per_step"].as_array().unwrap().len(), 3);
    assert_eq!(bt.to_csv().lines().count(), 16);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn values_after_an_origin_change_nothing_it_forecasts() {
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("leak");
    let spec = BacktestSpec {
        start: Some(Start::Position(40)),
        stride: 3,
        retrain: Retrain::Always,
        workers: 2,
        ..Default::default()
    };
    let f = frame(60);
    let cut_at = 46;
    let mut g = f.clone();
    for c in &mut g.data {
        for v in &mut c[cut_at..] {
            *v = *v * 3.0 + 50.0;
        }
    }
    // the scaler fitted for origin 46 is the same
    let pa = prepare_training(&exp, cut(&f, 0..cut_at)).unwrap();
    let pb = prepare_training(&exp, cut(&g, 0..cut_at)).unwrap();
    assert_eq!(pa.pipeline, pb.pipeline);
    let a = run_backtest(&exp, &spec, &series(f), &out, true).unwrap();
    let b = run_backtest(&exp, &spec, &series(g), &out, true).unwrap();
    let mut later_differ = false;
    for (ra, rb) in a.rows.iter().zip(&b.rows) {
        let o: usize = ra.origin.parse().unwrap();
        if o <= cut_at {
            assert_eq!(
                (ra.model, ra.baselines),
                (rb.model, rb.baselines),
                "origin {o}"
            );
        } else {
            later_differ |= ra.model != rb.model;
        }
    }
    assert!(later_differ, "the later origins see the changed rows");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn settings_that_cannot_run_are_errors() {
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("err");
    let long = BacktestSpec {
        horizon: Some(4),
        ..Default::default()
    };
    let e = run_backtest(&exp, &long, &series(frame(60)), &out, true).unwrap_err();
    assert!(e.to_string().contains("data.horizon = 3"), "{e}");
    let late = BacktestSpec {
        start: Some(Start::Position(59)),
        ..Default::default()
    };
    assert!(run_backtest(&exp, &late, &series(frame(60)), &out, true).is_err());
    let narrow = BacktestSpec {
        window: Window::Rows(5),
        ..Default::default()
    };
    assert!(run_backtest(&exp, &narrow, &series(frame(60)), &out, true).is_err());
    // an early start moves forward and says so
    let early = BacktestSpec {
        start: Some(Start::Position(2)),
        stride: 5,
        ..Default::default()
    };
    let bt = run_backtest(&exp, &early, &series(frame(60)), Path::new(&out), true).unwrap();
    assert!(
        bt.series[0].notes[0].contains("start moved from row 2"),
        "{:?}",
        bt.series[0].notes
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn future_covariates_are_read_up_to_the_last_forecast_step_and_no_further() {
    // x is a future covariate: the forecast made at origin o (horizon 3) may
    // read x up to row o + 2 and no further; the training for o sees rows < o
    let text = EXP.replace(
        "features = [\"y\", \"x\"]",
        "features = [\"y\"]\nfuture_covariates = [\"x\"]",
    );
    let exp = Experiment::from_toml_str(&text, "t.toml").unwrap();
    let out = tmp("futr");
    let spec = BacktestSpec {
        start: Some(Start::Position(43)),
        stride: 3,
        retrain: Retrain::Always,
        workers: 2,
        ..Default::default()
    };
    let (o, h) = (46, 3);
    let f = frame(60);
    let run = |bump: Option<usize>| {
        let mut g = f.clone();
        if let Some(row) = bump {
            g.data[1][row] += 40.0;
        }
        run_backtest(&exp, &spec, &series(g), &out, true).unwrap()
    };
    let at_origin = |bt: &Backtest| -> Vec<f64> {
        let rows = bt.rows.iter().filter(|r| r.origin == o.to_string());
        rows.map(|r| r.model).collect()
    };
    let base = run(None);
    assert_eq!(at_origin(&base).len(), h);
    // x at the last forecast step's row is read ...
    assert_ne!(at_origin(&run(Some(o + h - 1))), at_origin(&base));
    // ... x one row later is not (a covariate shifted by one step fails here)
    let after = run(Some(o + h));
    assert_eq!(at_origin(&after), at_origin(&base));
    // and the earlier origin, whose horizon ends before row o + h - 1, neither
    let earlier = |bt: &Backtest| -> Vec<f64> {
        let rows = bt.rows.iter().filter(|r| r.origin == (o - 3).to_string());
        rows.map(|r| r.model).collect()
    };
    assert_eq!(earlier(&run(Some(o + h - 1))), earlier(&base));
    let _ = std::fs::remove_dir_all(&out);
}
