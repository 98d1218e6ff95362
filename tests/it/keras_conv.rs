//! Keras 3 parity of Conv1D, MaxPooling1D, AveragePooling1D (CNN-LSTM models)
//! and SimpleRNN: the files of `tests/data/make_conv_models.py` under
//! `tests/data/conv/` (`.keras` and `.h5`) must load and reproduce Keras' own
//! prediction to 1e-5 (times max |y| where that exceeds 1). Also: a Conv1D
//! model built here survives lstmkit → `.keras` → lstmkit unchanged.

use lstmkit::io::{keras_zip, load_model, npy};
use lstmkit::nn::conv1d::Padding;
use lstmkit::nn::{Activation, AveragePooling1D, Conv1D, Dense, MaxPooling1D, LSTM};
use lstmkit::{Sequential, Tensor};

use crate::common::{data, temp_dir};

/// Loads every file of the manifest's `group` and compares it with Keras' y;
/// returns how many files were checked.
fn check_group(group: &str) -> usize {
    let dir = data("conv");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut checked = 0;
    for m in manifest.as_array().unwrap() {
        if m["group"] != group {
            continue;
        }
        let x = npy::read(dir.join(m["x"].as_str().unwrap())).unwrap();
        let y = npy::read(dir.join(m["y"].as_str().unwrap())).unwrap();
        let scale = y.data.iter().fold(1f32, |a, v| a.max(v.abs()));
        for f in m["files"].as_array().unwrap() {
            let f = f.as_str().unwrap();
            let mut model = load_model(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            let p = model.predict(&x).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(p.shape, y.shape, "{f}");
            let d = p.max_abs_diff(&y);
            println!("{f}: max |Δ| = {d:.2e} (max |y| = {scale:.2})");
            assert!(d <= 1e-5 * scale, "{f}: max |Δ| = {d}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn conv_models_match_keras() {
    let n = check_group("conv");
    assert_eq!(n, 6, "conv files checked");
}

#[test]
fn simple_rnn_models_match_keras() {
    let n = check_group("simple_rnn");
    assert_eq!(n, 4, "SimpleRNN files checked");
}

/// Every Keras file of the conv group exported again by lstmkit reads back
/// with the same config, weights and predictions.
#[test]
fn conv_models_round_trip_through_keras_export() {
    let dir = temp_dir("conv-export");
    let mut built = Sequential::new(&[9, 2])
        .add(
            Conv1D::new(6, 3)
                .padding(Padding::Causal)
                .dilation_rate(2)
                .activation(Activation::Relu),
        )
        .add(AveragePooling1D::new(3).strides(1).padding(Padding::Same))
        .add(
            Conv1D::new(4, 2)
                .strides(2)
                .padding(Padding::Same)
                .use_bias(false),
        )
        .add(MaxPooling1D::new(2).padding(Padding::Same))
        .add(LSTM::new(3))
        .add(Dense::new(1))
        .build(3)
        .unwrap();
    let x = Tensor::new(
        &[3, 9, 2],
        (0..54)
            .map(|i| ((i * 13 % 19) as f32 - 9.0) / 5.0)
            .collect(),
    )
    .unwrap();
    let path = dir.join("built.keras");
    keras_zip::save(&built, &path).unwrap();
    let y = built.predict(&x).unwrap();
    let mut back = load_model(&path).unwrap();
    assert_eq!(back.to_keras_config(), built.to_keras_config());
    assert_eq!(back.get_weights(), built.get_weights());
    assert_eq!(back.predict(&x).unwrap(), y);
    // and Keras' own files, exported again
    for stem in ["conv_paddings", "conv_pool_options", "cnn_lstm"] {
        let mut m = load_model(data(&format!("conv/{stem}.keras"))).unwrap();
        let x = npy::read(data(&format!("conv/{stem}_x.npy"))).unwrap();
        let out = dir.join(format!("{stem}.keras"));
        keras_zip::save(&m, &out).unwrap();
        let mut back = load_model(&out).unwrap();
        assert_eq!(back.to_keras_config(), m.to_keras_config(), "{stem}");
        assert_eq!(back.get_weights(), m.get_weights(), "{stem}");
        assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap(), "{stem}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
