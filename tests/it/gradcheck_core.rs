//! Finite-difference checks of the LSTM and Dense backward passes, losses,
//! regularisers and clipping through whole models.

use lstmkit::gradcheck::{check_layer, check_model, Tolerance};
use lstmkit::nn::{Activation, Dense, Layer, LSTM};
use lstmkit::train::{Loss, Regularizer};
use lstmkit::{Sequential, Tensor};

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

const ACTS: [Activation; 11] = [
    Activation::Tanh,
    Activation::Relu,
    Activation::Sigmoid,
    Activation::HardSigmoid,
    Activation::Linear,
    Activation::Elu,
    Activation::Selu,
    Activation::Softsign,
    Activation::Softplus,
    Activation::Swish,
    Activation::Gelu,
];

#[test]
fn lstm_every_activation_last_step_and_sequences() {
    for act in ACTS {
        for rs in [false, true] {
            let mut l = LSTM::new(5).activation(act).return_sequences(rs);
            let r = check_layer(&mut l, &[vec![3, 4, 2]], 11, false, Tolerance::default()).unwrap();
            assert_pass(&format!("LSTM act={act:?} return_sequences={rs}"), r);
        }
    }
}

#[test]
fn lstm_go_backwards_no_bias_hard_sigmoid_gates() {
    let mut l = LSTM::new(4).go_backwards(true).return_sequences(true);
    assert_pass(
        "go_backwards",
        check_layer(&mut l, &[vec![2, 5, 3]], 3, false, Tolerance::default()).unwrap(),
    );
    let mut l = LSTM::new(4).use_bias(false);
    assert_pass(
        "no bias",
        check_layer(&mut l, &[vec![2, 5, 3]], 4, false, Tolerance::default()).unwrap(),
    );
    let mut l = LSTM::new(4).recurrent_activation(Activation::HardSigmoid);
    assert_pass(
        "hard_sigmoid gates",
        check_layer(&mut l, &[vec![2, 5, 3]], 5, false, Tolerance::default()).unwrap(),
    );
}

#[test]
fn lstm_return_state_and_initial_state() {
    let mut l = LSTM::new(4).return_state(true).return_sequences(true);
    assert_pass(
        "return_state",
        check_layer(&mut l, &[vec![2, 5, 3]], 6, false, Tolerance::default()).unwrap(),
    );
    let mut l = LSTM::new(4);
    assert_pass(
        "initial state inputs",
        check_layer(
            &mut l,
            &[vec![2, 5, 3], vec![2, 4], vec![2, 4]],
            7,
            false,
            Tolerance::default(),
        )
        .unwrap(),
    );
}

