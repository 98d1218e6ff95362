//! Resuming training: 10 epochs + resume + 10 epochs gives the same bits as 20 epochs.

use lstmkit::model::Sequential;
use lstmkit::nn::{Dense, LSTM};
use lstmkit::rng::Rng;
use lstmkit::train::{FitOptions, Loss, Optimizer};
use lstmkit::{Model, Tensor};

fn data() -> (Tensor, Tensor) {
    let mut r = Rng::new(11);
    let n = 37;
    let x: Vec<f32> = (0..n * 6).map(|_| r.uniform(0.0, 1.0) as f32).collect();
    let y: Vec<f32> = (0..n)
        .map(|i| x[i * 6..i * 6 + 6].iter().sum::<f32>() / 6.0)
        .collect();
    (
        Tensor::new(&[n, 6, 1], x).unwrap(),
        Tensor::new(&[n, 1], y).unwrap(),
    )
}

fn model() -> Model {
    let mut m = Sequential::new(&[6, 1])
        .add(LSTM::new(5))
        .add(Dense::new(1))
        .build(3)
        .unwrap();
    m.compile(Optimizer::adam(1e-2), Loss::Mse);
    m
}

fn opts() -> FitOptions {
    FitOptions::new()
        .batch_size(8)
        .seed(4)
        .validation_split(0.2)
        .verbose(0)
}

#[test]
fn fit_in_two_parts_equals_fit_straight() {
    let (x, y) = data();
    let mut straight = model();
    let hs = straight.fit(&x, &y, &opts().epochs(20)).unwrap();
    let mut parts = model();
    let h1 = parts.fit(&x, &y, &opts().epochs(10)).unwrap();
    let h2 = parts
        .fit(&x, &y, &opts().epochs(20).initial_epoch(10))
        .unwrap();
    assert_eq!(parts.get_weights(), straight.get_weights());
    assert_eq!(parts.optimizer(), straight.optimizer());
    let mut loss = h1.loss.clone();
    loss.extend(&h2.loss);
    assert_eq!(loss, hs.loss);
}
