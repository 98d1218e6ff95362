//! Truncated BPTT learns a dependency longer than its chunk (carried by the
//! state), which a windowed, non-stateful model cannot see.

use lstmkit::model::Sequential;
use lstmkit::nn::{Dense, LSTM};
use lstmkit::rng::Rng;
use lstmkit::train::tbptt::{fit_tbptt, predict_sequence, Tbptt};
use lstmkit::train::{Loss, Optimizer};
use lstmkit::Tensor;

const K1: usize = 20;
const K2: usize = 10;

/// Streams of sparse events: channel 0 marks a "+1" event, channel 1 a "−1"
/// event; the target at each step is the sign of the latest event (0 before
/// the first). Also returns, per step, how long ago the latest event was.
fn events(streams: usize, t: usize, seed: u64) -> (Tensor, Tensor, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut x = vec![0.0f32; streams * t * 2];
    let mut y = vec![0.0f32; streams * t];
    let mut age = vec![usize::MAX; streams * t];
    for b in 0..streams {
        let (mut last, mut since) = (0.0f32, usize::MAX);
        for s in 0..t {
            if rng.below(60) == 0 {
                let pos = rng.below(2) == 0;
                x[(b * t + s) * 2 + usize::from(!pos)] = 1.0;
                last = if pos { 1.0 } else { -1.0 };
                since = 0;
            } else if since != usize::MAX {
                since += 1;
            }
            y[b * t + s] = last;
            age[b * t + s] = since;
        }
    }
    (
        Tensor::new(&[streams, t, 2], x).unwrap(),
        Tensor::new(&[streams, t, 1], y).unwrap(),
        age,
    )
}

/// Mean squared error over the steps whose latest event is at least `min_age` steps back.
fn far_mse(pred: &[f32], y: &[f32], age: &[usize], min_age: usize) -> (f32, usize) {
    let mut s = 0.0f64;
    let mut n = 0;
    for i in 0..y.len() {
        if age[i] != usize::MAX && age[i] >= min_age {
            s += ((pred[i] - y[i]) as f64).powi(2);
            n += 1;
        }
    }
    ((s / n as f64) as f32, n)
}

#[test]
fn tbptt_learns_what_the_window_cannot_see() {
    let t = 10_000;
    let (x, y, _) = events(4, t, 1);
    let mut model = Sequential::new(&[0, 2])
        .add(LSTM::new(8).stateful(true).return_sequences(true))
        .add(Dense::new(1))
        .build(7)
        .unwrap();
    model.compile(Optimizer::adam(1e-2), Loss::Mse);
    let cfg = Tbptt {
        k1: K1,
        k2: K2,
        epochs: 6,
    };
    let t0 = std::time::Instant::now();
    let rep = fit_tbptt(&mut model, &x, &y, &cfg).unwrap();
    println!("TBPTT losses {:?} in {:?}", rep.epoch_losses, t0.elapsed());
    assert_eq!(rep.chunks_per_epoch, t / K1);

    // fresh test streams: targets that depend on an event ≥ 2·k1 steps back
    let (xt, yt, age) = events(4, 4000, 99);
    let pred = predict_sequence(&mut model, &xt, 100).unwrap();
    let (mse_state, n) = far_mse(&pred.data, &yt.data, &age, 2 * K1);
    assert!(n > 1000, "{n} far steps");

    // a non-stateful model on windows of k1 steps, trained on the same data
    let mut win = Sequential::new(&[K1, 2])
        .add(LSTM::new(8))
        .add(Dense::new(1))
        .build(7)
        .unwrap();
    win.compile(Optimizer::adam(1e-2), Loss::Mse);
    let mut rng = Rng::new(5);
    let bs = 32;
    let (mut xb, mut yb) = (vec![0.0f32; bs * K1 * 2], vec![0.0f32; bs]);
    for _ in 0..600 {
        for k in 0..bs {
            let b = rng.below(4) as usize;
            let end = K1 + rng.below((t - K1) as u64) as usize; // window [end-K1, end)
            xb[k * K1 * 2..(k + 1) * K1 * 2]
                .copy_from_slice(&x.data[(b * t + end - K1) * 2..(b * t + end) * 2]);
            yb[k] = y.data[b * t + end - 1];
        }
        win.train_on_batch(
            &Tensor::new(&[bs, K1, 2], xb.clone()).unwrap(),
            &Tensor::new(&[bs, 1], yb.clone()).unwrap(),
        )
        .unwrap();
    }
    let tt = 4000;
    let mut wx = Vec::new();
    let mut idx = Vec::new();
    for b in 0..4 {
        for end in K1..=tt {
            wx.extend_from_slice(&xt.data[(b * tt + end - K1) * 2..(b * tt + end) * 2]);
            idx.push(b * tt + end - 1);
        }
    }
    let wp = win
        .predict(&Tensor::new(&[idx.len(), K1, 2], wx).unwrap())
        .unwrap();
    let wy: Vec<f32> = idx.iter().map(|&i| yt.data[i]).collect();
    let wage: Vec<usize> = idx.iter().map(|&i| age[i]).collect();
    let (mse_win, _) = far_mse(&wp.data, &wy, &wage, 2 * K1);
    println!(
        "far-dependency MSE: stateful TBPTT {mse_state:.4}, windowed {mse_win:.4} ({n} steps)"
    );
    assert!(mse_state < 0.1, "stateful TBPTT MSE {mse_state}");
    assert!(mse_win > 0.5, "windowed MSE {mse_win}");
}

