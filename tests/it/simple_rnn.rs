//! SimpleRNN (the third cell on the recurrent base) and the base itself:
//! finite differences for every option, the reference formula, the batch
//! split over threads, and reading it from Keras configs and experiment tables.

use lstmkit::gradcheck::{check_layer, Report, Tolerance};
use lstmkit::nn::{
    layer_from_config, layer_from_table, Activation, Bidirectional, Layer, MergeMode, SimpleRNN,
    GRU, LSTM,
};
use lstmkit::rng::Rng;
use lstmkit::{Sequential, Tensor};

fn assert_pass(what: &str, r: Report) {
    assert!(
        r.passed(),
        "{what}: {} of {} failed (worst ratio {:.2}): {:?}",
        r.failures.len(),
        r.checked,
        r.worst_ratio,
        &r.failures[..r.failures.len().min(5)]
    );
}

fn check(what: &str, l: &mut dyn Layer, shapes: &[Vec<usize>], seed: u64, training: bool) {
    let r = check_layer(l, shapes, seed, training, Tolerance::default())
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_pass(what, r);
}

#[test]
fn simple_rnn_gradients_for_every_option() {
    for act in [Activation::Tanh, Activation::Sigmoid, Activation::Swish] {
        for rs in [false, true] {
            let mut l = SimpleRNN::new(5).activation(act).return_sequences(rs);
            check(
                &format!("SimpleRNN {act:?} seq={rs}"),
                &mut l,
                &[vec![3, 4, 2]],
                41,
                false,
            );
        }
    }
    let mut l = SimpleRNN::new(4).go_backwards(true).return_sequences(true);
    check(
        "SimpleRNN go_backwards",
        &mut l,
        &[vec![2, 5, 3]],
        42,
        false,
    );
    let mut l = SimpleRNN::new(4).use_bias(false);
    check("SimpleRNN no bias", &mut l, &[vec![2, 5, 3]], 43, false);
    let mut l = SimpleRNN::new(4).return_state(true).return_sequences(true);
    check(
        "SimpleRNN return_state",
        &mut l,
        &[vec![2, 5, 3]],
        44,
        false,
    );
    let mut l = SimpleRNN::new(4);
    check(
        "SimpleRNN initial state",
        &mut l,
        &[vec![2, 5, 3], vec![2, 4]],
        45,
        false,
    );
    for (d, rd) in [(0.3, 0.0), (0.0, 0.3), (0.25, 0.4)] {
        let mut l = SimpleRNN::new(4)
            .dropout(d)
            .recurrent_dropout(rd)
            .return_sequences(true);
        check(
            &format!("SimpleRNN dropout={d} recurrent_dropout={rd}"),
            &mut l,
            &[vec![3, 5, 3]],
            46,
            true,
        );
    }
    let mut l = Bidirectional::new(SimpleRNN::new(3).return_sequences(true), MergeMode::Concat);
    check(
        "Bidirectional(SimpleRNN)",
        &mut l,
        &[vec![2, 4, 2]],
        47,
        false,
    );
}

/// Batches large enough to be split over threads give the gradients of the
/// whole batch (the shards' partial weight gradients are summed).
#[test]
fn split_batches_have_the_same_gradients() {
    let big = vec![40, 4, 3];
    let mut l = SimpleRNN::new(4).return_sequences(true);
    check(
        "SimpleRNN 40 rows",
        &mut l,
        std::slice::from_ref(&big),
        48,
        false,
    );
    let mut g = GRU::new(4).reset_after(false);
    check("GRU 40 rows", &mut g, std::slice::from_ref(&big), 49, false);
    let mut g = GRU::new(4).return_state(true);
    check(
        "GRU 40 rows return_state",
        &mut g,
        &[big.clone(), vec![40, 4]],
        50,
        false,
    );
    let mut l = LSTM::new(3).return_state(true);
    check(
        "LSTM 40 rows initial state",
        &mut l,
        &[big, vec![40, 3], vec![40, 3]],
        51,
        false,
    );
}

/// h_t = tanh(x_t·W + b + h_{t-1}·U), computed by hand from the layer's weights.
#[test]
fn simple_rnn_matches_the_reference_formula() {
    let (b, t, f, u) = (3, 6, 2, 4);
    let mut m = Sequential::new(&[t, f])
        .add(SimpleRNN::new(u).return_sequences(true))
        .build(7)
        .unwrap();
    let w = m.get_weights();
    let (k, r, bias) = (&w[0].data, &w[1].data, &w[2].data);
    let mut rng = Rng::new(3);
    let x = Tensor::new(
        &[b, t, f],
        (0..b * t * f).map(|_| rng.normal() as f32).collect(),
    )
    .unwrap();
    let y = m.predict(&x).unwrap();
    let mut worst = 0f32;
    for bi in 0..b {
        let mut h = vec![0f32; u];
        for s in 0..t {
            let mut z = bias.clone();
            for j in 0..u {
                for i in 0..f {
                    z[j] += x.data[(bi * t + s) * f + i] * k[i * u + j];
                }
                for i in 0..u {
                    z[j] += h[i] * r[i * u + j];
                }
            }
            h = z.iter().map(|v| v.tanh()).collect();
            for j in 0..u {
                worst = worst.max((y.data[(bi * t + s) * u + j] - h[j]).abs());
            }
        }
    }
    assert!(worst < 1e-5, "worst {worst}");
}

