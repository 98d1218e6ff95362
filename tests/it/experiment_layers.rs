//! Every layer type is reachable from the experiment file (`[[layers]]` with
//! `type`, `name`, `inputs`): the seed's m3 and m4 example files, a graph using
//! every type, saved-spec round trips, and shape errors before training.

use lstmkit::experiment::{build_graph, Experiment, LayerSpec};
use lstmkit::Tensor;
use std::path::PathBuf;

fn example(name: &str) -> Experiment {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    Experiment::load(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn cnn_lstm_example_file_builds() {
    let e = example("cnn_lstm_co2.toml");
    let mut m = build_graph(&e.layers, &[10, 1], 1).unwrap();
    let classes: Vec<&str> = m.nodes().iter().map(|n| n.layer.class_name()).collect();
    assert_eq!(classes, ["Conv1D", "MaxPooling1D", "LSTM", "Dense"]);
    // causal keeps the 10 steps, the pooling halves them
    assert_eq!(m.nodes()[0].output_shapes[0], vec![10, 16]);
    assert_eq!(m.nodes()[1].output_shapes[0], vec![5, 16]);
    assert_eq!(
        m.count_params(),
        (3 * 16 + 16) + 4 * 32 * (16 + 32 + 1) + 33
    );
    assert_eq!(
        m.predict(&Tensor::zeros(&[3, 10, 1])).unwrap().shape,
        vec![3, 1]
    );
}

#[test]
fn m3_and_m4_example_files_build() {
    let e = example("m3_co2.toml");
    let mut m = build_graph(&e.layers, &[10, 1], 1).unwrap();
    assert_eq!(m.nodes()[0].layer.class_name(), "Bidirectional");
    assert_eq!(m.nodes()[0].output_shapes[0], vec![100]);
    assert_eq!(m.count_params(), 2 * (4 * 50 * (1 + 50 + 1)) + 101);
    assert_eq!(
        m.predict(&Tensor::zeros(&[3, 10, 1])).unwrap().shape,
        vec![3, 1]
    );

    let e = example("m4_co2.toml");
    let m = build_graph(&e.layers, &[10, 1], 1).unwrap();
    let classes: Vec<&str> = m.nodes().iter().map(|n| n.layer.class_name()).collect();
    assert_eq!(
        classes,
        ["LSTM", "Attention", "GlobalAveragePooling1D", "Dense"]
    );
    let s = m.summary();
    assert!(s.contains("Connected to"), "{s}");
    assert!(s.contains("h[0][0], h[0][0]"), "{s}");
    println!("{s}");
}

const EVERY_TYPE: &str = r#"
[data]
path = "x.csv"
target = "y"
timesteps = 6

[[layers]]
name = "g"
type = "gru"
units = 4
return_sequences = true
dropout = 0.1
reset_after = false

[[layers]]
name = "bi"
type = "bidirectional"
inputs = ["input"]
merge_mode = "sum"
layer = { type = "lstm", units = 4, return_sequences = true, recurrent_dropout = 0.1 }

[[layers]]
name = "td"
type = "time_distributed"
inputs = ["input"]
layer = { type = "dense", units = 4 }

[[layers]]
name = "att"
type = "attention"
inputs = ["g", "bi", "td"]
use_scale = true
use_causal_mask = true

[[layers]]
name = "drop"
type = "dropout"
rate = 0.2
noise_shape = [0, 1, 0]

[[layers]]
name = "ln"
type = "layer_normalization"

[[layers]]
name = "sum"
type = "add"
inputs = ["ln", "g"]

[[layers]]
name = "cat"
type = "concatenate"
inputs = ["sum", "bi"]

[[layers]]
name = "avg"
type = "global_average_pooling1d"

[[layers]]
name = "mx"
type = "global_max_pooling1d"
inputs = ["cat"]

[[layers]]
name = "fl"
type = "flatten"
inputs = ["cat"]

[[layers]]
name = "both"
type = "concatenate"
inputs = ["avg", "mx", "fl"]

[[layers]]
name = "bn"
type = "batch_normalization"
momentum = 0.9

[[layers]]
type = "lstm"
name = "unused_branch"
inputs = ["input"]
units = 2
dropout = 0.2

[[layers]]
type = "dense"
inputs = ["bn"]
units = 1
"#;

#[test]
fn every_layer_type_in_one_graph() {
    let e = Experiment::from_toml_str(EVERY_TYPE, "every.toml").unwrap();
    let mut m = build_graph(&e.layers, &[6, 2], 3).unwrap();
    assert_eq!(m.output_shape(), vec![1]);
    let x = Tensor::new(
        &[4, 6, 2],
        (0..48).map(|k| (k as f32 * 0.37).sin()).collect(),
    )
    .unwrap();
    let y = Tensor::zeros(&[4, 1]);
    m.compile(
        lstmkit::train::Optimizer::adam(1e-2),
        lstmkit::train::Loss::Mse,
    );
    let l0 = m.train_on_batch(&x, &y).unwrap();
    for _ in 0..20 {
        m.train_on_batch(&x, &y).unwrap();
    }
    let l1 = m.test_on_batch(&x, &y).unwrap();
    assert!(l0.is_finite() && l1.is_finite());
    // the specs survive a JSON round trip (saved models store them)
    let js = serde_json::to_string(&e.layers).unwrap();
    let back: Vec<LayerSpec> = serde_json::from_str(&js).unwrap();
    assert_eq!(back, e.layers);
    let m2 = build_graph(&back, &[6, 2], 3).unwrap();
    assert_eq!(m2.count_params(), m.count_params());
}

#[test]
fn unknown_keys_and_shape_errors_name_the_layers() {
    let bad = EVERY_TYPE.replace("momentum = 0.9", "momentun = 0.9");
    // checked when the file is read, before any data is loaded
    let err = match Experiment::from_toml_str(&bad, "bad.toml") {
        Ok(e) => build_graph(&e.layers, &[6, 2], 3)
            .err()
            .unwrap()
            .to_string(),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("'bn'") && err.contains("momentun"), "{err}");
    // the seed's attention model with the LSTM's return_sequences forgotten
    let text = r#"
[data]
path = "x.csv"
target = "y"
[[layers]]
name = "h"
type = "lstm"
units = 8
[[layers]]
type = "attention"
inputs = ["h", "h"]
[[layers]]
type = "dense"
units = 1
"#;
    let e = Experiment::from_toml_str(text, "m4.toml").unwrap();
    let err = build_graph(&e.layers, &[10, 1], 3)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("'attention'") && err.contains("'h'") && err.contains("(None, 8)"),
        "{err}"
    );
    let e = Experiment::from_toml_str(
        &text.replace("type = \"attention\"", "type = \"atention\""),
        "m4.toml",
    );
    let err = e.err().unwrap().to_string();
    assert!(err.contains("atention"), "{err}");
}
