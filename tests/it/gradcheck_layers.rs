//! Finite-difference checks of every layer beyond LSTM/Dense: GRU, Bidirectional,
//! Attention, Dropout (and LSTM/GRU dropout), BatchNormalization, LayerNormalization,
//! pooling, Flatten, TimeDistributed, Concatenate, Add; plus graphs with a node
//! used twice and shape errors.

use lstmkit::gradcheck::{check_layer, check_model, Report, Tolerance};
use lstmkit::model::Graph;
use lstmkit::nn::{
    Activation, Add, Attention, BatchNormalization, Bidirectional, Concatenate, Dense, Dropout,
    Flatten, GlobalAveragePooling1D, GlobalMaxPooling1D, Layer, LayerNormalization, MergeMode,
    ScoreMode, TimeDistributed, GRU, LSTM,
};
use lstmkit::train::Loss;
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
fn gru_reset_after_both_ways_and_options() {
    for ra in [true, false] {
        for act in [Activation::Tanh, Activation::Relu] {
            for rs in [false, true] {
                let mut l = GRU::new(5)
                    .reset_after(ra)
                    .activation(act)
                    .return_sequences(rs);
                // relu's kink: a bias step moves many pre-activations at once, so
                // use a smaller step than the default for it
                let tol = Tolerance {
                    eps: if act == Activation::Relu { 2e-4 } else { 3e-3 },
                    ..Tolerance::default()
                };
                let r = check_layer(&mut l, &[vec![3, 4, 2]], 21, false, tol).unwrap();
                assert_pass(&format!("GRU reset_after={ra} {act:?} seq={rs}"), r);
            }
        }
        let mut l = GRU::new(4)
            .reset_after(ra)
            .go_backwards(true)
            .return_sequences(true);
        check("GRU go_backwards", &mut l, &[vec![2, 5, 3]], 22, false);
        let mut l = GRU::new(4).reset_after(ra).use_bias(false);
        check("GRU no bias", &mut l, &[vec![2, 5, 3]], 23, false);
        let mut l = GRU::new(4)
            .reset_after(ra)
            .recurrent_activation(Activation::HardSigmoid);
        check("GRU hard_sigmoid", &mut l, &[vec![2, 5, 3]], 24, false);
        let mut l = GRU::new(4).reset_after(ra).return_state(true);
        check("GRU return_state", &mut l, &[vec![2, 5, 3]], 25, false);
        let mut l = GRU::new(4).reset_after(ra);
        check(
            "GRU initial state",
            &mut l,
            &[vec![2, 5, 3], vec![2, 4]],
            26,
            false,
        );
    }
}

#[test]
fn gru_bias_layout_follows_keras() {
    let mut m = Sequential::new(&[6, 2]).add(GRU::new(3)).build(1).unwrap();
    let w = m.get_weights();
    assert_eq!(w[0].shape, vec![2, 9]);
    assert_eq!(w[1].shape, vec![3, 9]);
    assert_eq!(w[2].shape, vec![2, 9]);
    let m2 = Sequential::new(&[6, 2])
        .add(GRU::new(3).reset_after(false))
        .build(1)
        .unwrap();
    assert_eq!(m2.get_weights()[2].shape, vec![9]);
    // inference works
    let y = m.predict(&Tensor::zeros(&[2, 6, 2])).unwrap();
    assert_eq!(y.shape, vec![2, 3]);
}

