//! Keras compatibility sweep, regression subset: a few small models of
//! `tests/data/make_sweep_models.py` (its `--subset`), saved by Keras 3
//! (`.keras`, `.h5`) and by tf.keras 2 (`.h5`, `.keras`), kept under
//! `tests/data/sweep/`. Each must load and reproduce Keras' own prediction to
//! 1e-5. The full sweep (about 60 models × 4 files) runs with the Python env:
//! `python tests/data/make_sweep_models.py --out DIR --lstmkit target/debug/lstmkit`.
//! Also: finite-difference checks of the options the sweep found missing
//! (LSTM and GRU gates with other activations, Keras 2's hard_sigmoid).

use lstmkit::gradcheck::{check_layer, Tolerance};
use lstmkit::io::{load_model, npy};
use lstmkit::nn::{Activation, Layer, GRU, LSTM};

use crate::common::data;

/// Loads every committed sweep file and compares it with Keras' y.
#[test]
fn committed_subset_matches_keras() {
    let dir = data("sweep");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut checked = 0;
    let mut worst = 0f32;
    for m in manifest.as_array().unwrap() {
        let x = npy::read(dir.join(m["x"].as_str().unwrap())).unwrap();
        let want = m["y"].as_str().map(|y| npy::read(dir.join(y)).unwrap());
        for f in m["files"].as_array().unwrap() {
            let f = f.as_str().unwrap();
            let res = load_model(dir.join(f));
            match (&want, m["expect_error"].as_array()) {
                (Some(y), _) => {
                    let mut model = res.unwrap_or_else(|e| panic!("{f}: {e}"));
                    let p = model.predict(&x).unwrap_or_else(|e| panic!("{f}: {e}"));
                    assert_eq!(p.shape, y.shape, "{f}");
                    let d = p.max_abs_diff(y);
                    println!("{f}: max |Δ| = {d:.2e}");
                    assert!(d <= 1e-5, "{f}: max |Δ| = {d}");
                    worst = worst.max(d);
                }
                (None, Some(words)) => {
                    let e = match res {
                        Ok(_) => panic!("{f} should be refused"),
                        Err(e) => e.to_string(),
                    };
                    for w in words {
                        assert!(e.contains(w.as_str().unwrap()), "{f}: {e}");
                    }
                    println!("{f}: refused: {e}");
                }
                (None, None) => panic!("{f}: the manifest gives neither y nor expect_error"),
            }
            checked += 1;
        }
    }
    println!("{checked} files, worst max |Δ| = {worst:.2e}");
    assert!(checked >= 12, "only {checked} files checked");
}

fn assert_pass(what: &str, r: lstmkit::gradcheck::Report) {
    assert!(
        r.passed(),
        "{what}: {} of {} failed (worst ratio {:.2}): {:?}",
        r.failures.len(),
        r.checked,
        r.worst_ratio,
        &r.failures[..r.failures.len().min(5)]
    );
}

/// Keras lets an LSTM's gates use any activation: the backward pass must
/// follow (the derivative of most needs the gates' pre-activations).
#[test]
fn lstm_gates_with_any_activation_gradients() {
    for rec in [
        Activation::Tanh,
        Activation::Linear,
        Activation::Softsign,
        Activation::Elu,
        Activation::Swish,
        Activation::Gelu,
        Activation::Softplus,
        Activation::HardSigmoidKeras2,
    ] {
        for rs in [false, true] {
            let mut l = LSTM::new(4)
                .recurrent_activation(rec)
                .return_sequences(rs)
                .go_backwards(rs);
            let r = check_layer(&mut l, &[vec![3, 4, 2]], 7, false, Tolerance::default()).unwrap();
            assert_pass(&format!("LSTM gates {rec:?} return_sequences={rs}"), r);
        }
    }
    // relu gates: a smaller step keeps the finite differences off the kink
    let mut l = LSTM::new(4).recurrent_activation(Activation::Relu);
    let tol = Tolerance {
        eps: 2e-4,
        ..Tolerance::default()
    };
    assert_pass(
        "LSTM relu gates",
        check_layer(&mut l, &[vec![2, 5, 3]], 8, false, tol).unwrap(),
    );
    // a batch large enough to be split over threads, each shard keeping its own pre-activations
    let mut l = LSTM::new(3)
        .recurrent_activation(Activation::Tanh)
        .return_sequences(true);
    assert_pass(
        "LSTM tanh gates, sharded batch",
        check_layer(&mut l, &[vec![40, 3, 2]], 9, false, Tolerance::default()).unwrap(),
    );
}

/// GRU gates: any activation whose output gives its derivative (all but
/// swish and gelu), Keras 2's hard_sigmoid included.
#[test]
fn gru_gates_with_other_activations_gradients() {
    for rec in [
        Activation::HardSigmoidKeras2,
        Activation::Tanh,
        Activation::Linear,
        Activation::Softsign,
        Activation::Elu,
        Activation::Selu,
        Activation::Softplus,
    ] {
        for ra in [true, false] {
            let mut l = GRU::new(4)
                .reset_after(ra)
                .recurrent_activation(rec)
                .return_sequences(true);
            let r = check_layer(&mut l, &[vec![2, 5, 3]], 10, false, Tolerance::default()).unwrap();
            assert_pass(&format!("GRU gates {rec:?} reset_after={ra}"), r);
        }
    }
    // relu gates are unbounded and have a kink: a step small enough to stay
    // off the kink drowns in f32 noise, so check a seed whose
    // pre-activations keep clear of 0 (19 of 20 seed × reset_after runs did)
    for ra in [true, false] {
        let mut l = GRU::new(4)
            .reset_after(ra)
            .recurrent_activation(Activation::Relu);
        let tol = Tolerance {
            eps: 1e-3,
            ..Tolerance::default()
        };
        assert_pass(
            &format!("GRU relu gates reset_after={ra}"),
            check_layer(&mut l, &[vec![2, 5, 3]], 12, false, tol).unwrap(),
        );
    }
    let e = GRU::new(3)
        .recurrent_activation(Activation::Gelu)
        .build(&[vec![4, 2]], &mut lstmkit::rng::Rng::new(0))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("gelu") && e.contains("recurrent_activation"),
        "{e}"
    );
}
