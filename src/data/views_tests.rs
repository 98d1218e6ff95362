//! The window-view path ([`prepare_frame_views`]) gives the same windows, and
//! so the same batches and the same fitted bits, as the materialised path.

use super::*;
use crate::model::Sequential;
use crate::nn::{Dense, LSTM};
use crate::train::{BatchSource, FitOptions, Loss, Optimizer, TensorPair};

fn frame(panel: bool) -> Frame {
    let (mut y, mut x, mut s) = (Vec::new(), Vec::new(), Vec::new());
    let mut ranges = Vec::new();
    for (k, n) in [37usize, 52, 9, 44].into_iter().enumerate() {
        let start = y.len();
        for r in 0..n {
            let t = r as f64;
            y.push(10.0 * k as f64 + (t * 0.4 + k as f64).sin() + 0.01 * t * t);
            x.push(((r * 7 + k) % 11) as f64);
            s.push(k as f64 * 2.0);
        }
        ranges.push((format!("s{k}"), start..y.len()));
    }
    let f = Frame::from_columns(
        "inline",
        vec![("y".into(), y), ("x".into(), x), ("st".into(), s)],
    )
    .unwrap();
    if panel {
        f.with_series("id", ranges).unwrap()
    } else {
        f
    }
}

fn specs() -> Vec<(DataSpec, bool)> {
    let mut one = DataSpec::new("inline", &["y"]);
    one.features = Some(vec!["y".into(), "x".into()]);
    one.timesteps = 5;
    one.validation_split = 0.2;
    let mut diff = one.clone();
    diff.difference = 1;
    diff.horizon = 3;
    diff.stride = 2;
    let mut panel = DataSpec::new("inline", &["y"]);
    panel.id_column = Some("id".into());
    panel.timesteps = 4;
    panel.horizon = 2;
    panel.validation_split = 0.25;
    panel.future_covariates = vec!["x".into()];
    panel.static_covariates = vec!["st".into()];
    panel.id_onehot = true;
    let mut pdiff = panel.clone();
    pdiff.difference = 1;
    pdiff.stride = 3;
    pdiff.validation_split = 0.0;
    vec![(one, false), (diff, false), (panel, true), (pdiff, true)]
}

#[test]
fn views_hold_the_materialised_windows_in_the_same_order() {
    for (spec, panel) in specs() {
        let p = prepare_frame(&spec, frame(panel)).unwrap();
        let (q, v) = prepare_frame_views(&spec, frame(panel)).unwrap();
        assert!(q.train.is_empty() && q.val.is_empty());
        assert_eq!(q.test, p.test);
        assert_eq!(q.test_truth, p.test_truth);
        assert_eq!(q.skipped, p.skipped);
        assert_eq!(q.series, p.series, "{spec:?}");
        assert_eq!(v.n_features, p.pipeline.n_features());
        for (set, w) in [(v.train_set(), &p.train), (v.val_set(), &p.val)] {
            assert_eq!(set.len(), w.len());
            if w.is_empty() {
                continue;
            }
            // every window, in order, and a shuffled batch, bit for bit
            let all: Vec<usize> = (0..w.len()).collect();
            let mut shuffled = all.clone();
            crate::rng::Rng::new(4).shuffle(&mut shuffled);
            for idx in [all, shuffled[..shuffled.len().min(7)].to_vec()] {
                let (mut xa, mut ya) = (Tensor::default(), Tensor::default());
                let (mut xb, mut yb) = (Tensor::default(), Tensor::default());
                set.gather(&idx, &mut xa, &mut ya);
                TensorPair::new(&w.x, &w.y).gather(&idx, &mut xb, &mut yb);
                assert_eq!((xa, ya), (xb, yb), "{spec:?}");
            }
        }
        // the store holds each training row once, not once per window step
        assert!(v.bytes() < 4 * (p.train.x.data.len() + p.val.x.data.len()));
    }
}

#[test]
fn fit_on_views_gives_the_same_bits_as_fit_on_tensors() {
    let (spec, panel) = specs().swap_remove(2);
    let p = prepare_frame(&spec, frame(panel)).unwrap();
    let (_, v) = prepare_frame_views(&spec, frame(panel)).unwrap();
    let nf = p.pipeline.n_features();
    let build = || {
        let mut m = Sequential::new(&[spec.timesteps, nf])
            .add(LSTM::new(5))
            .add(Dense::new(p.pipeline.output_width()))
            .build(3)
            .unwrap();
        m.compile(Optimizer::adam(1e-2), Loss::Mse);
        m
    };
    let opts = FitOptions::new()
        .epochs(3)
        .batch_size(8)
        .seed(11)
        .verbose(0);
    let mut a = build();
    let ha = a
        .fit(
            &p.train.x,
            &p.train.y,
            &opts
                .clone()
                .validation_data(p.val.x.clone(), p.val.y.clone()),
        )
        .unwrap();
    let mut b = build();
    let hb = b
        .fit_source(&v.train_set(), Some(&v.val_set()), &opts, &mut [])
        .unwrap();
    assert_eq!(a.get_weights(), b.get_weights());
    assert_eq!((ha.loss, ha.val_loss), (hb.loss, hb.val_loss));
    // the validation samples come from one place only
    let e = b
        .fit_source(
            &v.train_set(),
            None,
            &opts.clone().validation_split(0.2),
            &mut [],
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("validation_split"), "{e}");
}