/// A stateful SimpleRNN carries its state between calls, and saves and restores it.
#[test]
fn simple_rnn_stateful_carries_and_restores_state() {
    let mut l = SimpleRNN::new(3).stateful(true);
    let mut rng = Rng::new(1);
    l.build(&[vec![4, 2]], &mut rng).unwrap();
    let x = Tensor::new(&[2, 4, 2], (0..16).map(|i| i as f32 * 0.1).collect()).unwrap();
    let mut out = vec![Tensor::default()];
    l.forward(&[&x], &mut out, false).unwrap();
    let first = out[0].clone();
    let saved = l.runtime_state();
    l.forward(&[&x], &mut out, false).unwrap();
    assert_ne!(out[0], first, "the carried state changes the second call");
    let second = out[0].clone();
    l.set_runtime_state(&saved).unwrap();
    l.forward(&[&x], &mut out, false).unwrap();
    assert_eq!(out[0], second);
    l.reset_states();
    l.forward(&[&x], &mut out, false).unwrap();
    assert_eq!(out[0], first);
    let y3 = Tensor::zeros(&[3, 4, 2]);
    let e = l.forward(&[&y3], &mut out, false).unwrap_err().to_string();
    assert!(e.contains("SimpleRNN") && e.contains("batch size"), "{e}");
}

/// One path for every source: a Keras config, an experiment table, and the
/// table row's wrapper all give the same layer; bad options name the layer.
#[test]
fn simple_rnn_reads_from_keras_and_tables() {
    let keras = serde_json::json!({"name": "rnn", "trainable": true, "units": 6,
        "activation": "relu", "use_bias": false, "return_sequences": true,
        "dropout": 0.1, "recurrent_dropout": 0.0, "seed": null, "unroll": false,
        "kernel_constraint": null, "zero_output_for_mask": false,
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}});
    let l = layer_from_config("SimpleRNN", &keras).unwrap();
    let c = l.config();
    assert_eq!(c["units"], 6);
    assert_eq!(c["activation"], "relu");
    assert_eq!(c["use_bias"], false);
    assert_eq!(c["return_sequences"], true);
    assert_eq!(layer_from_config("SimpleRNN", &c).unwrap().config(), c);
    let args = serde_json::json!({"units": 6, "activation": "relu", "use_bias": false,
        "return_sequences": true, "dropout": 0.1});
    let t = layer_from_table("simple_rnn", args.as_object().unwrap(), "rnn").unwrap();
    assert_eq!(t.config(), c);
    // every recurrent option is accepted the same way by every recurrent type
    for kind in ["lstm", "gru", "simple_rnn"] {
        let args = serde_json::json!({"units": 2, "stateful": true, "go_backwards": true,
            "return_state": true, "recurrent_dropout": 0.2});
        let l = layer_from_table(kind, args.as_object().unwrap(), "r").unwrap();
        assert_eq!(l.config()["stateful"], true, "{kind}");
        let bad = serde_json::json!({"units": 2, "unitz": 1});
        let e = layer_from_table(kind, bad.as_object().unwrap(), "enc")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("'enc'") && e.contains("unitz") && e.contains("stateful"),
            "{e}"
        );
    }
    let e = layer_from_config(
        "SimpleRNN",
        &serde_json::json!({"name": "r1", "units": 2, "kernel_constraint": {"class_name": "MaxNorm"}}),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("'r1'") && e.contains("kernel_constraint"), "{e}");
    let e = layer_from_config(
        "SimpleRNN",
        &serde_json::json!({"name": "r2", "units": 2, "dropout": 1.5}),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("'r2'") && e.contains("dropout"), "{e}");
    let bi = serde_json::json!({"name": "bi", "merge_mode": "sum",
        "layer": {"class_name": "SimpleRNN", "config": {"name": "f", "units": 3}}});
    let b = layer_from_config("Bidirectional", &bi).unwrap();
    assert_eq!(b.config()["layer"]["config"]["name"], "forward_simple_rnn");
    let dense =
        serde_json::json!({"name": "bi", "layer": {"class_name": "Dense", "config": {"units": 3}}});
    let e = layer_from_config("Bidirectional", &dense)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Dense") && e.contains("SimpleRNN"), "{e}");
}
