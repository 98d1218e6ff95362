//! Export to Keras 3 `.keras`: our loader reads every export back exactly, and
//! (when the bench Python environment exists) Keras itself loads each export
//! and predicts the same numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{data, fixtures};
use lstmkit::io::{keras_zip, load_model, npy};
use lstmkit::model::Graph;
use lstmkit::nn::conv1d::Padding;
use lstmkit::nn::{Activation, AveragePooling1D, Conv1D, Dense, Initializer, MaxPooling1D, LSTM};
use lstmkit::train::regularizer::Regularizer;
use lstmkit::{Model, Sequential, Tensor};

const PYTHON: &str = "/root/.cache/lstmkit-bench/bin/python";

/// A model built here (not imported) using many options.
fn native_model() -> Model {
    let mut g = Graph::new(&[7, 2]).name("native");
    let x = g.input();
    let mut enc = LSTM::new(5)
        .return_state(true)
        .activation(Activation::Relu)
        .kernel_regularizer(Regularizer::l2(0.01));
    enc.weight_config.kernel_initializer = Initializer::HeUniform;
    let e = g.add_named("enc", enc, &[x]);
    let h = Graph::output_of(e, 1);
    let c = Graph::output_of(e, 2);
    let d = g.add_named(
        "dec",
        LSTM::new(5)
            .return_sequences(true)
            .go_backwards(true)
            .recurrent_activation(Activation::HardSigmoid),
        &[x, h, c],
    );
    let l = g.add(LSTM::new(3).use_bias(false), &[d]);
    let y = g.add(Dense::new(2).activation(Activation::Tanh), &[l]);
    g.build(y, 11).unwrap()
}

/// A CNN-LSTM built here: Conv1D and pooling options Keras must read back.
fn native_conv_model() -> Model {
    let conv = Conv1D::new(4, 3)
        .padding(Padding::Causal)
        .dilation_rate(2)
        .activation(Activation::Relu);
    Sequential::new(&[7, 2])
        .add(conv)
        .add(AveragePooling1D::new(2).strides(1).padding(Padding::Same))
        .add(
            Conv1D::new(3, 2)
                .strides(2)
                .padding(Padding::Same)
                .use_bias(false),
        )
        .add(MaxPooling1D::new(2).padding(Padding::Same))
        .add(LSTM::new(3))
        .add(Dense::new(1))
        .build(12)
        .unwrap()
}

/// (label, model, input) for every model we export.
fn models() -> Vec<(String, Model, Tensor)> {
    let mut v = Vec::new();
    let cases: &[&str] = if fixtures().is_some() {
        &[
            "a_lstm_tanh",
            "b_lstm_relu",
            "c_stacked_lstm",
            "d_bilstm_concat",
            "e_lstm_attention",
            "f_gru",
            "g_lstm_dropout_bn_dense4",
            "h_train_trajectory",
        ]
    } else {
        &[]
    };
    for case in cases {
        let dir = fixtures().expect("checked").join(case);
        let m = load_model(dir.join("model.keras")).unwrap_or_else(|e| panic!("{case}: {e}"));
        v.push((case.to_string(), m, npy::read(dir.join("x.npy")).unwrap()));
    }
    for stem in ["seq", "states", "layers_mix"] {
        let m = load_model(data(&format!("{stem}.keras"))).unwrap();
        v.push((
            stem.to_string(),
            m,
            npy::read(data(&format!("{stem}_x.npy"))).unwrap(),
        ));
    }
    // Conv1D, poolings and SimpleRNN (tests/data/make_conv_models.py)
    for stem in [
        "conv_paddings",
        "conv_pool_options",
        "cnn_lstm",
        "simple_rnn_options",
    ] {
        let m = load_model(data(&format!("conv/{stem}.keras"))).unwrap();
        let x = npy::read(data(&format!("conv/{stem}_x.npy"))).unwrap();
        v.push((stem.to_string(), m, x));
    }
    let x: Vec<f32> = (0..4 * 7 * 2)
        .map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0)
        .collect();
    v.push((
        "native".into(),
        native_model(),
        Tensor::new(&[4, 7, 2], x.clone()).unwrap(),
    ));
    v.push((
        "native_conv".into(),
        native_conv_model(),
        Tensor::new(&[4, 7, 2], x).unwrap(),
    ));
    v
}

fn tmpdir(ext: &str) -> PathBuf {
    let d = crate::common::tmp_root().join(format!("lstmkit-export-{ext}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn exports_reload_exactly_and_keras_agrees() {
    export_check("keras", |m, p| keras_zip::save(m, p));
}

/// Legacy `.h5` (`model.save('m.h5')`, the Python package's `save`): the same checks.
#[test]
fn h5_exports_reload_exactly_and_keras_agrees() {
    export_check("h5", |m, p| lstmkit::io::h5_legacy::save(m, p));
}

fn export_check(ext: &str, save: fn(&Model, &Path) -> lstmkit::Result<()>) {
    let dir = tmpdir(ext);
    let mut listed = Vec::new();
    for (label, mut m, x) in models() {
        let path = dir.join(format!("{label}.{ext}"));
        save(&m, &path).unwrap_or_else(|e| panic!("{label}: {e}"));
        let y = m.predict(&x).unwrap();
        // our own loader: same config, same weights, same predictions (bit for bit)
        let mut back = load_model(&path).unwrap();
        assert_eq!(back.to_keras_config(), m.to_keras_config(), "{label}");
        assert_eq!(back.get_weights(), m.get_weights(), "{label}");
        assert_eq!(back.predict(&x).unwrap(), y, "{label}");
        npy::write(dir.join(format!("{label}_x.npy")), &x).unwrap();
        npy::write(dir.join(format!("{label}_y.npy")), &y).unwrap();
        listed.push(label);
    }
    if !Path::new(PYTHON).exists() {
        println!(
            "SKIPPED the Keras check: {PYTHON} not found (the bench Python env is not installed)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        return;
    }
    let script = r#"
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
d, ext = sys.argv[1], sys.argv[2]
for label in sys.argv[3:]:
    m = keras.models.load_model(os.path.join(d, label + "." + ext))
    x = np.load(os.path.join(d, label + "_x.npy"))
    y = np.load(os.path.join(d, label + "_y.npy"))
    p = m.predict(x, verbose=0)
    print("RESULT", label, p.shape == y.shape, float(np.max(np.abs(p - y))))
"#;
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .arg(&dir)
        .arg(ext)
        .args(&listed)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Keras failed to load an export:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = 0;
    for line in stdout.lines().filter(|l| l.starts_with("RESULT ")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let d: f32 = f[3].parse().unwrap();
        println!("Keras on our export of {}: max |Δ| = {d:.3e}", f[1]);
        assert_eq!(f[2], "True", "{}: shape differs", f[1]);
        assert!(
            d <= 1e-5,
            "{}: Keras predicts {d:e} away from lstmkit",
            f[1]
        );
        seen += 1;
    }
    assert_eq!(seen, listed.len(), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}
