//! Panel tests: windows never cross series, per-series scalers fitted on
//! each series' training rows only, too-short series skipped with a note,
//! future covariates aligned with the steps predicted, static covariates and
//! the id one-hot, and a single series as a panel of one.

use super::*;
use crate::eval::evaluate;

/// A frame of series `(id, values of y, values of x)` stacked, cut into series.
fn panel(series: &[(&str, Vec<f64>, Vec<f64>)]) -> Frame {
    let mut y = Vec::new();
    let mut x = Vec::new();
    let mut ranges = Vec::new();
    for (id, ys, xs) in series {
        let start = y.len();
        y.extend_from_slice(ys);
        x.extend_from_slice(xs);
        ranges.push((id.to_string(), start..y.len()));
    }
    Frame::from_columns("inline", vec![("y".into(), y), ("x".into(), x)])
        .unwrap()
        .with_series("id", ranges)
        .unwrap()
}

fn spec(ts: usize, h: usize) -> DataSpec {
    let mut s = DataSpec::new("inline", &["y"]);
    s.id_column = Some("id".into());
    s.timesteps = ts;
    s.horizon = h;
    s
}

/// Series `k`'s value at its row `r`: `1000 k + r` (the series is readable from the value).
fn tagged(k: usize, n: usize) -> Vec<f64> {
    (0..n).map(|r| (1000 * k + r) as f64).collect()
}

#[test]
fn windows_never_cross_series_and_every_series_contributes() {
    let f = panel(&[
        ("a", tagged(1, 30), tagged(1, 30)),
        ("b", tagged(2, 41), tagged(2, 41)),
        ("c", tagged(3, 35), tagged(3, 35)),
    ]);
    let mut s = spec(4, 2);
    s.scaler = ScalerName::None;
    s.validation_split = 0.25;
    let p = prepare_frame(&s, f).unwrap();
    assert_eq!(p.series.len(), 3);
    let (ts, w) = (4, 2);
    for (set, name) in [(&p.train, "train"), (&p.val, "val"), (&p.test, "test")] {
        assert!(!set.is_empty(), "{name}");
        for i in 0..set.len() {
            let xs = &set.x.data[i * ts..(i + 1) * ts];
            let ys = &set.y.data[i * w..(i + 1) * w];
            let k = (xs[0] / 1000.0).floor();
            assert!(
                xs.iter().chain(ys).all(|v| (v / 1000.0).floor() == k),
                "{name} window {i} crosses series: {xs:?} -> {ys:?}"
            );
            // consecutive rows of one series
            assert_eq!(ys[0], xs[ts - 1] + 1.0, "{name} window {i}");
        }
    }
    // per series: floor(0.8 n) training rows, windows on each part alone
    for (part, n) in p.series.iter().zip([30usize, 41, 35]) {
        let n_train = (0.8 * n as f64).floor() as usize;
        assert_eq!(part.n_train, n_train);
        let nw = n_train - 5 - 1 + 1;
        assert_eq!(part.train.len() + part.val.len(), nw, "{}", part.id);
        assert_eq!(part.val.len(), nw - (nw as f64 * 0.75).floor() as usize);
        assert_eq!(part.test.len(), n - n_train - 6 + 1, "{}", part.id);
        // validation windows are the series' last training windows
        let last_train = p.train.anchors[part.train.end - 1];
        assert!(p.val.anchors[part.val.clone()]
            .iter()
            .all(|&a| a > last_train));
    }
    assert_eq!(p.n_train_rows, 24 + 32 + 28);
}