#[test]
fn dense_activations_and_3d_input() {
    for act in ACTS {
        let mut d = Dense::new(3).activation(act);
        assert_pass(
            &format!("Dense {act:?}"),
            check_layer(&mut d, &[vec![4, 5]], 8, false, Tolerance::default()).unwrap(),
        );
    }
    let mut d = Dense::new(3).use_bias(false);
    assert_pass(
        "Dense 3-D",
        check_layer(&mut d, &[vec![2, 4, 5]], 9, false, Tolerance::default()).unwrap(),
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
fn stacked_model_each_loss_and_regularizer() {
    let (x, y) = data(4, 6, 3, 2, 1);
    for loss in [Loss::Mse, Loss::Mae, Loss::Huber { delta: 0.5 }] {
        let mut m = Sequential::new(&[6, 3])
            .add(
                LSTM::new(5)
                    .return_sequences(true)
                    .kernel_regularizer(Regularizer::l2(0.01))
                    .recurrent_regularizer(Regularizer::l1(0.01))
                    .bias_regularizer(Regularizer::l1_l2(0.01, 0.02)),
            )
            .add(LSTM::new(4).activation(Activation::Relu))
            .add(Dense::new(2).kernel_regularizer(Regularizer::l1_l2(0.003, 0.01)))
            .build(5)
            .unwrap();
        let r = check_model(&mut m, &x, &y, loss, Tolerance::default()).unwrap();
        assert_pass(&format!("stacked {loss:?}"), r);
    }
}

#[test]
fn stacked_lstm_without_return_sequences_is_a_clear_error() {
    let e = Sequential::new(&[6, 3])
        .add(LSTM::new(5))
        .add(LSTM::new(4))
        .build(1)
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        e.contains("lstm_1") && e.contains("'lstm'") && e.contains("return_sequences"),
        "{e}"
    );
}

#[test]
fn clipping_scales_gradients_as_keras() {
    use lstmkit::train::Optimizer;
    // with SGD(lr=1), clipnorm c, one step moves each variable by g·c/max(‖g‖, c)
    let (x, y) = data(4, 5, 2, 1, 2);
    let build = || {
        Sequential::new(&[5, 2])
            .add(LSTM::new(3))
            .add(Dense::new(1))
            .build(3)
            .unwrap()
    };
    let mut a = build();
    let before = a.get_weights();
    a.compile(Optimizer::sgd(1.0, 0.0, false), Loss::Mse);
    a.train_on_batch(&x, &y).unwrap();
    let raw: Vec<Vec<f32>> = before
        .iter()
        .zip(a.get_weights())
        .map(|(b, w)| b.data.iter().zip(&w.data).map(|(p, q)| p - q).collect())
        .collect();
    let mut b = build();
    b.compile(
        Optimizer::sgd(1.0, 0.0, false).clipnorm(0.05).unwrap(),
        Loss::Mse,
    );
    b.train_on_batch(&x, &y).unwrap();
    for ((g, w0), w1) in raw.iter().zip(&before).zip(b.get_weights()) {
        let n = g.iter().map(|v| v * v).sum::<f32>().sqrt();
        let s = 0.05 / n.max(0.05);
        for k in 0..g.len() {
            let moved = w0.data[k] - w1.data[k];
            assert!((moved - g[k] * s).abs() < 1e-6, "{moved} vs {}", g[k] * s);
        }
    }
}

#[test]
fn same_seed_same_bits() {
    let (x, y) = data(8, 5, 2, 1, 3);
    let run = || {
        let mut m = Sequential::new(&[5, 2])
            .add(LSTM::new(6))
            .add(Dense::new(1))
            .build(77)
            .unwrap();
        m.compile(lstmkit::train::Optimizer::adam(1e-2), Loss::Mse);
        for _ in 0..5 {
            m.train_on_batch(&x, &y).unwrap();
        }
        (m.get_weights(), m.predict(&x).unwrap())
    };
    let (w1, p1) = run();
    let (w2, p2) = run();
    for (a, b) in w1.iter().zip(&w2) {
        assert!(a
            .data
            .iter()
            .zip(&b.data)
            .all(|(p, q)| p.to_bits() == q.to_bits()));
    }
    assert!(p1
        .data
        .iter()
        .zip(&p2.data)
        .all(|(p, q)| p.to_bits() == q.to_bits()));
    let _ = Layer::class_name(&LSTM::new(1));
}

#[test]
fn batch_split_across_threads_keeps_gradients_and_outputs() {
    // 37 rows: the LSTM splits the batch into row blocks run on different threads
    let tol = Tolerance {
        max_per_tensor: 24,
        ..Default::default()
    };
    for (rs, gb, st) in [
        (false, false, false),
        (true, true, false),
        (true, false, true),
    ] {
        let mut l = LSTM::new(4)
            .return_sequences(rs)
            .go_backwards(gb)
            .return_state(st);
        assert_pass(
            &format!("sharded rs={rs} gb={gb} state={st}"),
            check_layer(&mut l, &[vec![37, 3, 2]], 21, false, tol).unwrap(),
        );
    }
    let mut l = LSTM::new(4);
    assert_pass(
        "sharded initial state",
        check_layer(
            &mut l,
            &[vec![37, 3, 2], vec![37, 4], vec![37, 4]],
            22,
            false,
            tol,
        )
        .unwrap(),
    );
    // the whole batch gives the same rows as one sample at a time
    let (x, _) = data(37, 6, 3, 1, 9);
    let mut m = Sequential::new(&[6, 3])
        .add(LSTM::new(7).return_sequences(true))
        .add(LSTM::new(5))
        .add(Dense::new(1))
        .build(4)
        .unwrap();
    let all = m.predict(&x).unwrap();
    for i in 0..37 {
        let xi = Tensor::new(&[1, 6, 3], x.data[i * 18..(i + 1) * 18].to_vec()).unwrap();
        let yi = m.predict(&xi).unwrap();
        assert!((yi.data[0] - all.data[i]).abs() < 1e-6, "row {i}");
    }
}

#[test]
fn quantile_loss_through_the_monotone_head_checks_end_to_end() {
    // 2 output steps x 3 levels: Dense(6) raw outputs, target [n, 2]
    let (x, y) = data(4, 6, 3, 2, 7);
    let loss = Loss::quantile(&[0.1, 0.5, 0.9]).unwrap();
    assert_eq!(loss.outputs_per_target(), 3);
    let mut m = Sequential::new(&[6, 3])
        .add(LSTM::new(5))
        .add(Dense::new(2 * loss.outputs_per_target()))
        .build(3)
        .unwrap();
    let r = check_model(&mut m, &x, &y, loss, Tolerance::default()).unwrap();
    assert_pass("quantile head", r);
    // a wrong output width is a shape error, not a panic
    let mut bad = Sequential::new(&[6, 3])
        .add(LSTM::new(5))
        .add(Dense::new(2))
        .build(3)
        .unwrap();
    assert!(check_model(&mut bad, &x, &y, loss, Tolerance::default()).is_err());
}
