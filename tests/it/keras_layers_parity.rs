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

/// A Keras model using every registered layer class with non-default options
/// (see `tests/data/make_layer_models.py`), from both file formats.
#[test]
fn layers_mix_from_keras_and_h5() {
    use lstmkit::io::{load_model, npy};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let x = npy::read(dir.join("layers_mix_x.npy")).unwrap();
    let y = npy::read(dir.join("layers_mix_y.npy")).unwrap();
    for f in ["layers_mix.keras", "layers_mix.h5"] {
        let mut m = load_model(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let p = m.predict(&x).unwrap();
        let d = p.max_abs_diff(&y);
        println!("{f}: max |Δ| = {d:.3e}");
        assert!(d <= 1e-5, "{f}: max |Δ| = {d}");
        // the attention layer's call arguments were read
        let att = m.layer("att").unwrap().config();
        assert_eq!(att["use_causal_mask"], true);
        assert_eq!(att["score_mode"], "concat");
        // write the config, read it back: same predictions
        let cfg = m.to_keras_config();
        let node = cfg["config"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "att")
            .unwrap();
        assert_eq!(node["inbound_nodes"][0]["kwargs"]["use_causal_mask"], true);
        assert!(node["config"].get("use_causal_mask").is_none());
        let mut m2 = Model::from_keras_config(&cfg, 1).unwrap();
        m2.set_weights(&m.get_weights()).unwrap();
        assert_eq!(m2.predict(&x).unwrap(), p);
    }
}

/// Every layer's `config()` reads back through the registry to the same config.
#[test]
fn layer_configs_round_trip_through_the_registry() {
    use lstmkit::io::registry::layer_from_config;
    use lstmkit::nn::{
        Add, Concatenate, Flatten, GlobalMaxPooling1D, Layer, LayerNormalization, ScoreMode,
        TimeDistributed,
    };
    use lstmkit::train::Regularizer;
    let layers: Vec<Box<dyn Layer>> = vec![
        Box::new(
            GRU::new(5)
                .reset_after(false)
                .dropout(0.1)
                .recurrent_dropout(0.2)
                .return_sequences(true)
                .go_backwards(true)
                .kernel_regularizer(Regularizer::l2(0.01)),
        ),
        Box::new(GRU::new(3).return_state(true).use_bias(false)),
        Box::new(LSTM::new(4).dropout(0.25).recurrent_dropout(0.5)),
        Box::new(Bidirectional::new(
            LSTM::new(4).return_sequences(true),
            MergeMode::Ave,
        )),
        Box::new(Bidirectional::new(GRU::new(2), MergeMode::None)),
        Box::new(Bidirectional::new(LSTM::new(3), MergeMode::Mul)),
        Box::new(
            Attention::new()
                .use_scale(true)
                .score_mode(ScoreMode::Concat)
                .dropout(0.1)
                .use_causal_mask(true)
                .return_attention_scores(true),
        ),
        Box::new(Dropout::new(0.3).noise_shape(vec![None, Some(1), None])),
        Box::new(
            BatchNormalization::new()
                .momentum(0.9)
                .epsilon(1e-2)
                .center(false),
        ),
        Box::new(LayerNormalization::new().epsilon(1e-5).scale(false)),
        Box::new(GlobalAveragePooling1D::new()),
        Box::new(GlobalMaxPooling1D::new()),
        Box::new(Flatten::new()),
        Box::new(TimeDistributed::new(Dense::new(3))),
        Box::new(Concatenate::new(1)),
        Box::new(Add::new()),
    ];
    for l in layers {
        let c = l.config();
        let back = layer_from_config(l.class_name(), &c)
            .unwrap_or_else(|e| panic!("{}: {e}\n{c}", l.class_name()));
        assert_eq!(back.class_name(), l.class_name());
        assert_eq!(back.config(), c, "{}", l.class_name());
        assert_eq!(back.num_outputs(), l.num_outputs());
    }
}

/// Keras' config for each class reads (fixture configs) and bad options are named.
#[test]
fn registry_errors_name_layer_and_option() {
    use lstmkit::io::registry::layer_from_config;
    let e = |class: &str, v: serde_json::Value| {
        layer_from_config(class, &v)
            .err()
            .expect("must fail")
            .to_string()
    };
    let m = e(
        "Bidirectional",
        serde_json::json!({"name": "bi", "merge_mode": "max",
        "layer": {"class_name": "LSTM", "config": {"units": 3}}}),
    );
    assert!(
        m.contains("'bi'") && m.contains("merge_mode") && m.contains("max"),
        "{m}"
    );
    let m = e(
        "Bidirectional",
        serde_json::json!({"name": "bi2",
        "layer": {"class_name": "Dense", "config": {"units": 3}}}),
    );
    assert!(m.contains("'bi2'") && m.contains("Dense"), "{m}");
    let m = e(
        "Attention",
        serde_json::json!({"name": "att", "score_mode": "general"}),
    );
    assert!(m.contains("'att'") && m.contains("score_mode"), "{m}");
    let m = e(
        "BatchNormalization",
        serde_json::json!({"name": "bn", "axis": 1}),
    );
    assert!(m.contains("'bn'") && m.contains("axis"), "{m}");
    let m = e(
        "BatchNormalization",
        serde_json::json!({"name": "bn", "renorm": true}),
    );
    assert!(m.contains("renorm"), "{m}");
    let m = e("Dropout", serde_json::json!({"name": "dr", "rate": 1.5}));
    assert!(m.contains("'dr'") && m.contains("rate"), "{m}");
    let m = e(
        "GlobalAveragePooling1D",
        serde_json::json!({"name": "p", "keepdims": true}),
    );
    assert!(m.contains("keepdims"), "{m}");
    let m = e(
        "GRU",
        serde_json::json!({"name": "g", "units": 3, "recurrent_activation": "swish"}),
    );
    assert!(
        m.contains("'g'") && m.contains("recurrent_activation"),
        "{m}"
    );
}

/// Every experiment-file layer type builds from a TOML table (Keras argument
/// names), and unknown keys name the layer and the key.
#[test]
fn experiment_tables_build_every_layer_type() {
    use lstmkit::nn::{layer_from_table, LAYERS};
    let text = r#"
        [gru]
        units = 8
        reset_after = false
        dropout = 0.1
        return_sequences = true
        [bidirectional]
        merge_mode = "none"
        layer = { type = "lstm", units = 50, recurrent_dropout = 0.2 }
        [attention]
        use_scale = true
        score_mode = "concat"
        use_causal_mask = true
        [dropout]
        rate = 0.2
        noise_shape = [0, 1, 0]
        [batch_normalization]
        momentum = 0.9
        [layer_normalization]
        epsilon = 1e-5
        [global_average_pooling1d]
        [global_max_pooling1d]
        [flatten]
        [time_distributed]
        layer = { type = "dense", units = 3, activation = "relu" }
        [concatenate]
        axis = -1
        [add]
        [lstm]
        units = 4
        [dense]
        units = 1
        [simple_rnn]
        units = 3
        activation = "relu"
        [conv1d]
        filters = 4
        kernel_size = 3
        padding = "causal"
        [max_pooling1d]
        pool_size = 2
        [average_pooling1d]
        pool_size = 2
        padding = "same"
    "#;
    let t: toml::Table = toml::from_str(text).unwrap();
    for (kind, class) in LAYERS.iter().map(|k| (k.kind, k.class)) {
        let args = serde_json::to_value(&t[kind]).unwrap();
        let args = args.as_object().unwrap();
        let l = layer_from_table(kind, args, "x").unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(l.class_name(), class);
    }
    let bi = serde_json::to_value(&t["bidirectional"]).unwrap();
    let l = layer_from_table("bidirectional", bi.as_object().unwrap(), "bi").unwrap();
    assert_eq!(l.config()["merge_mode"], serde_json::Value::Null);
    assert_eq!(
        l.config()["layer"]["config"]["recurrent_dropout"],
        0.2f32 as f64
    );
    let bad: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"units": 3, "unitz": 3}"#).unwrap();
    let e = layer_from_table("gru", &bad, "enc")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'enc'") && e.contains("unitz"), "{e}");
    let bad: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"layer": {"type": "lstm", "units": 3, "foo": 1}}"#).unwrap();
    let e = layer_from_table("bidirectional", &bad, "bi")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("bi/layer") && e.contains("foo"), "{e}");
    let e = layer_from_table("conv2d", &serde_json::Map::new(), "c")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("conv2d") && e.contains("conv1d") && e.contains("gru"),
        "{e}"
    );
}