/// GRU(reset_after) against a direct scalar implementation of Keras' formulas.
#[test]
fn gru_matches_reference_formulas() {
    for ra in [true, false] {
        let (t, f, u, b) = (4, 2, 3, 2);
        let mut m = Sequential::new(&[t, f])
            .add(GRU::new(u).reset_after(ra))
            .build(9)
            .unwrap();
        let w = m.get_weights();
        let mut rng = lstmkit::rng::Rng::new(4);
        let x = Tensor::new(
            &[b, t, f],
            (0..b * t * f).map(|_| rng.normal() as f32).collect(),
        )
        .unwrap();
        // non-zero biases
        let mut w2 = w.clone();
        for v in w2[2].data.iter_mut() {
            *v = rng.normal() as f32 * 0.3;
        }
        m.set_weights(&w2).unwrap();
        let y = m.predict(&x).unwrap();
        let (k, rk, bias) = (&w2[0].data, &w2[1].data, &w2[2].data);
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        for bi in 0..b {
            let mut h = vec![0.0f64; u];
            for s in 0..t {
                let xt = &x.data[(bi * t + s) * f..(bi * t + s + 1) * f];
                let mut xz = vec![0.0f64; 3 * u];
                let mut hz = vec![0.0f64; 3 * u];
                for j in 0..3 * u {
                    xz[j] = (0..f)
                        .map(|c| xt[c] as f64 * k[c * 3 * u + j] as f64)
                        .sum::<f64>()
                        + bias[j] as f64;
                    hz[j] = (0..u).map(|c| h[c] * rk[c * 3 * u + j] as f64).sum::<f64>()
                        + if ra { bias[3 * u + j] as f64 } else { 0.0 };
                }
                let z: Vec<f64> = (0..u).map(|j| sig(xz[j] + hz[j])).collect();
                let r: Vec<f64> = (0..u).map(|j| sig(xz[u + j] + hz[u + j])).collect();
                let hh: Vec<f64> = if ra {
                    (0..u)
                        .map(|j| (xz[2 * u + j] + r[j] * hz[2 * u + j]).tanh())
                        .collect()
                } else {
                    (0..u)
                        .map(|j| {
                            let rh: f64 = (0..u)
                                .map(|c| r[c] * h[c] * rk[c * 3 * u + 2 * u + j] as f64)
                                .sum();
                            (xz[2 * u + j] + rh).tanh()
                        })
                        .collect()
                };
                for j in 0..u {
                    h[j] = z[j] * h[j] + (1.0 - z[j]) * hh[j];
                }
            }
            for j in 0..u {
                let d = (y.data[bi * u + j] as f64 - h[j]).abs();
                assert!(
                    d < 1e-5,
                    "reset_after={ra}: {} vs {}",
                    y.data[bi * u + j],
                    h[j]
                );
            }
        }
    }
}

#[test]
fn lstm_and_gru_dropout_in_training() {
    for (d, rd) in [(0.3, 0.0), (0.0, 0.3), (0.25, 0.4)] {
        for rs in [false, true] {
            let mut l = LSTM::new(4)
                .dropout(d)
                .recurrent_dropout(rd)
                .return_sequences(rs);
            check(
                &format!("LSTM dropout={d} recurrent_dropout={rd} seq={rs}"),
                &mut l,
                &[vec![3, 5, 3]],
                31,
                true,
            );
            for ra in [true, false] {
                let mut g = GRU::new(4)
                    .reset_after(ra)
                    .dropout(d)
                    .recurrent_dropout(rd)
                    .return_sequences(rs);
                check(
                    &format!("GRU reset_after={ra} dropout={d} recurrent_dropout={rd} seq={rs}"),
                    &mut g,
                    &[vec![3, 5, 3]],
                    32,
                    true,
                );
            }
        }
    }
}

#[test]
fn rnn_dropout_is_training_only_and_time_constant() {
    let mut rng = lstmkit::rng::Rng::new(1);
    let x = Tensor::new(&[2, 6, 3], (0..36).map(|_| rng.normal() as f32).collect()).unwrap();
    let mut plain = LSTM::new(4).return_sequences(true);
    let mut drop = LSTM::new(4)
        .return_sequences(true)
        .dropout(0.5)
        .recurrent_dropout(0.5);
    plain
        .build(&[vec![6, 3]], &mut lstmkit::rng::Rng::new(5))
        .unwrap();
    drop.build(&[vec![6, 3]], &mut lstmkit::rng::Rng::new(5))
        .unwrap();
    let mut a = vec![Tensor::default()];
    let mut b = vec![Tensor::default()];
    plain.forward(&[&x], &mut a, false).unwrap();
    drop.forward(&[&x], &mut b, false).unwrap();
    assert_eq!(a[0].data, b[0].data, "inference ignores dropout");
    drop.forward(&[&x], &mut b, true).unwrap();
    assert_ne!(a[0].data, b[0].data, "training applies dropout");
    // the same RNG state gives the same masks
    let st = drop.runtime_state();
    let mut c = vec![Tensor::default()];
    drop.forward(&[&x], &mut c, true).unwrap();
    drop.set_runtime_state(&st).unwrap();
    let mut d = vec![Tensor::default()];
    drop.forward(&[&x], &mut d, true).unwrap();
    assert_eq!(c[0].data, d[0].data);
    // one mask per sequence: with a constant input sequence and only input dropout,
    // the masked input is the same at every step, so a GRU driven by it from h=0 with
    // the same mask matches a run on the pre-masked constant input.
    let xc = Tensor::new(
        &[1, 5, 2],
        vec![0.7, -0.4, 0.7, -0.4, 0.7, -0.4, 0.7, -0.4, 0.7, -0.4],
    )
    .unwrap();
    let mut g = GRU::new(3).return_sequences(true).dropout(0.5);
    g.build(&[vec![5, 2]], &mut lstmkit::rng::Rng::new(8))
        .unwrap();
    let mut out = vec![Tensor::default()];
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        g.forward(&[&xc], &mut out, true).unwrap();
        // reference runs: inputs masked by each of the 4 possible constant masks
        let mut matched = false;
        for m in [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]] {
            let xm = Tensor::new(
                &[1, 5, 2],
                xc.data
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v * m[i % 2])
                    .collect(),
            )
            .unwrap();
            let mut r = vec![Tensor::default()];
            let mut g2 = GRU::new(3).return_sequences(true);
            g2.build(&[vec![5, 2]], &mut lstmkit::rng::Rng::new(8))
                .unwrap();
            for (p, q) in g2.params_mut().into_iter().zip(g.params()) {
                p.value = q.value.clone();
            }
            g2.forward(&[&xm], &mut r, false).unwrap();
            if r[0].max_abs_diff(&out[0]) < 1e-6 {
                matched = true;
                seen.insert(format!("{m:?}"));
            }
        }
        assert!(matched, "mask must be constant over time");
    }
    assert!(seen.len() >= 2, "masks vary between calls");
}

