//! Conv1D, MaxPooling1D and AveragePooling1D: finite-difference checks for
//! every padding, strides > 1, dilation > 1, with and without bias; a whole
//! CNN-LSTM model; reading them from Keras configs and experiment tables, and
//! the options lstmkit refuses (named with the layer).

use lstmkit::gradcheck::{check_layer, check_model, Report, Tolerance};
use lstmkit::nn::conv1d::Padding;
use lstmkit::nn::{
    layer_from_config, layer_from_table, Activation, AveragePooling1D, Conv1D, Dense, Layer,
    MaxPooling1D, LSTM,
};
use lstmkit::train::Loss;
use lstmkit::{Sequential, Tensor};
use serde_json::json;

fn assert_pass(what: &str, r: Report) {
    println!(
        "{what}: {} checked, worst ratio {:.3}",
        r.checked, r.worst_ratio
    );
    assert!(
        r.passed(),
        "{what}: {} of {} failed (worst ratio {:.2}): {:?}",
        r.failures.len(),
        r.checked,
        r.worst_ratio,
        &r.failures[..r.failures.len().min(5)]
    );
}

fn check(what: &str, l: &mut dyn Layer, shapes: &[Vec<usize>], seed: u64, tol: Tolerance) {
    let r = check_layer(l, shapes, seed, false, tol).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_pass(what, r);
}

const PADDINGS: [Padding; 3] = [Padding::Valid, Padding::Same, Padding::Causal];

#[test]
fn conv1d_gradients_every_padding_stride_dilation_bias() {
    let tol = Tolerance {
        max_per_tensor: 200,
        ..Tolerance::default()
    };
    let mut seed = 60;
    for pad in PADDINGS {
        // (kernel_size, strides, dilation_rate)
        for (k, s, d) in [
            (3, 1, 1),
            (3, 2, 1),
            (2, 3, 1),
            (3, 1, 2),
            (4, 1, 3),
            (1, 1, 1),
        ] {
            for bias in [true, false] {
                seed += 1;
                let mut l = Conv1D::new(4, k)
                    .padding(pad)
                    .strides(s)
                    .dilation_rate(d)
                    .use_bias(bias)
                    .activation(Activation::Tanh);
                check(
                    &format!("Conv1D {pad:?} k={k} s={s} d={d} bias={bias}"),
                    &mut l,
                    &[vec![2, 11, 3]],
                    seed,
                    tol,
                );
            }
        }
    }
    // linear and relu (a smaller step keeps the differences off relu's kink)
    let mut l = Conv1D::new(3, 3).padding(Padding::Same);
    check("Conv1D linear", &mut l, &[vec![3, 6, 2]], 90, tol);
    let mut l = Conv1D::new(3, 2)
        .padding(Padding::Causal)
        .dilation_rate(2)
        .activation(Activation::Relu);
    let relu = Tolerance { eps: 2e-4, ..tol };
    check("Conv1D relu", &mut l, &[vec![3, 8, 2]], 91, relu);
    // one step, more padding than input
    let mut l = Conv1D::new(2, 5).padding(Padding::Same);
    check("Conv1D T=1 same", &mut l, &[vec![2, 1, 3]], 92, tol);
}

#[test]
fn pooling1d_gradients_every_padding_and_stride() {
    let tol = Tolerance {
        max_per_tensor: 200,
        ..Tolerance::default()
    };
    let mut seed = 100;
    for pad in [Padding::Valid, Padding::Same] {
        for (p, s) in [
            (2, None),
            (3, Some(1)),
            (3, Some(2)),
            (2, Some(3)),
            (4, None),
        ] {
            seed += 1;
            let shapes = [vec![2, 9, 3]];
            let mut m = MaxPooling1D::new(p).padding(pad);
            let mut a = AveragePooling1D::new(p).padding(pad);
            if let Some(s) = s {
                m = m.strides(s);
                a = a.strides(s);
            }
            check(
                &format!("MaxPooling1D {pad:?} pool={p} strides={s:?}"),
                &mut m,
                &shapes,
                seed,
                tol,
            );
            check(
                &format!("AveragePooling1D {pad:?} pool={p} strides={s:?}"),
                &mut a,
                &shapes,
                seed,
                tol,
            );
        }
    }
}

/// A CNN-LSTM as the forecasting tutorials build it, trained end to end.
#[test]
fn cnn_lstm_model_gradients() {
    for pad in PADDINGS {
        let mut m = Sequential::new(&[10, 2])
            .add(Conv1D::new(4, 3).padding(pad).activation(Activation::Tanh))
            .add(if pad == Padding::Causal {
                MaxPooling1D::new(2)
            } else {
                MaxPooling1D::new(2).padding(Padding::Same)
            })
            .add(LSTM::new(3))
            .add(Dense::new(1))
            .build(5)
            .unwrap();
        let x = Tensor::new(
            &[3, 10, 2],
            (0..60)
                .map(|i| ((i * 29 % 17) as f32 - 8.0) / 6.0)
                .collect(),
        )
        .unwrap();
        let y = Tensor::new(&[3, 1], vec![0.3, -0.2, 0.5]).unwrap();
        let r = check_model(&mut m, &x, &y, Loss::Mse, Tolerance::default()).unwrap();
        assert_pass(&format!("Conv1D({pad:?}) → MaxPooling1D → LSTM → Dense"), r);
    }
}