#[test]
fn tbptt_checks_its_inputs() {
    let x = Tensor::zeros(&[1, 50, 1]);
    let y = Tensor::zeros(&[1, 50, 1]);
    let mut plain = Sequential::new(&[0, 1])
        .add(LSTM::new(2).return_sequences(true))
        .build(1)
        .unwrap();
    plain.compile(Optimizer::sgd(0.1, 0.0, false), Loss::Mse);
    let cfg = Tbptt {
        k1: 10,
        k2: 5,
        epochs: 1,
    };
    let e = fit_tbptt(&mut plain, &x, &y, &cfg).unwrap_err().to_string();
    assert!(e.contains("stateful"), "{e}");
    let mut last_only = Sequential::new(&[0, 1])
        .add(LSTM::new(2).stateful(true))
        .build(1)
        .unwrap();
    last_only.compile(Optimizer::sgd(0.1, 0.0, false), Loss::Mse);
    let e = fit_tbptt(&mut last_only, &x, &y, &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("return_sequences"), "{e}");
    let mut fixed = Sequential::new(&[5, 1])
        .add(LSTM::new(2).stateful(true).return_sequences(true))
        .add(Dense::new(1))
        .build(1)
        .unwrap();
    fixed.compile(Optimizer::sgd(0.1, 0.0, false), Loss::Mse);
    let bad = Tbptt {
        k1: 10,
        k2: 4,
        epochs: 1,
    };
    assert!(fit_tbptt(&mut fixed, &x, &y, &bad).is_err());
    let bad = Tbptt {
        k1: 3,
        k2: 4,
        epochs: 1,
    };
    assert!(fit_tbptt(&mut fixed, &x, &y, &bad).is_err());
    // a fixed-length model: k2 = its timesteps, k1 a multiple; the tail is reported
    let x = Tensor::zeros(&[1, 52, 1]);
    let y = Tensor::zeros(&[1, 52, 1]);
    let rep = fit_tbptt(&mut fixed, &x, &y, &cfg).unwrap();
    assert_eq!((rep.chunks_per_epoch, rep.unused_tail), (5, 2));
    let mut nan = x.clone();
    nan.data[3] = f32::NAN;
    assert!(fit_tbptt(&mut fixed, &nan, &y, &cfg).is_err());
}