#[test]
fn bidirectional_every_merge_mode() {
    for mode in [
        MergeMode::Concat,
        MergeMode::Sum,
        MergeMode::Mul,
        MergeMode::Ave,
        MergeMode::None,
    ] {
        for rs in [false, true] {
            let mut l = Bidirectional::new(LSTM::new(4).return_sequences(rs), mode);
            check(
                &format!("Bi(LSTM) {mode:?} seq={rs}"),
                &mut l,
                &[vec![2, 5, 3]],
                41,
                false,
            );
            let mut l = Bidirectional::new(GRU::new(3).return_sequences(rs), mode);
            check(
                &format!("Bi(GRU) {mode:?} seq={rs}"),
                &mut l,
                &[vec![2, 5, 3]],
                42,
                false,
            );
        }
    }
    let mut l = Bidirectional::new(LSTM::new(3).return_state(true), MergeMode::Concat);
    assert_eq!(l.num_outputs(), 1);
    check("Bi(LSTM) return_state", &mut l, &[vec![2, 4, 2]], 43, false);
    assert_eq!(l.num_outputs(), 5);
    let mut l = Bidirectional::new(LSTM::new(3).return_sequences(true), MergeMode::Concat)
        .with_backward_layer(GRU::new(2).return_sequences(true).go_backwards(true))
        .unwrap();
    check(
        "Bi(LSTM fw, GRU bw) concat",
        &mut l,
        &[vec![2, 4, 2]],
        45,
        false,
    );
    assert!(Bidirectional::new(LSTM::new(3), MergeMode::Sum)
        .with_backward_layer(LSTM::new(3))
        .is_err());
    let mut l = Bidirectional::new(
        LSTM::new(3).dropout(0.2).recurrent_dropout(0.2),
        MergeMode::Sum,
    );
    check("Bi(LSTM) dropout", &mut l, &[vec![2, 4, 2]], 44, true);
}

#[test]
fn bidirectional_aligns_backward_outputs_in_time() {
    let mut rng = lstmkit::rng::Rng::new(3);
    let x = Tensor::new(&[2, 5, 2], (0..20).map(|_| rng.normal() as f32).collect()).unwrap();
    let mut bi = Bidirectional::new(LSTM::new(3).return_sequences(true), MergeMode::None);
    bi.build(&[vec![5, 2]], &mut lstmkit::rng::Rng::new(1))
        .unwrap();
    let mut out = vec![Tensor::default(), Tensor::default()];
    bi.forward(&[&x], &mut out, false).unwrap();
    // the backward half equals an LSTM run on the time-reversed input, flipped back
    let ws: Vec<Tensor> = bi.params()[3..].iter().map(|p| p.value.clone()).collect();
    let mut l = LSTM::new(3).return_sequences(true);
    l.build(&[vec![5, 2]], &mut lstmkit::rng::Rng::new(2))
        .unwrap();
    for (p, w) in l.params_mut().into_iter().zip(&ws) {
        p.value = w.clone();
    }
    let mut xr = x.clone();
    for b in 0..2 {
        for s in 0..5 {
            for c in 0..2 {
                xr.data[(b * 5 + s) * 2 + c] = x.data[(b * 5 + 4 - s) * 2 + c];
            }
        }
    }
    let mut r = vec![Tensor::default()];
    l.forward(&[&xr], &mut r, false).unwrap();
    for b in 0..2 {
        for s in 0..5 {
            for j in 0..3 {
                let want = r[0].data[(b * 5 + 4 - s) * 3 + j];
                let got = out[1].data[(b * 5 + s) * 3 + j];
                assert!((want - got).abs() < 1e-6);
            }
        }
    }
    // weights: forward's three then backward's three, Keras-named
    let names: Vec<String> = bi.params().iter().map(|p| p.name.clone()).collect();
    assert_eq!(names[0], "forward_lstm/kernel");
    assert_eq!(names[5], "backward_lstm/bias");
}

