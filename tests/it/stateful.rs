//! Stateful LSTMs: Keras' own reference numbers, state carried across batches,
//! fixed batch size and resets.

use lstmkit::model::Sequential;
use lstmkit::nn::{Layer, LSTM};
use lstmkit::{Model, Tensor};

/// Keras' `LSTMTest.test_statefulness`: units 4, constant initialisers
/// kernel 0.01, recurrent 0.02, bias 0.03 (forget-gate bias 1 from
/// `unit_forget_bias`), input arange(24) as (2, 3, 4).
fn keras_stateful_model() -> Model {
    let mut m = Sequential::new(&[3, 4])
        .add(LSTM::new(4).stateful(true))
        .build(0)
        .unwrap();
    let mut bias = vec![0.03f32; 16];
    bias[4..8].fill(1.0);
    m.set_weights(&[
        Tensor::new(&[4, 16], vec![0.01; 64]).unwrap(),
        Tensor::new(&[4, 16], vec![0.02; 64]).unwrap(),
        Tensor::new(&[16], bias).unwrap(),
    ])
    .unwrap();
    m
}

fn seq() -> Tensor {
    Tensor::new(&[2, 3, 4], (0..24).map(|v| v as f32).collect()).unwrap()
}

fn assert_rows(y: &Tensor, want: [f32; 2]) {
    assert_eq!(y.shape, vec![2, 4]);
    for (b, w) in want.iter().enumerate() {
        for j in 0..4 {
            let got = y.data[b * 4 + j];
            assert!((got - w).abs() < 1e-6, "sample {b} unit {j}: {got} vs {w}");
        }
    }
}

#[test]
fn reproduces_keras_statefulness_test() {
    let mut m = keras_stateful_model();
    let x = seq();
    // first call (values printed by Keras 3.15.1 for the same layer)
    let y1 = m.predict(&x).unwrap();
    assert_rows(&y1, [0.217_810_29, 0.581_932_4]);
    // second call starts from the first call's final state: Keras' test numbers
    let y2 = m.predict(&x).unwrap();
    assert_rows(&y2, [0.312_478_5, 0.686_367_2]);
    // reset → back to the first value, then the second again
    m.reset_states();
    assert_eq!(m.predict(&x).unwrap(), y1);
    assert_eq!(m.predict(&x).unwrap(), y2);
    // the Keras 3 spelling
    m.reset_state();
    assert_eq!(m.predict(&x).unwrap(), y1);
}

#[test]
fn state_carries_across_batches_like_one_long_sequence() {
    // one pass over 8 steps == two stateful passes over 4 + 4 steps
    let build = |stateful: bool, t: usize| {
        Sequential::new(&[t, 2])
            .add(LSTM::new(5).stateful(stateful).return_sequences(true))
            .build(3)
            .unwrap()
    };
    let mut long = build(false, 8);
    let mut st = build(true, 4);
    st.set_weights(&long.get_weights()).unwrap();
    let x: Vec<f32> = (0..3 * 8 * 2).map(|v| ((v as f32) * 0.37).sin()).collect();
    let xl = Tensor::new(&[3, 8, 2], x.clone()).unwrap();
    let yl = long.predict(&xl).unwrap();
    let mut parts = Vec::new();
    for half in 0..2 {
        let mut d = Vec::new();
        for b in 0..3 {
            d.extend_from_slice(&x[(b * 8 + half * 4) * 2..(b * 8 + half * 4 + 4) * 2]);
        }
        let y = st.predict(&Tensor::new(&[3, 4, 2], d).unwrap()).unwrap();
        parts.push(y);
    }
    for b in 0..3 {
        for half in 0..2 {
            for s in 0..4 {
                let a = &yl.data[(b * 8 + half * 4 + s) * 5..][..5];
                let c = &parts[half].data[(b * 4 + s) * 5..][..5];
                for (p, q) in a.iter().zip(c) {
                    assert!((p - q).abs() < 1e-6, "b{b} half{half} s{s}: {p} vs {q}");
                }
            }
        }
    }
}