fn err(class: &str, cfg: serde_json::Value) -> String {
    match layer_from_config(class, &cfg) {
        Ok(_) => panic!("{cfg} should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn keras_configs_read_write_and_refuse() {
    // Keras 3.15's own config of Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu")
    let keras = json!({"name": "conv", "trainable": true,
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
        "filters": 8, "kernel_size": [3], "strides": [1], "padding": "causal",
        "data_format": "channels_last", "dilation_rate": [2], "groups": 1, "activation": "relu",
        "use_bias": true,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
        "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}, "bias_regularizer": null,
        "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null});
    let l = layer_from_config("Conv1D", &keras).unwrap();
    let c = l.config();
    assert_eq!(c["filters"], 8);
    assert_eq!(c["kernel_size"], json!([3]));
    assert_eq!(c["dilation_rate"], json!([2]));
    assert_eq!(c["padding"], "causal");
    assert_eq!(c["activation"], "relu");
    assert_eq!(c["data_format"], "channels_last");
    assert_eq!(c["kernel_regularizer"]["class_name"], "L2");
    assert_eq!(layer_from_config("Conv1D", &c).unwrap().config(), c);
    // tf.keras 2 writes integers as lists too; strides None on poolings is pool_size
    let p = layer_from_config(
        "MaxPooling1D",
        &json!({"name": "p", "pool_size": [3], "strides": null, "padding": "same", "data_format": "channels_last"}),
    )
    .unwrap();
    assert_eq!(p.config()["strides"], json!([3]));
    assert_eq!(p.config()["padding"], "same");
    let a = layer_from_config("AveragePooling1D", &json!({"name": "a"})).unwrap();
    assert_eq!(a.config()["pool_size"], json!([2]));
    assert_eq!(a.class_name(), "AveragePooling1D");

    let e = err(
        "Conv1D",
        json!({"name": "c1", "filters": 4, "kernel_size": 3, "groups": 2}),
    );
    assert!(e.contains("'c1'") && e.contains("'groups'"), "{e}");
    let e = err(
        "Conv1D",
        json!({"name": "c2", "filters": 4, "kernel_size": 3, "data_format": "channels_first"}),
    );
    assert!(
        e.contains("'c2'") && e.contains("data_format") && e.contains("channels_first"),
        "{e}"
    );
    let e = err(
        "Conv1D",
        json!({"name": "c3", "filters": 4, "kernel_size": 3, "kernel_constraint": {"class_name": "NonNeg"}}),
    );
    assert!(e.contains("'c3'") && e.contains("kernel_constraint"), "{e}");
    let e = err(
        "Conv1D",
        json!({"name": "c4", "filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}),
    );
    assert!(e.contains("'c4'") && e.contains("dilation_rate"), "{e}");
    let e = err(
        "Conv1D",
        json!({"name": "c5", "filters": 4, "kernel_size": [3, 3]}),
    );
    assert!(e.contains("'c5'") && e.contains("kernel_size"), "{e}");
    let e = err("Conv1D", json!({"name": "c6", "kernel_size": 3}));
    assert!(e.contains("'c6'") && e.contains("filters"), "{e}");
    let e = err(
        "Conv1D",
        json!({"name": "c7", "filters": 4, "kernel_size": 3, "padding": "full"}),
    );
    assert!(e.contains("'c7'") && e.contains("padding"), "{e}");
    let e = err(
        "MaxPooling1D",
        json!({"name": "p1", "pool_size": 2, "padding": "causal"}),
    );
    assert!(e.contains("'p1'") && e.contains("padding"), "{e}");
    let e = err(
        "AveragePooling1D",
        json!({"name": "p2", "pool_size": 2, "data_format": "channels_first"}),
    );
    assert!(e.contains("'p2'") && e.contains("data_format"), "{e}");
    // too few steps for a valid window: the model build names the layer
    let e = Sequential::new(&[2, 1])
        .add(Conv1D::new(2, 3))
        .add(Dense::new(1))
        .build(0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Conv1D") && e.contains("valid"), "{e}");
}

#[test]
fn experiment_tables_build_the_layers() {
    let t = |s: &str| -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(s).unwrap()
    };
    let l = layer_from_table(
        "conv1d",
        &t(r#"{"filters": 16, "kernel_size": 3, "activation": "relu", "padding": "causal"}"#),
        "conv",
    )
    .unwrap();
    assert_eq!(l.class_name(), "Conv1D");
    assert_eq!(l.config()["padding"], "causal");
    let l = layer_from_table("max_pooling1d", &t(r#"{"pool_size": 2}"#), "pool").unwrap();
    assert_eq!(l.class_name(), "MaxPooling1D");
    let l = layer_from_table(
        "average_pooling1d",
        &t(r#"{"pool_size": 3, "strides": 1, "padding": "same"}"#),
        "avg",
    )
    .unwrap();
    assert_eq!(l.config()["strides"], json!([1]));
    let e = layer_from_table(
        "conv1d",
        &t(r#"{"filters": 4, "kernel_size": 3, "kernal": 1}"#),
        "conv",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("'conv'") && e.contains("kernal"), "{e}");
}