#[test]
fn per_series_scalers_see_only_their_training_rows_and_round_trip() {
    let a: Vec<f64> = (0..40).map(|r| 10.0 + (r as f64 * 0.7).sin()).collect();
    let b: Vec<f64> = (0..50)
        .map(|r| 500.0 + 40.0 * (r as f64 * 0.3).cos())
        .collect();
    let f = panel(&[("a", a.clone(), a.clone()), ("b", b.clone(), b.clone())]);
    let s = spec(5, 1);
    assert!(s.per_series_scaling());
    let p = prepare_frame(&s, f.clone()).unwrap();
    for (id, v, n_train) in [("a", &a, 32), ("b", &b, 40)] {
        let sc = &p.pipeline.series_scalers[id];
        let train = &v[..n_train];
        let lo = train.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = train.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let c = sc.column_index("y").unwrap();
        assert!(sc.transform(c, lo).abs() < 1e-12, "{id}");
        assert!((sc.transform(c, hi) - 1.0).abs() < 1e-12, "{id}");
    }
    // the test rows do not move any scaler (leak-free)
    let mut g = f.clone();
    let y = g.column_index("y").unwrap();
    g.data[y][35] = 1e6; // series a, test part
    g.data[y][89] = -1e6; // series b, test part
    let q = prepare_frame(&s, g).unwrap();
    assert_eq!(q.pipeline.series_scalers, p.pipeline.series_scalers);
    // scaled truths map back to each series' levels
    let back = p.to_original_units(&p.test.y).unwrap();
    for (u, v) in back.iter().zip(&p.test_truth) {
        assert!((u - v).abs() < 1e-3 * v.abs().max(1.0), "{u} vs {v}");
    }
    // one shared scaler when asked
    let mut shared = s.clone();
    shared.scale_per_series = Some(false);
    let r = prepare_frame(&shared, f).unwrap();
    assert!(r.pipeline.series_scalers.is_empty());
    assert_ne!(r.train.x, p.train.x);
    // a perfect model scores MASE 0 in every series, next to its own naive
    let ev = evaluate(&p, &p.test.y).unwrap();
    assert_eq!(ev.per_series.len(), 2);
    for se in &ev.per_series {
        assert!(se.test.overall.mase.unwrap() < 1e-2, "{}", se.id);
        assert!(se.baselines.naive.overall.mase.unwrap() > 0.1, "{}", se.id);
    }
    // the pooled MASE is the mean of the series' MASEs
    let mean = ev
        .per_series
        .iter()
        .map(|s| s.baselines.naive.overall.mase.unwrap())
        .sum::<f64>()
        / 2.0;
    assert!((ev.baselines.naive.overall.mase.unwrap() - mean).abs() < 1e-12);
    assert!(ev.series_table().contains("a "));
}

#[test]
fn too_short_series_are_skipped_with_a_note_naming_them() {
    let f = panel(&[
        ("long1", tagged(1, 30), tagged(1, 30)),
        ("tiny", tagged(2, 5), tagged(2, 5)),
        ("long2", tagged(3, 30), tagged(3, 30)),
        ("short", tagged(4, 12), tagged(4, 12)),
    ]);
    let p = prepare_frame(&spec(4, 1), f.clone()).unwrap();
    let ids: Vec<&str> = p.series.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["long1", "long2"]);
    assert_eq!(p.skipped, ["tiny", "short"]);
    let note = p.frame.notes.last().unwrap();
    assert!(note.contains("2 of 4 series skipped"), "{note}");
    assert!(
        note.contains("'tiny' (5 rows)") && note.contains("'short' (12 rows)"),
        "{note}"
    );
    assert!(
        p.describe().contains("2 series (2 skipped)"),
        "{}",
        p.describe()
    );
    // no series left: an error that says so
    let e = prepare_frame(&spec(40, 1), f).unwrap_err().to_string();
    assert!(
        e.contains("no series is left") && e.contains("4 of 4"),
        "{e}"
    );
    // one series without an id column still fails as before
    let one = Frame::from_columns("inline", vec![("y".into(), tagged(1, 8))]).unwrap();
    let e = prepare_frame(&DataSpec::new("inline", &["y"]), one)
        .unwrap_err()
        .to_string();
    assert!(e.contains("training part too short"), "{e}");
}

