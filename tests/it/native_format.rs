//! The native model file: round trips (every layer type and optimiser, bit
//! for bit), corrupted / truncated / foreign files (errors, never panics) and
//! atomic saves (a kill during a save leaves the previous file intact).

use std::path::{Path, PathBuf};

use lstmkit::io::native::{self, Extras};
use lstmkit::model::{Graph, Sequential};
use lstmkit::nn::conv1d::Padding;
use lstmkit::nn::{
    Activation, Add, Attention, AveragePooling1D, BatchNormalization, Bidirectional, Concatenate,
    Conv1D, Dense, Dropout, Flatten, GlobalAveragePooling1D, GlobalMaxPooling1D,
    LayerNormalization, MaxPooling1D, MergeMode, SimpleRNN, TimeDistributed, GRU, LSTM,
};
use lstmkit::rng::Rng;
use lstmkit::train::{Loss, Optimizer, Regularizer};
use lstmkit::{Error, Model, Tensor};

fn tmp(name: &str) -> PathBuf {
    let d = crate::common::tmp_root().join(format!("lstmkit-native-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn rand(shape: &[usize], seed: u64) -> Tensor {
    let mut r = Rng::new(seed);
    let n = shape.iter().product();
    Tensor::new(shape, (0..n).map(|_| r.uniform(-1.0, 1.0) as f32).collect()).unwrap()
}

/// One model per layer type and option family on main, with its input shape.
fn cases() -> Vec<(&'static str, Model, Vec<usize>)> {
    let mut v = Vec::new();
    v.push((
        "lstm_relu_dense",
        Sequential::new(&[6, 2])
            .add(LSTM::new(5).activation(Activation::Relu))
            .add(Dense::new(1))
            .build(1)
            .unwrap(),
        vec![6, 2],
    ));
    v.push((
        "stacked_lstm_regularised_dense_activation",
        Sequential::new(&[5, 3])
            .add(
                LSTM::new(4)
                    .return_sequences(true)
                    .kernel_regularizer(Regularizer::l2(1e-3))
                    .recurrent_activation(Activation::HardSigmoid),
            )
            .add(LSTM::new(3).go_backwards(true).use_bias(false))
            .add(Dense::new(4).activation(Activation::Tanh))
            .add(Dense::new(2))
            .build(2)
            .unwrap(),
        vec![5, 3],
    ));
    v.push((
        "simple_rnn_dropout_bidirectional",
        Sequential::new(&[5, 2])
            .add(
                SimpleRNN::new(4)
                    .return_sequences(true)
                    .dropout(0.2)
                    .recurrent_dropout(0.1),
            )
            .add(Bidirectional::new(
                SimpleRNN::new(3).activation(Activation::Relu),
                MergeMode::Sum,
            ))
            .add(Dense::new(1))
            .build(9)
            .unwrap(),
        vec![5, 2],
    ));
    let mut g = Graph::new(&[0, 2]).name("encoder_decoder");
    let x = g.input();
    let enc = g.add_named("enc", LSTM::new(4).return_state(true), &[x]);
    let h = Graph::output_of(enc, 1);
    let c = Graph::output_of(enc, 2);
    let dec = g.add_named("dec", LSTM::new(4).return_sequences(true), &[x, h, c]);
    let y = g.add_named("head", Dense::new(1), &[dec]);
    v.push((
        "functional_initial_state_open_timesteps",
        g.build(y, 3).unwrap(),
        vec![4, 2],
    ));
    v.push((
        "gru_dropouts_layernorm_batchnorm",
        Sequential::new(&[5, 2])
            .add(
                GRU::new(4)
                    .return_sequences(true)
                    .dropout(0.2)
                    .recurrent_dropout(0.1),
            )
            .add(LayerNormalization::new())
            .add(GRU::new(3).reset_after(false))
            .add(BatchNormalization::new())
            .add(Dropout::new(0.3))
            .add(Dense::new(1))
            .build(5)
            .unwrap(),
        vec![5, 2],
    ));
    v.push((
        "bidirectional_timedistributed_pooling",
        Sequential::new(&[6, 2])
            .add(Bidirectional::new(
                LSTM::new(3).return_sequences(true).dropout(0.1),
                MergeMode::Concat,
            ))
            .add(Bidirectional::new(
                GRU::new(2).return_sequences(true),
                MergeMode::Sum,
            ))
            .add(TimeDistributed::new(Dense::new(3)))
            .add(GlobalMaxPooling1D::new())
            .add(Dense::new(1))
            .build(6)
            .unwrap(),
        vec![6, 2],
    ));
    let mut g = Graph::new(&[6, 2]).name("attention_model");
    let x = g.input();
    let q = g.add(LSTM::new(4).return_sequences(true), &[x]);
    let a = g.add(Attention::new().use_scale(true).dropout(0.1), &[q, q]);
    let s = g.add(Add::new(), &[q, a]);
    let c = g.add(Concatenate::new(-1), &[s, q]);
    let p1 = g.add(GlobalAveragePooling1D::new(), &[c]);
    let f = g.add(Flatten::new(), &[q]);
    let c2 = g.add(Concatenate::new(-1), &[p1, f]);
    let y = g.add(Dense::new(2), &[c2]);
    v.push((
        "attention_add_concat_flatten",
        g.build(y, 7).unwrap(),
        vec![6, 2],
    ));
    // after a statement, not among the first pushes (clippy::vec_init_then_push)
    v.push((
        "conv1d_pooling_lstm",
        Sequential::new(&[9, 2])
            .add(
                Conv1D::new(4, 3)
                    .padding(Padding::Causal)
                    .dilation_rate(2)
                    .activation(Activation::Relu),
            )
            .add(AveragePooling1D::new(2).strides(1).padding(Padding::Same))
            .add(
                Conv1D::new(3, 2)
                    .strides(2)
                    .padding(Padding::Same)
                    .use_bias(false),
            )
            .add(MaxPooling1D::new(2))
            .add(LSTM::new(3))
            .add(Dense::new(1))
            .build(11)
            .unwrap(),
        vec![9, 2],
    ));
    v.push((
        "stateful_gru",
        Sequential::new(&[4, 1])
            .add(GRU::new(3).stateful(true))
            .add(Dense::new(1))
            .build(8)
            .unwrap(),
        vec![4, 1],
    ));
    v.push((
        "stateful_lstm",
        Sequential::new(&[4, 1])
            .add(LSTM::new(3).stateful(true).return_sequences(true))
            .add(Dense::new(1))
            .build(4)
            .unwrap(),
        vec![4, 1],
    ));
    v
}

fn optimizers() -> Vec<(&'static str, Optimizer)> {
    vec![
        ("adam", Optimizer::adam(1e-2)),
        ("adamw", Optimizer::adamw(1e-2)),
        ("sgd_momentum", Optimizer::sgd(1e-2, 0.9, false)),
        (
            "sgd_nesterov_clip",
            Optimizer::sgd(1e-2, 0.9, true).clipnorm(1.0).unwrap(),
        ),
        ("rmsprop", Optimizer::rmsprop(1e-3)),
    ]
}

/// The per-sample output shape for an input of per-sample shape `shape`
/// (open timesteps take the input's).
fn out_shape(m: &Model, shape: &[usize]) -> Vec<usize> {
    let mut o = m.output_shape();
    if o.len() == 2 && o[0] == 0 {
        o[0] = shape[0];
    }
    o
}

fn train_a_bit(m: &mut Model, shape: &[usize], seed: u64) {
    let b = 3;
    let mut xs = vec![b];
    xs.extend_from_slice(shape);
    let mut ys = vec![b];
    ys.extend(out_shape(m, shape));
    for k in 0..3 {
        m.train_on_batch(&rand(&xs, seed + k), &rand(&ys, seed + 100 + k))
            .unwrap();
    }
}

#[test]
fn every_layer_and_optimizer_round_trips_bit_for_bit() {
    let covered: Vec<String> = cases()
        .iter()
        .flat_map(|(_, m, _)| {
            m.nodes()
                .iter()
                .map(|n| n.layer.class_name().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for class in lstmkit::nn::LAYERS.iter().map(|k| k.class) {
        assert!(
            covered.iter().any(|c| c == class),
            "layer class {class} has no native round-trip case in tests/native_format.rs: add one to cases()"
        );
    }
    for (oi, (oname, opt)) in optimizers().into_iter().enumerate() {
        for (ci, (cname, mut m, shape)) in cases().into_iter().enumerate() {
            // a layer class the registry cannot rebuild yet cannot be loaded back
            let missing: Vec<&str> = m
                .nodes()
                .iter()
                .map(|n| n.layer.class_name())
                .filter(|c| lstmkit::nn::kind_of_class(c).is_none())
                .collect();
            if !missing.is_empty() {
                if oi == 0 {
                    println!("skipped case {cname}: the layer registry lacks {missing:?}");
                }
                continue;
            }
            m.compile(opt.clone(), Loss::Huber { delta: 0.5 });
            train_a_bit(&mut m, &shape, (oi * 10 + ci) as u64);
            m.rng_mut().next_u64(); // a model stream that is not at its start
            let extras = Extras {
                data: Some(
                    serde_json::json!({"columns": ["a", "b"], "scaler": {"min": [0.5], "scale": [2.0]}}),
                ),
                history: Some(serde_json::json!({"loss": [0.5, 0.25]})),
                train: Some(serde_json::json!({"epochs_done": 2})),
                ..Default::default()
            };
            let p = tmp(&format!("{cname}-{oname}.lstmkit"));
            native::save(&m, &p, &extras).unwrap();
            let (mut back, ex) = native::load(&p).unwrap();
            let what = format!("{cname} with {oname}");
            assert_eq!(ex, extras, "{what}");
            assert_eq!(back.get_weights(), m.get_weights(), "{what}");
            assert_eq!(back.optimizer(), m.optimizer(), "{what}");
            assert!(back.optimizer().unwrap().iterations == 3, "{what}");
            assert_eq!(back.loss(), m.loss(), "{what}");
            assert_eq!(back.rng(), m.rng(), "{what}");
            assert_eq!(back.to_keras_config(), m.to_keras_config(), "{what}");
            for ((_, a), (_, b)) in back.params().iter().zip(m.params().iter()) {
                assert_eq!((a.trainable, &a.name), (b.trainable, &b.name), "{what}");
            }
            // predictions (and a stateful model's carried state) are bit-identical
            let mut xs = vec![3];
            xs.extend_from_slice(&shape);
            let x = rand(&xs, 77);
            assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap(), "{what}");
            assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap(), "{what}");
            // one more training step stays identical
            let mut ys = vec![3];
            ys.extend(out_shape(&m, &shape));
            let y = rand(&ys, 78);
            let la = m.train_on_batch(&x, &y).unwrap();
            let lb = back.train_on_batch(&x, &y).unwrap();
            assert_eq!(la.to_bits(), lb.to_bits(), "{what}");
            assert_eq!(back.get_weights(), m.get_weights(), "{what}");
            std::fs::remove_file(&p).unwrap();
        }
    }
}

#[test]
fn an_uncompiled_model_without_extras_round_trips() {
    let m = Sequential::new(&[3, 1])
        .add(LSTM::new(2))
        .add(Dense::new(1))
        .build(9)
        .unwrap();
    let p = tmp("plain.lstmkit");
    native::save(&m, &p, &Extras::default()).unwrap();
    let (back, ex) = native::load(&p).unwrap();
    assert!(back.optimizer().is_none() && back.loss().is_none());
    assert_eq!(ex, Extras::default());
    assert_eq!(back.get_weights(), m.get_weights());
    let man = native::read_manifest_file(&p).unwrap();
    assert_eq!(man.format, native::FORMAT);
    assert_eq!(man.format_version, native::FORMAT_VERSION);
    assert_eq!(man.library_version, env!("CARGO_PKG_VERSION"));
    assert!(man.entries.contains_key("weights.safetensors"));
}

fn saved_bytes() -> Vec<u8> {
    let (_, mut m, shape) = cases().remove(0);
    m.compile(Optimizer::adam(1e-2), Loss::Mse);
    train_a_bit(&mut m, &shape, 1);
    native::to_bytes(
        &m,
        &Extras {
            data: Some(serde_json::json!({"t": 6})),
            ..Extras::default()
        },
    )
    .unwrap()
}

fn format_msg(r: lstmkit::Result<(Model, Extras)>) -> String {
    match r {
        Err(Error::Format { msg, .. }) => msg,
        Err(e) => panic!("expected a format error, got {e}"),
        Ok(_) => panic!("a damaged file loaded"),
    }
}

#[test]
fn truncated_files_are_reported_as_truncated() {
    let bytes = saved_bytes();
    let n = bytes.len();
    for k in 0..16 {
        let cut = k * n / 16;
        let msg = format_msg(native::from_bytes(&bytes[..cut], Path::new("m.lstmkit")));
        if cut == 0 {
            assert!(msg.contains("empty"), "{msg}");
        } else {
            assert!(msg.contains("truncated"), "cut at {cut}/{n}: {msg}");
        }
    }
    // the same through the dispatching loader
    let p = tmp("cut.lstmkit");
    std::fs::write(&p, &bytes[..n / 2]).unwrap();
    let e = match lstmkit::io::load_model(&p) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a truncated file loaded"),
    };
    assert!(e.contains("truncated") && e.contains("cut.lstmkit"), "{e}");
}

#[test]
fn every_flipped_byte_is_caught() {
    let bytes = saved_bytes();
    let path = Path::new("m.lstmkit");
    assert!(native::from_bytes(&bytes, path).is_ok());
    let mut corrupt = 0;
    let step = (bytes.len() / 3000).max(1);
    for i in (0..bytes.len()).step_by(step) {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            let msg = format_msg(native::from_bytes(&b, path));
            if msg.contains("checksum") || msg.contains("corrupt") {
                corrupt += 1;
            }
        }
    }
    // flips inside the end record may read as truncation or a foreign file,
    // everywhere else the checksum names the corruption
    let tested = 2 * bytes.len().div_ceil(step);
    assert!(corrupt * 10 >= tested * 9, "{corrupt} of {tested}");
}

#[test]
fn foreign_files_are_named_as_such() {
    let path = Path::new("x.bin");
    for (bytes, want) in [
        (
            b"hello world, a text file".to_vec(),
            "not an lstmkit model file",
        ),
        (vec![0u8; 100], "not an lstmkit model file"),
        (Vec::new(), "empty"),
    ] {
        let msg = format_msg(native::from_bytes(&bytes, path));
        assert!(msg.contains(want), "{msg}");
    }
    // a Keras .keras archive is a zip, but not ours
    let k = std::fs::read("../shared/fixtures/keras/a_lstm_tanh/model.keras")
        .or_else(|_| std::fs::read("/work/shared/fixtures/keras/a_lstm_tanh/model.keras"));
    match k {
        Ok(k) => {
            let msg = format_msg(native::from_bytes(&k, path));
            assert!(
                msg.contains("not an lstmkit model file") && msg.contains("zip"),
                "{msg}"
            );
        }
        Err(_) => println!("skipped the .keras case: the shared fixtures are not present"),
    }
}

#[test]
fn load_model_dispatches_native_files_by_content() {
    let (_, mut m, shape) = cases().remove(1);
    m.compile(Optimizer::rmsprop(1e-3), Loss::Mse);
    train_a_bit(&mut m, &shape, 5);
    let p = tmp("any-extension.bin");
    native::save(&m, &p, &Extras::default()).unwrap();
    let mut back = lstmkit::io::load_model(&p).unwrap();
    let x = rand(&[2, 5, 3], 3);
    assert_eq!(back.predict(&x).unwrap(), m.predict(&x).unwrap());
    assert_eq!(back.optimizer(), m.optimizer());
}

/// Helper process for `a_kill_during_save_leaves_the_previous_file_intact`:
/// saves a large model to `LSTMKIT_SAVE_LOOP` over and over until killed.
#[test]
fn save_loop_helper() {
    let Ok(p) = std::env::var("LSTMKIT_SAVE_LOOP") else {
        return; // only runs as the child of the kill test
    };
    let m = Sequential::new(&[4, 2048])
        .add(LSTM::new(128))
        .add(Dense::new(1))
        .build(5)
        .unwrap();
    loop {
        native::save(&m, &p, &Extras::default()).unwrap();
    }
}

#[test]
fn a_kill_during_save_leaves_the_previous_file_intact() {
    let p = tmp("kill-test/killed.lstmkit");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let small = Sequential::new(&[3, 1])
        .add(LSTM::new(2))
        .add(Dense::new(1))
        .build(1)
        .unwrap();
    native::save(&small, &p, &Extras::default()).unwrap();
    let dir = p.parent().unwrap().to_path_buf();
    for _ in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                &crate::test_name!("save_loop_helper"),
                "--nocapture",
                "--test-threads=1",
            ])
            .env("LSTMKIT_SAVE_LOOP", &p)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // wait until a temporary file is being written, then kill the writer
        let t0 = std::time::Instant::now();
        let writing = loop {
            let writing = std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().contains(".tmp-"));
            if writing || t0.elapsed().as_secs() > 60 {
                break writing;
            }
        };
        child.kill().unwrap();
        assert!(writing, "the child process never started a save");
        child.wait().unwrap();
        // the file is a complete model: the old one or a completely written new one
        let (m, _) = native::load(&p).unwrap();
        assert!(m.count_params() > 0);
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().contains(".tmp-") {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
    }
}

#[test]
fn the_data_pipeline_travels_with_the_model() {
    use lstmkit::data::{prepare_frame, DataSpec, Frame};
    let series: Vec<f64> = (0..50)
        .map(|i| (i as f64 * 0.2).sin() * 3.0 + 7.0)
        .collect();
    let frame = Frame::from_columns("inline", vec![("y".to_string(), series)]).unwrap();
    let mut spec = DataSpec::new("inline", &["y"]);
    spec.timesteps = 4;
    spec.difference = 1;
    let p = prepare_frame(&spec, frame).unwrap();
    let m = Sequential::new(&[4, 1])
        .add(LSTM::new(2))
        .add(Dense::new(1))
        .build(1)
        .unwrap();
    let extras = Extras {
        data: Some(Extras::data_blob(Some(&spec), &p.pipeline)),
        ..Extras::default()
    };
    let path = tmp("with-data.lstmkit");
    native::save(&m, &path, &extras).unwrap();
    let (_, back) = native::load(&path).unwrap();
    assert_eq!(back.pipeline().unwrap().unwrap(), p.pipeline);
    assert_eq!(back.data_spec().unwrap().unwrap(), spec);
    assert_eq!(Extras::default().pipeline().unwrap(), None);
}
