//! Numerical parity with Keras 3 for the layers beyond LSTM/Dense: the models of
//! fixtures d (Bidirectional), e (Attention + GlobalAveragePooling1D), f (GRU) and
//! g (Dropout + BatchNormalization + Dense(4)) are built with the library API,
//! given the weights of `weights.json` in `get_weights()` order, and must
//! reproduce Keras' `y` to 1e-5. (Loading the same cases from `model.keras` and
//! `model.h5` is in `keras_parity.rs`.) Skips with a message when the fixtures
//! are absent.

use lstmkit::model::{Graph, Model, Sequential};
use lstmkit::nn::{
    Attention, BatchNormalization, Bidirectional, Dense, Dropout, GlobalAveragePooling1D,
    MergeMode, GRU, LSTM,
};
use lstmkit::Tensor;
use std::path::PathBuf;

fn fixtures() -> Option<PathBuf> {
    let candidates = [
        std::env::var("LSTMKIT_FIXTURES").ok().map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/keras")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_dir())
}

fn json_tensor(v: &serde_json::Value) -> Tensor {
    let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
    let data: Vec<f32> = serde_json::from_value(v["data"].clone()).unwrap();
    Tensor::new(&shape, data).unwrap()
}

fn load(dir: &std::path::Path, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The case's weights in Keras' `get_weights()` order.
fn weights(dir: &std::path::Path) -> Vec<Tensor> {
    let w = load(dir, "weights.json");
    let mut all: Vec<(u64, Tensor)> = Vec::new();
    for (_, vars) in w.as_object().unwrap() {
        for (_, v) in vars.as_object().unwrap() {
            all.push((v["index"].as_u64().unwrap(), json_tensor(v)));
        }
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

fn run_case(case: &str, mut model: Model) {
    let Some(root) = fixtures() else {
        println!("skipped {case}: Keras fixtures not found (set LSTMKIT_FIXTURES)");
        return;
    };
    let dir = root.join(case);
    model.set_weights(&weights(&dir)).unwrap();
    let x = json_tensor(&load(&dir, "x.json"));
    let y = json_tensor(&load(&dir, "y.json"));
    let p = model.predict_batched(&x, 64).unwrap();
    let d = p.max_abs_diff(&y);
    println!("{case}: max |Δ| = {d:.3e}");
    assert!(d <= 1e-5, "{case}: max |Δ| = {d}");
}

#[test]
fn d_bidirectional_lstm() {
    let m = Sequential::new(&[10, 1])
        .add(Bidirectional::new(LSTM::new(8), MergeMode::Concat))
        .add(Dense::new(1))
        .build(1)
        .unwrap();
    run_case("d_bilstm_concat", m);
}

#[test]
fn e_lstm_attention_pooling() {
    let mut g = Graph::new(&[10, 1]);
    let x = g.input();
    let h = g.add(LSTM::new(8).return_sequences(true), &[x]);
    let a = g.add(Attention::new(), &[h, h]);
    let p = g.add(GlobalAveragePooling1D::new(), &[a]);
    let y = g.add(Dense::new(1), &[p]);
    run_case("e_lstm_attention", g.build(y, 1).unwrap());
}

#[test]
fn f_gru() {
    let m = Sequential::new(&[10, 1])
        .add(GRU::new(8))
        .add(Dense::new(1))
        .build(1)
        .unwrap();
    run_case("f_gru", m);
}

#[test]
fn g_dropout_batchnorm_dense4() {
    let m = Sequential::new(&[10, 1])
        .add(LSTM::new(8))
        .add(Dropout::new(0.2))
        .add(BatchNormalization::new())
        .add(Dense::new(4))
        .build(1)
        .unwrap();
    run_case("g_lstm_dropout_bn_dense4", m);
}