#[test]
fn batch_size_is_fixed_until_reset() {
    let mut m = keras_stateful_model();
    m.predict(&seq()).unwrap();
    let x3 = Tensor::new(&[3, 3, 4], vec![0.5; 36]).unwrap();
    let e = m.predict(&x3).unwrap_err().to_string();
    assert!(
        e.contains("fixed batch size") && e.contains("batch size 2") && e.contains("3 now"),
        "{e}"
    );
    assert!(m.is_stateful());
    m.reset_states();
    assert_eq!(m.predict(&x3).unwrap().shape, vec![3, 4]);
    // training carries the state too (and stays within the fixed batch size)
    m.compile(
        lstmkit::train::Optimizer::sgd(0.01, 0.0, false),
        lstmkit::train::Loss::Mse,
    );
    let y = Tensor::zeros(&[3, 4]);
    m.train_on_batch(&x3, &y).unwrap();
    let y2 = Tensor::zeros(&[2, 4]);
    assert!(m.train_on_batch(&seq(), &y2).is_err());
}

#[test]
fn layer_state_round_trips_through_runtime_state() {
    let mut l = LSTM::new(3).stateful(true);
    let mut rng = lstmkit::rng::Rng::new(1);
    l.build(&[vec![2, 2]], &mut rng).unwrap();
    let x = Tensor::new(&[1, 2, 2], vec![0.1, 0.2, 0.3, 0.4]).unwrap();
    let mut out = vec![Tensor::default()];
    l.forward(&[&x], &mut out, false).unwrap();
    let saved = l.runtime_state();
    assert!(!saved.is_null());
    l.forward(&[&x], &mut out, false).unwrap();
    let second = out[0].clone();
    l.set_runtime_state(&saved).unwrap();
    l.forward(&[&x], &mut out, false).unwrap();
    assert_eq!(out[0], second);
    l.reset_states();
    assert!(l.states()[0].is_empty());
    assert!(l.runtime_state().is_null());
    // a state of the wrong width is refused
    let bad = serde_json::json!({"h": [1.0, 2.0], "c": [1.0, 2.0]});
    assert!(l.set_runtime_state(&bad).is_err());
}

#[test]
fn fit_with_a_stateful_model_and_epoch_end_reset() {
    use lstmkit::train::{FitOptions, Loss, Optimizer};
    let build = || {
        let mut m = Sequential::new(&[3, 1])
            .add(LSTM::new(3).stateful(true))
            .add(lstmkit::nn::Dense::new(1))
            .build(2)
            .unwrap();
        m.compile(Optimizer::sgd(0.05, 0.0, false), Loss::Mse);
        m
    };
    let x = Tensor::new(
        &[8, 3, 1],
        (0..24).map(|v| (v as f32 * 0.3).sin()).collect(),
    )
    .unwrap();
    let y = Tensor::new(&[8, 1], (0..8).map(|v| (v as f32 * 0.5).cos()).collect()).unwrap();
    let o = FitOptions::new().batch_size(4).shuffle(false).verbose(0);
    // the sample count must be a multiple of the batch size
    let mut m = build();
    let e = m
        .fit(&x, &y, &o.clone().batch_size(3))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("fixed batch size") && e.contains("multiple"),
        "{e}"
    );
    // with the reset, two one-epoch fits equal one two-epoch fit after a reset
    let mut a = build();
    a.fit(&x, &y, &o.clone().epochs(2).reset_states_each_epoch(true))
        .unwrap();
    let mut b = build();
    b.fit(&x, &y, &o.clone().epochs(1)).unwrap();
    b.reset_states();
    b.fit(&x, &y, &o.clone().epochs(1)).unwrap();
    b.reset_states();
    assert_eq!(a.get_weights(), b.get_weights());
    // the states are clear after the last epoch
    let probe = Tensor::new(&[4, 3, 1], vec![0.2; 12]).unwrap();
    assert_eq!(a.predict(&probe).unwrap(), b.predict(&probe).unwrap());
    // without it the state runs on across epochs, which changes the training
    let mut c = build();
    c.fit(&x, &y, &o.clone().epochs(2)).unwrap();
    assert_ne!(a.get_weights(), c.get_weights());
}
