//! Backtests on hand-made panels of unequal lengths and starts: origins and
//! trainings aligned by time, leak-free per series and across series.

use std::path::PathBuf;

use super::run::{gather, plan_global, prepare_training, time_keys};
use super::*;
use crate::data::Frame;
use crate::experiment::{Experiment, FitData, FitPlan};
use crate::tensor::Tensor;

const EXP: &str = r#"
[data]
path = "inline"
id_column = "id"
time_column = "t"
target = "y"
features = ["y"]
timesteps = 4
horizon = 2
validation_split = 0.0
test_split = 0.25
[[layers]]
type = "lstm"
units = 3
[[layers]]
type = "dense"
units = 2
[fit]
epochs = 2
batch_size = 8
seed = 3
"#;

/// Series `id` of `n` daily rows from day `first` (2020-01-01 is day 0).
fn daily(id: &str, first: i64, n: usize, phase: f64) -> SeriesData {
    let y: Vec<f64> = (0..n)
        .map(|i| 5.0 + phase + (i as f64 * 0.6 + phase).sin() + 0.02 * i as f64)
        .collect();
    let day0 = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let mut f = Frame::from_columns("inline", vec![("y".into(), y)]).unwrap();
    f.time_column = Some("t".into());
    f.time = Some(
        (0..n)
            .map(|i| {
                (day0 + chrono::Duration::days(first + i as i64))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .collect(),
    );
    SeriesData {
        id: id.into(),
        frame: f.with_series("id", vec![(id.into(), 0..n)]).unwrap(),
    }
}

fn tmp(tag: &str) -> PathBuf {
    crate::test_tmp_root().join(format!("lstmkit-btp-{tag}-{}", std::process::id()))
}

fn spec(start: &str, stride: usize, retrain: Retrain) -> BacktestSpec {
    BacktestSpec {
        start: Some(start.parse().unwrap()),
        stride,
        retrain,
        ..Default::default()
    }
}

/// The day number of a `2020-..` label.
fn day(label: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(label, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()).num_days()
}

#[test]
fn panel_origins_and_trainings_are_aligned_by_time() {
    // a: days 0..40; b: days 10..34 (starts later, ends earlier)
    let panel = vec![daily("a", 0, 40, 0.0), daily("b", 10, 24, 1.0)];
    let sp = spec("0.75", 2, Retrain::Every(2));
    // each series its own origins: a ⌊0.75·39⌋ = 29 → rows 29..=37 by 2 (days 29..37);
    // b ⌊0.75·23⌋ = 17 → rows 17, 19, 21 (21 + 2 <= 24; days 27, 29, 31)
    let plans: Vec<FoldPlan> = panel
        .iter()
        .map(|s| {
            let n = s.frame.n_rows();
            let st = sp.start_row(&s.frame, 0).unwrap();
            plan_folds(n, st, 2, 2, sp.retrain, sp.window, 6).unwrap()
        })
        .collect();
    assert_eq!(plans[0].origins, vec![29, 31, 33, 35, 37]);
    assert_eq!(plans[1].origins, vec![17, 19, 21]);
    let keys = time_keys(&panel);
    assert_eq!(
        keys[1][0] - keys[0][0],
        keys[0][10] - keys[0][0],
        "times, not rows"
    );
    let gp = plan_global(plans, &sp, &keys, 6);
    // timeline: days 27, 29, 31, 33, 35, 37; a training every 2: days 27, 31, 35
    assert_eq!(
        gp.parts,
        vec![vec![0..27, 0..17], vec![0..31, 0..21], vec![0..35, 0..24]]
    );
    // day 27 (b), 29 (a, b) → training 0; 31 (a, b), 33 → 1; 35, 37 → 2
    assert_eq!(gp.per_series[0].training_of, vec![0, 1, 1, 2, 2]);
    assert_eq!(gp.per_series[1].training_of, vec![0, 0, 1]);
    // with a sliding window of 10 rows
    let w = BacktestSpec {
        window: Window::Rows(10),
        ..sp.clone()
    };
    let plans: Vec<FoldPlan> = panel
        .iter()
        .map(|s| {
            let st = w.start_row(&s.frame, 0).unwrap();
            plan_folds(s.frame.n_rows(), st, 2, 2, w.retrain, w.window, 6).unwrap()
        })
        .collect();
    let gp = plan_global(plans, &w, &keys, 6);
    assert_eq!(gp.parts[1], vec![21..31, 11..21]);

    // the whole run: every forecast comes from a training that ends before its origin's time
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("align");
    let bt = run_backtest(&exp, &sp, &panel, &out, true).unwrap();
    assert_eq!((bt.origins, bt.retrains), (8, 3));
    let mut seen: Vec<(String, i64)> = bt
        .rows
        .iter()
        .filter(|r| r.step == 1)
        .map(|r| (r.series.clone(), day(&r.origin)))
        .collect();
    seen.sort();
    let want: Vec<(String, i64)> = [29, 31, 33, 35, 37]
        .iter()
        .map(|&d| ("a".to_string(), d))
        .chain([27, 29, 31].iter().map(|&d| ("b".to_string(), d)))
        .collect();
    assert_eq!(seen, want);
    for r in &bt.rows {
        let s = &panel[usize::from(r.series == "b")];
        assert_eq!(r.actual, s.frame.data[0][r.row]);
        assert_eq!(s.frame.time.as_ref().unwrap()[r.row], r.time);
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn values_after_an_origin_in_one_series_change_nothing_it_forecasts() {
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("leak");
    let sp = spec("2020-01-28", 2, Retrain::Always);
    let a = vec![daily("a", 0, 40, 0.0), daily("b", 10, 30, 1.0)];
    // series a changes from day 32 on
    let mut b = a.clone();
    for v in &mut b[0].frame.data[0][32..] {
        *v = *v * 4.0 + 30.0;
    }
    // the scalers of the training at day 32: fitted on rows before it, the same
    let parts = [0..32, 0..22];
    let pa = prepare_training(&exp, gather(&exp, &a, &parts).unwrap()).unwrap();
    let pb = prepare_training(&exp, gather(&exp, &b, &parts).unwrap()).unwrap();
    assert_eq!(pa.pipeline, pb.pipeline);
    let ra = run_backtest(&exp, &sp, &a, &out, true).unwrap();
    let rb = run_backtest(&exp, &sp, &b, &out, true).unwrap();
    assert_eq!(ra.rows.len(), rb.rows.len());
    let mut later_differ = [false; 2];
    for (x, y) in ra.rows.iter().zip(&rb.rows) {
        assert_eq!(
            (&x.series, &x.origin, x.step),
            (&y.series, &y.origin, y.step)
        );
        if day(&x.origin) <= 32 {
            // both series: the training before day 32 never saw a's changed rows
            assert_eq!((x.model, x.baselines), (y.model, y.baselines), "{x:?}");
        } else {
            later_differ[usize::from(x.series == "b")] |= x.model != y.model;
        }
    }
    // the global model of later origins saw the change: b's forecasts move too
    assert_eq!(later_differ, [true, true]);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_too_short_series_is_skipped_with_a_note_naming_it() {
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("short");
    let panel = vec![
        daily("a", 0, 40, 0.0),
        daily("tiny", 30, 5, 0.5),
        daily("b", 5, 35, 1.0),
    ];
    let bt = run_backtest(&exp, &spec("0.75", 3, Retrain::Never), &panel, &out, true).unwrap();
    assert_eq!(bt.notes.len(), 1, "{:?}", bt.notes);
    assert!(bt.notes[0].contains("'tiny' (5 rows"), "{:?}", bt.notes);
    let labels: Vec<&str> = bt.series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["a", "b"]);
    assert!(bt.rows.iter().all(|r| r.series != "tiny"));
    // a series that starts after the one training's time: its origins have no scaler
    let late = vec![daily("a", 0, 40, 0.0), daily("late", 25, 15, 0.5)];
    let sp = spec("2020-01-28", 1, Retrain::Never);
    let bt = run_backtest(&exp, &sp, &late, &out, true).unwrap();
    assert!(
        bt.notes.iter().any(|n| n.contains("'late' skipped")),
        "{:?}",
        bt.notes
    );
    // only too-short series: an error naming them
    let sp = spec("0.75", 1, Retrain::Never);
    let e = run_backtest(&exp, &sp, &panel[1..2], &out, true).unwrap_err();
    assert!(e.to_string().contains("'tiny'"), "{e}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn retrain_always_on_a_panel_is_one_training_per_origin_time_on_the_cut_rows() {
    let exp = Experiment::from_toml_str(EXP, "t.toml").unwrap();
    let out = tmp("always");
    let panel = vec![daily("a", 0, 36, 0.0), daily("b", 6, 30, 1.0)];
    let sp = spec("2020-01-31", 2, Retrain::Always);
    let bt = run_backtest(&exp, &sp, &panel, &out, true).unwrap();
    // origins at days 30, 32, 34 in both series: 3 trainings
    assert_eq!((bt.origins, bt.retrains), (6, 3));
    for cut_day in [30usize, 34] {
        // a separate panel of the rows before that day, built by hand
        let rows = [cut_day, cut_day - 6];
        let mut y = Vec::new();
        let mut t = Vec::new();
        let mut ranges = Vec::new();
        for (s, &n) in panel.iter().zip(&rows) {
            ranges.push((s.id.clone(), y.len()..y.len() + n));
            y.extend_from_slice(&s.frame.data[0][..n]);
            t.extend_from_slice(&s.frame.time.as_ref().unwrap()[..n]);
        }
        let mut f = Frame::from_columns("inline", vec![("y".into(), y)]).unwrap();
        f.time_column = Some("t".into());
        f.time = Some(t);
        let p = prepare_training(&exp, f.with_series("id", ranges).unwrap()).unwrap();
        let mut model = exp.build_model(&p.pipeline).unwrap();
        let mut quiet = exp.clone();
        quiet.fit.verbose = 0;
        FitPlan::new(&quiet)
            .unwrap()
            .fit(&mut model, FitData::from(&p), &out, None, &mut [])
            .unwrap();
        for (s, &n) in panel.iter().zip(&rows) {
            let view = p
                .pipeline
                .series_view(&s.frame, &s.id, 0..s.frame.n_rows())
                .unwrap();
            let mut x = Vec::new();
            p.pipeline.push_window(&view, n - 1, &mut x);
            let [ts, nf] = p.pipeline.input_shape();
            let pred = model
                .predict(&Tensor::new(&[1, ts, nf], x).unwrap())
                .unwrap();
            let levels = p.pipeline.to_levels(&s.frame, &[n - 1], &pred).unwrap();
            let ours: Vec<f64> = bt
                .rows
                .iter()
                .filter(|r| {
                    r.series == s.id
                        && r.row >= n
                        && r.row < n + 2
                        && r.origin == s.frame.time.as_ref().unwrap()[n]
                })
                .map(|r| r.model)
                .collect();
            assert_eq!(ours, levels, "{} at day {cut_day}: bit-identical", s.id);
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}
