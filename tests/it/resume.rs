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

/// 10 epochs, save to a native file, load, 10 more epochs: the same bits as
/// 20 epochs straight (weights, optimiser moments and step count, dropout
/// streams, history).
#[test]
fn save_load_resume_is_bit_identical() {
    use lstmkit::io::native::{self, Extras};
    let (x, y) = data();
    let build = || {
        let mut m = Sequential::new(&[6, 1])
            .add(
                LSTM::new(5)
                    .dropout(0.2)
                    .recurrent_dropout(0.1)
                    .return_sequences(true),
            )
            .add(LSTM::new(4))
            .add(Dense::new(1))
            .build(9)
            .unwrap();
        m.compile(Optimizer::adam(1e-2).clipnorm(1.0).unwrap(), Loss::Mse);
        m
    };
    let mut straight = build();
    let hs = straight.fit(&x, &y, &opts().epochs(20)).unwrap();

    let mut first = build();
    let h1 = first.fit(&x, &y, &opts().epochs(10)).unwrap();
    let dir = crate::common::tmp_root().join(format!("lstmkit-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.lstmkit");
    let extras = Extras {
        history: Some(serde_json::to_value(&h1).unwrap()),
        train: Some(serde_json::json!({"epochs_done": 10})),
        ..Extras::default()
    };
    native::save(&first, &path, &extras).unwrap();
    drop(first);

    let (mut resumed, ex) = native::load(&path).unwrap();
    let done = ex.train.unwrap()["epochs_done"].as_u64().unwrap() as usize;
    let mut history: lstmkit::train::History = serde_json::from_value(ex.history.unwrap()).unwrap();
    let h2 = resumed
        .fit(&x, &y, &opts().epochs(20).initial_epoch(done))
        .unwrap();
    assert_eq!(resumed.get_weights(), straight.get_weights());
    assert_eq!(resumed.optimizer(), straight.optimizer());
    assert_eq!(resumed.optimizer().unwrap().iterations, 20 * 4);
    history.loss.extend(&h2.loss);
    history.val_loss.extend(&h2.val_loss);
    assert_eq!(history.loss, hs.loss);
    assert_eq!(history.val_loss, hs.val_loss);
    std::fs::remove_dir_all(&dir).unwrap();
}