#[test]
fn future_covariates_of_the_predicted_steps_sit_on_the_last_input_row() {
    // y[r] = 3 x[r]: the future covariate at the predicted steps reveals the target
    let xs: Vec<f64> = (0..60).map(|r| ((r * 7) % 11) as f64).collect();
    let ys: Vec<f64> = xs.iter().map(|v| 3.0 * v).collect();
    let build = |x: Vec<f64>| {
        let f = panel(&[("a", ys.clone(), x.clone()), ("b", ys.clone(), x)]);
        let mut s = spec(3, 2);
        s.scaler = ScalerName::None;
        s.future_covariates = vec!["x".into()];
        prepare_frame(&s, f).unwrap()
    };
    let p = build(xs.clone());
    let names = p.pipeline.input_names();
    assert_eq!(names, ["y", "x", "x@+1", "x@+2"]);
    let nf = p.pipeline.n_features();
    let aligned = |p: &Prepared| {
        (0..p.train.len()).all(|i| {
            let last = &p.train.x.data[(i * 3 + 2) * nf..(i * 3 + 3) * nf];
            let y = &p.train.y.data[i * 2..i * 2 + 2];
            // the row itself, and each predicted step's covariate
            last[0] == 3.0 * last[1] && y[0] == 3.0 * last[2] && y[1] == 3.0 * last[3]
        })
    };
    assert!(aligned(&p));
    // a covariate shifted by one step no longer lines up
    let mut shifted = xs.clone();
    shifted.rotate_right(1);
    assert!(!aligned(&build(shifted)));
    // future covariates are scaler columns but never differenced
    let f = panel(&[("a", ys.clone(), xs.clone())]);
    let mut s = spec(3, 1);
    s.future_covariates = vec!["x".into()];
    s.difference = 1;
    let p = prepare_frame(&s, f).unwrap();
    assert!(p.pipeline.is_differenced(0) && !p.pipeline.is_differenced(1));
    // a column is known ahead or not
    let mut bad = spec(3, 1);
    bad.features = Some(vec!["y".into(), "x".into()]);
    bad.future_covariates = vec!["x".into()];
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("known ahead or not"));
}

#[test]
fn static_covariates_and_the_id_one_hot_are_constant_channels() {
    let n = 30;
    let mut f = panel(&[
        ("a", tagged(1, n), vec![2.0; n]),
        ("b", tagged(2, n), vec![4.0; n]),
        ("c", tagged(3, n), vec![8.0; n]),
    ]);
    let mut s = spec(4, 1);
    s.static_covariates = vec!["x".into()];
    s.id_onehot = true;
    let p = prepare_frame(&s, f.clone()).unwrap();
    assert_eq!(p.pipeline.input_names(), ["y", "x", "id=a", "id=b", "id=c"]);
    let nf = 5;
    for part in &p.series {
        let k = ["a", "b", "c"].iter().position(|i| *i == part.id).unwrap();
        let want_static = [0.0, 1.0 / 3.0, 1.0][k];
        for i in part.train.clone() {
            for r in 0..4 {
                let row = &p.train.x.data[(i * 4 + r) * nf..(i * 4 + r + 1) * nf];
                assert!((row[1] - want_static).abs() < 1e-6, "{row:?}");
                for j in 0..3 {
                    assert_eq!(row[2 + j], if j == k { 1.0 } else { 0.0 });
                }
            }
        }
    }
    // a static covariate that changes within a series is an error naming it
    let x = f.column_index("x").unwrap();
    f.data[x][35] = 5.0;
    let e = prepare_frame(&s, f).unwrap_err().to_string();
    assert!(e.contains("'x'") && e.contains("series 'b'"), "{e}");
    // static covariates and the one-hot need an id column
    let mut no_id = DataSpec::new("inline", &["y"]);
    no_id.static_covariates = vec!["x".into()];
    assert!(no_id.validate().is_err());
}

#[test]
fn a_single_series_is_a_panel_of_one() {
    let y: Vec<f64> = (0..80)
        .map(|r| 5.0 + (r as f64 * 0.4).sin() + 0.01 * r as f64)
        .collect();
    let one = Frame::from_columns("inline", vec![("y".into(), y.clone())]).unwrap();
    let mut plain = DataSpec::new("inline", &["y"]);
    plain.timesteps = 6;
    plain.validation_split = 0.2;
    let p = prepare_frame(&plain, one).unwrap();
    let f = panel(&[("only", y.clone(), y)]);
    let mut s = plain.clone();
    s.id_column = Some("id".into());
    let q = prepare_frame(&s, f).unwrap();
    assert_eq!(
        (p.train.x.clone(), p.val.y.clone()),
        (q.train.x.clone(), q.val.y.clone())
    );
    assert_eq!(
        (p.test.x.clone(), p.test_truth.clone()),
        (q.test.x.clone(), q.test_truth.clone())
    );
    assert_eq!(q.pipeline.series_scalers["only"], p.pipeline.scaler);
    assert_eq!(p.series.len(), 1);
    // a pipeline without panel fields writes none of them (old files load, new files stay alike)
    let js = serde_json::to_value(&p.pipeline).unwrap();
    for key in [
        "id_column",
        "future_covariates",
        "calendar",
        "series_scalers",
        "onehot_ids",
    ] {
        assert!(js.get(key).is_none(), "{key}");
    }
    let back: Pipeline = serde_json::from_value(js).unwrap();
    assert_eq!(back, p.pipeline);
}
