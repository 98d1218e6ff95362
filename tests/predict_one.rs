//! The single-window fast path: same numbers as `predict`.

use lstmkit::model::Sequential;
use lstmkit::nn::{Activation, Dense, LSTM};
use lstmkit::Tensor;

#[test]
fn predict_one_matches_predict() {
    // the m1 benchmark model and a stacked one
    for (mut m, t, f) in [
        (
            Sequential::new(&[10, 1])
                .add(LSTM::new(50).activation(Activation::Relu))
                .add(Dense::new(1))
                .build(42)
                .unwrap(),
            10,
            1,
        ),
        (
            Sequential::new(&[10, 3])
                .add(LSTM::new(16).return_sequences(true))
                .add(LSTM::new(8))
                .add(Dense::new(4).activation(Activation::Tanh))
                .add(Dense::new(2))
                .build(1)
                .unwrap(),
            10,
            3,
        ),
    ] {
        let windows: Vec<Vec<f32>> = (0..5)
            .map(|k| {
                (0..t * f)
                    .map(|i| ((i + 7 * k) as f32 * 0.13).sin())
                    .collect()
            })
            .collect();
        for w in &windows {
            let one = m.predict_one(w).unwrap().to_vec();
            let batch = m
                .predict(&Tensor::new(&[1, t, f], w.clone()).unwrap())
                .unwrap();
            assert_eq!(one, batch.data);
        }
    }
}

#[test]
fn predict_one_checks_the_window_size() {
    let mut m = Sequential::new(&[4, 2]).add(LSTM::new(3)).build(1).unwrap();
    let e = m.predict_one(&[0.0; 7]).unwrap_err().to_string();
    assert!(e.contains("8") && e.contains("7"), "{e}");
    assert!(m.predict_one(&[f32::NAN; 8]).is_err());
    // open timesteps: any whole number of rows
    let mut open = Sequential::new(&[0, 2]).add(LSTM::new(3)).build(1).unwrap();
    assert_eq!(open.predict_one(&[0.1; 6]).unwrap().len(), 3);
    assert_eq!(open.predict_one(&[0.1; 10]).unwrap().len(), 3);
    assert!(open.predict_one(&[0.1; 5]).is_err());
}