#[test]
fn attention_every_option() {
    for mode in [ScoreMode::Dot, ScoreMode::Concat] {
        for scale in [false, true] {
            for causal in [false, true] {
                let mut a = Attention::new()
                    .score_mode(mode)
                    .use_scale(scale)
                    .use_causal_mask(causal);
                check(
                    &format!("Attention {mode:?} scale={scale} causal={causal}"),
                    &mut a,
                    &[vec![2, 4, 3], vec![2, 5, 3]],
                    51,
                    false,
                );
                let mut a = Attention::new()
                    .score_mode(mode)
                    .use_scale(scale)
                    .use_causal_mask(causal)
                    .return_attention_scores(true);
                check(
                    &format!("Attention 3 inputs + scores {mode:?} scale={scale} causal={causal}"),
                    &mut a,
                    &[vec![2, 4, 3], vec![2, 5, 2], vec![2, 5, 3]],
                    52,
                    false,
                );
            }
        }
    }
    let mut a = Attention::new().dropout(0.3).return_attention_scores(true);
    check(
        "Attention dropout (training)",
        &mut a,
        &[vec![2, 4, 3], vec![2, 4, 3]],
        53,
        true,
    );
    let mut a = Attention::new()
        .use_scale(true)
        .score_mode(ScoreMode::Concat);
    a.build(&[vec![4, 3], vec![4, 3]], &mut lstmkit::rng::Rng::new(0))
        .unwrap();
    let names: Vec<&str> = a.params().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["scale", "concat_score_weight"]);
}

#[test]
fn attention_causal_mask_hides_the_future() {
    let mut a = Attention::new()
        .use_causal_mask(true)
        .return_attention_scores(true);
    a.build(&[vec![4, 2], vec![4, 2]], &mut lstmkit::rng::Rng::new(0))
        .unwrap();
    let mut rng = lstmkit::rng::Rng::new(2);
    let h = Tensor::new(&[1, 4, 2], (0..8).map(|_| rng.normal() as f32).collect()).unwrap();
    let mut out = vec![Tensor::default(), Tensor::default()];
    a.forward(&[&h, &h], &mut out, false).unwrap();
    let w = &out[1].data;
    for i in 0..4 {
        let s: f32 = w[i * 4..(i + 1) * 4].iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
        for j in i + 1..4 {
            assert!(w[i * 4 + j] < 1e-30);
        }
    }
    // first query attends only to the first key: output = h_0
    assert!((out[0].data[0] - h.data[0]).abs() < 1e-6);
}

#[test]
fn dropout_layer_training_fixed_rng_and_inference() {
    let mut d = Dropout::new(0.4);
    check("Dropout training", &mut d, &[vec![4, 6]], 61, true);
    let mut d = Dropout::new(0.4);
    check("Dropout inference", &mut d, &[vec![4, 6]], 62, false);
    let mut d = Dropout::new(0.5).noise_shape(vec![None, Some(1), None]);
    check("Dropout noise_shape", &mut d, &[vec![2, 5, 3]], 63, true);
    // noise_shape (None, 1, F): the same mask at every step
    let mut d = Dropout::new(0.5).noise_shape(vec![None, Some(1), None]);
    d.build(&[vec![5, 3]], &mut lstmkit::rng::Rng::new(3))
        .unwrap();
    let x = Tensor::new(&[2, 5, 3], vec![1.0; 30]).unwrap();
    let mut y = vec![Tensor::default()];
    d.forward(&[&x], &mut y, true).unwrap();
    for b in 0..2 {
        for s in 1..5 {
            assert_eq!(
                y[0].data[(b * 5 + s) * 3..(b * 5 + s + 1) * 3],
                y[0].data[b * 15..b * 15 + 3]
            );
        }
    }
    // rate statistics and scaling
    let mut d = Dropout::new(0.25);
    d.build(&[vec![10000]], &mut lstmkit::rng::Rng::new(4))
        .unwrap();
    let x = Tensor::new(&[1, 10000], vec![1.0; 10000]).unwrap();
    d.forward(&[&x], &mut y, true).unwrap();
    let zeros = y[0].data.iter().filter(|v| **v == 0.0).count();
    assert!((2200..2800).contains(&zeros), "{zeros}");
    assert!(y[0]
        .data
        .iter()
        .all(|v| *v == 0.0 || (*v - 1.0 / 0.75).abs() < 1e-6));
}

#[test]
fn dropout_is_seeded_from_the_model_seed() {
    let build = |seed| {
        Sequential::new(&[8])
            .add(Dropout::new(0.5))
            .build(seed)
            .unwrap()
    };
    let x = Tensor::new(&[4, 8], vec![1.0; 32]).unwrap();
    let a = build(1).forward(&x, true).unwrap().clone();
    let b = build(1).forward(&x, true).unwrap().clone();
    let c = build(2).forward(&x, true).unwrap().clone();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn batch_and_layer_normalization() {
    for (center, scale) in [(true, true), (false, true), (true, false), (false, false)] {
        let mut bn = BatchNormalization::new().center(center).scale(scale);
        check(
            &format!("BN training center={center} scale={scale}"),
            &mut bn,
            &[vec![6, 4]],
            71,
            true,
        );
        let mut bn = BatchNormalization::new().center(center).scale(scale);
        check("BN 3-D training", &mut bn, &[vec![3, 5, 4]], 72, true);
        let mut bn = BatchNormalization::new().center(center).scale(scale);
        check("BN inference", &mut bn, &[vec![6, 4]], 73, false);
        let mut ln = LayerNormalization::new().center(center).scale(scale);
        check("LayerNorm", &mut ln, &[vec![3, 5, 4]], 74, false);
    }
    // moving statistics: Keras' update, then used in inference
    let mut bn = BatchNormalization::new().momentum(0.9);
    bn.build(&[vec![1]], &mut lstmkit::rng::Rng::new(0))
        .unwrap();
    let x = Tensor::new(&[4, 1], vec![1.0, 2.0, 3.0, 6.0]).unwrap();
    let mut y = vec![Tensor::default()];
    bn.forward(&[&x], &mut y, true).unwrap();
    let (mean, var) = (3.0f32, 3.5f32);
    let p = bn.params();
    assert!((p[2].value.data[0] - 0.1 * mean).abs() < 1e-6);
    assert!((p[3].value.data[0] - (0.9 + 0.1 * var)).abs() < 1e-6);
    assert!(!p[2].trainable && !p[3].trainable && p[0].trainable);
    bn.forward(&[&x], &mut y, false).unwrap();
    let mm = 0.3f32;
    let mv = 0.9 + 0.35f32;
    assert!((y[0].data[0] - (1.0 - mm) / (mv + 1e-3).sqrt()).abs() < 1e-5);
}

#[test]
fn pooling_flatten_time_distributed_merges() {
    check(
        "GlobalAveragePooling1D",
        &mut GlobalAveragePooling1D::new(),
        &[vec![3, 5, 4]],
        81,
        false,
    );
    check(
        "GlobalMaxPooling1D",
        &mut GlobalMaxPooling1D::new(),
        &[vec![3, 5, 4]],
        82,
        false,
    );
    check("Flatten", &mut Flatten::new(), &[vec![3, 5, 4]], 83, false);
    check(
        "TimeDistributed(Dense)",
        &mut TimeDistributed::new(Dense::new(3).activation(Activation::Tanh)),
        &[vec![2, 5, 4]],
        84,
        false,
    );
    check(
        "Concatenate(-1)",
        &mut Concatenate::new(-1),
        &[vec![2, 5, 4], vec![2, 5, 2], vec![2, 5, 1]],
        85,
        false,
    );
    check(
        "Concatenate(1)",
        &mut Concatenate::new(1),
        &[vec![2, 5, 4], vec![2, 3, 4]],
        86,
        false,
    );
    check(
        "Add",
        &mut Add::new(),
        &[vec![2, 5, 4], vec![2, 5, 4], vec![2, 5, 4]],
        87,
        false,
    );
}

fn data(n: usize, t: usize, f: usize, out: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = lstmkit::rng::Rng::new(seed);
    let x = Tensor::new(
        &[n, t, f],
        (0..n * t * f).map(|_| rng.normal() as f32 * 0.7).collect(),
    )
    .unwrap();
    let y = Tensor::new(
        &[n, out],
        (0..n * out).map(|_| rng.normal() as f32).collect(),
    )
    .unwrap();
    (x, y)
}

#[test]
fn graph_with_a_node_used_twice() {
    // the seed's m4: LSTM → Attention([h, h]) → GlobalAveragePooling1D → Dense(1)
    let (x, y) = data(3, 6, 2, 1, 5);
    let mut g = Graph::new(&[6, 2]);
    let i = g.input();
    let h = g.add_named("h", LSTM::new(5).return_sequences(true), &[i]);
    let a = g.add(Attention::new(), &[h, h]);
    let p = g.add(GlobalAveragePooling1D::new(), &[a]);
    let o = g.add(Dense::new(1), &[p]);
    let mut m = g.build(o, 3).unwrap();
    assert_pass(
        "LSTM → Attention([h, h]) → GAP → Dense",
        check_model(&mut m, &x, &y, Loss::Mse, Tolerance::default()).unwrap(),
    );
    // a residual-style graph: input used by two branches, merged by Add and Concatenate
    let mut g = Graph::new(&[6, 2]);
    let i = g.input();
    let a = g.add(GRU::new(4).return_sequences(true), &[i]);
    let b = g.add(
        Bidirectional::new(LSTM::new(2).return_sequences(true), MergeMode::Concat),
        &[i],
    );
    let s = g.add(Add::new(), &[a, b]);
    let n = g.add(LayerNormalization::new(), &[s]);
    let c = g.add(Concatenate::new(-1), &[n, a, i]);
    let td = g.add(TimeDistributed::new(Dense::new(2)), &[c]);
    let f = g.add(Flatten::new(), &[td]);
    let bn = g.add(BatchNormalization::new(), &[f]);
    let o = g.add(Dense::new(1), &[bn]);
    let mut m = g.build(o, 4).unwrap();
    // move BN's moving statistics away from the identity so inference is non-trivial
    m.forward(&x, true).unwrap();
    assert_pass(
        "GRU + BiLSTM → Add → LN → Concatenate → TD(Dense) → Flatten → BN → Dense",
        check_model(&mut m, &x, &y, Loss::Mse, Tolerance::default()).unwrap(),
    );
    let s = m.summary();
    assert!(s.contains("Connected to"), "{s}");
    assert!(s.contains("add (Add)"), "{s}");
}

#[test]
fn shape_errors_name_both_layers_and_shapes() {
    // Add of (None, 6, 4) and (None, 6, 3)
    let mut g = Graph::new(&[6, 2]);
    let i = g.input();
    let a = g.add_named("left", GRU::new(4).return_sequences(true), &[i]);
    let b = g.add_named("right", LSTM::new(3).return_sequences(true), &[i]);
    let s = g.add_named("sum", Add::new(), &[a, b]);
    let e = g.build(s, 1).err().expect("must fail").to_string();
    for want in ["'sum'", "'left'", "'right'", "(None, 6, 4)", "(None, 6, 3)"] {
        assert!(e.contains(want), "missing {want}: {e}");
    }
    // Attention on a 2-D tensor: the previous layer forgot return_sequences
    let mut g = Graph::new(&[6, 2]);
    let i = g.input();
    let h = g.add_named("h", LSTM::new(4), &[i]);
    let a = g.add_named("att", Attention::new(), &[h, h]);
    let e = g.build(a, 1).err().expect("must fail").to_string();
    for want in ["'att'", "'h'", "(None, 4)"] {
        assert!(e.contains(want), "missing {want}: {e}");
    }
    // GlobalAveragePooling1D after an LSTM without return_sequences
    let e = Sequential::new(&[6, 2])
        .add(LSTM::new(4))
        .add(GlobalAveragePooling1D::new())
        .build(1)
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        e.contains("global_average_pooling1d")
            && e.contains("'lstm'")
            && e.contains("(None, 4)")
            && e.contains("return_sequences"),
        "{e}"
    );
}
