//! Keras parity: every fixture case in `../shared/fixtures/keras/`, loaded from
//! both `model.keras` and `model.h5`, reproduces Keras' `y.npy` from `x.npy`;
//! case h's five Adam steps reproduce Keras' losses and final weights.

use crate::common::fixtures;
use lstmkit::io::{load_model, npy};
use lstmkit::train::{Loss, Optimizer};
use lstmkit::Tensor;

/// (case folder, must pass now). A case not marked required is still run and
/// asserted; it is only allowed to fail with "unsupported layer class" while
/// the layers it needs are not in the registry yet.
const CASES: &[(&str, bool)] = &[
    ("a_lstm_tanh", true),
    ("b_lstm_relu", true),
    ("c_stacked_lstm", true),
    ("d_bilstm_concat", true),
    ("e_lstm_attention", true),
    ("f_gru", true),
    ("g_lstm_dropout_bn_dense4", true),
    ("h_train_trajectory", true),
];

const FORWARD_TOL: f32 = 1e-5;

#[test]
fn all_fixture_cases_both_formats_reproduce_keras() {
    let Some(root) = fixtures() else {
        return;
    };
    if !root.exists() {
        panic!("fixtures not found at {}", root.display());
    }
    let mut failures = Vec::new();
    let mut asserted = 0;
    for &(case, required) in CASES {
        let dir = root.join(case);
        let x = npy::read(dir.join("x.npy")).unwrap();
        let y = npy::read(dir.join("y.npy")).unwrap();
        for file in ["model.keras", "model.h5"] {
            let path = dir.join(file);
            let mut model = match load_model(&path) {
                Ok(m) => m,
                Err(e) => {
                    let msg = e.to_string();
                    if !required && msg.contains("unsupported layer class") {
                        println!("{case}/{file}: SKIPPED, layers not registered yet: {msg}");
                    } else {
                        failures.push(format!("{case}/{file}: load failed: {msg}"));
                    }
                    continue;
                }
            };
            let pred = model.predict_batched(&x, 64).unwrap();
            assert_eq!(pred.shape, y.shape, "{case}/{file}");
            let d = pred.max_abs_diff(&y);
            println!("{case}/{file}: max |Δ| = {d:.3e}");
            asserted += 1;
            if d.is_nan() || d > FORWARD_TOL {
                failures.push(format!("{case}/{file}: max |Δ| = {d:e} > {FORWARD_TOL:e}"));
            }
        }
    }
    println!("{asserted} of {} loads asserted", CASES.len() * 2);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Reads a `{"shape", "data"}` JSON array.
fn json_tensor(v: &serde_json::Value) -> Tensor {
    let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).unwrap();
    let data: Vec<f32> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    Tensor::new(&shape, data).unwrap()
}

/// weights.json layout → tensors in `get_weights()` order (by `index`).
fn weights_in_order(w: &serde_json::Value) -> Vec<(String, Tensor)> {
    let mut v: Vec<(u64, String, Tensor)> = Vec::new();
    for (layer, vars) in w.as_object().unwrap() {
        for (var, spec) in vars.as_object().unwrap() {
            v.push((
                spec["index"].as_u64().unwrap(),
                format!("{layer}/{var}"),
                json_tensor(spec),
            ));
        }
    }
    v.sort_by_key(|e| e.0);
    v.into_iter().map(|(_, n, t)| (n, t)).collect()
}

fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let scale = b.data.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-30);
    a.max_abs_diff(b) / scale
}

#[test]
fn case_h_adam_trajectory_matches_keras() {
    let Some(fx) = fixtures() else {
        return;
    };
    let dir = fx.join("h_train_trajectory");
    let traj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("trajectory.json")).unwrap())
            .unwrap();
    let x = npy::read(dir.join("x_train.npy")).unwrap();
    let y = npy::read(dir.join("y_train.npy")).unwrap();
    for file in ["model_initial.keras", "model_initial.h5"] {
        let mut model = load_model(dir.join(file)).unwrap();
        // the loaded weights are Keras' initial weights
        let init: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("initial_weights.json")).unwrap(),
        )
        .unwrap();
        for ((name, want), got) in weights_in_order(&init).iter().zip(model.get_weights()) {
            assert_eq!(&got, want, "{file}: initial {name}");
        }
        model.compile(Optimizer::adam(0.01), Loss::Mse);
        let mut max_loss_rel = 0f32;
        let mut max_w_rel = 0f32;
        for step in traj["steps"].as_array().unwrap() {
            let s = step["step"].as_u64().unwrap() as usize;
            let rows: Vec<usize> = serde_json::from_value(step["batch_rows"].clone()).unwrap();
            let (r0, r1) = (rows[0], rows[1]);
            let per = 10;
            let xb = Tensor::new(&[r1 - r0, 10, 1], x.data[r0 * per..r1 * per].to_vec()).unwrap();
            let yb = Tensor::new(&[r1 - r0, 1], y.data[r0..r1].to_vec()).unwrap();
            let loss = model.train_on_batch(&xb, &yb).unwrap();
            let want = step["loss"].as_f64().unwrap() as f32;
            let rel = (loss - want).abs() / want.abs();
            max_loss_rel = max_loss_rel.max(rel);
            println!("{file} step {s}: loss {loss:.9e} keras {want:.9e} rel {rel:.2e}");
            for ((name, want), got) in weights_in_order(&step["weights_after"])
                .iter()
                .zip(model.get_weights())
            {
                let r = rel_diff(&got, want);
                max_w_rel = max_w_rel.max(r);
                assert!(r <= 1e-5, "{file} step {s} {name}: relative diff {r:e}");
            }
        }
        println!(
            "{file}: max loss rel diff {max_loss_rel:.3e}, max weight rel diff {max_w_rel:.3e}"
        );
        assert!(
            max_loss_rel <= 1e-5,
            "{file}: loss rel diff {max_loss_rel:e}"
        );
        // final weights equal the saved final model's
        let fin = load_model(dir.join("model.keras")).unwrap();
        for (a, b) in model.get_weights().iter().zip(fin.get_weights()) {
            let r = rel_diff(a, &b);
            assert!(r <= 1e-5, "{file}: final weights rel diff {r:e}");
        }
    }
}

#[test]
fn case_h_gradients_match_keras_at_every_step() {
    let Some(fx) = fixtures() else {
        return;
    };
    let dir = fx.join("h_train_trajectory");
    let traj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("trajectory.json")).unwrap())
            .unwrap();
    let init: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("initial_weights.json")).unwrap())
            .unwrap();
    let x = npy::read(dir.join("x_train.npy")).unwrap();
    let y = npy::read(dir.join("y_train.npy")).unwrap();
    let mut model = load_model(dir.join("model_initial.keras")).unwrap();
    let mut before = init;
    let mut max_rel = 0f32;
    let mut max_loss_rel = 0f32;
    for step in traj["steps"].as_array().unwrap() {
        // Keras' own pre-update weights, so each step is compared independently
        let ws: Vec<Tensor> = weights_in_order(&before)
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        model.set_weights(&ws).unwrap();
        let rows: Vec<usize> = serde_json::from_value(step["batch_rows"].clone()).unwrap();
        let (r0, r1) = (rows[0], rows[1]);
        let xb = Tensor::new(&[r1 - r0, 10, 1], x.data[r0 * 10..r1 * 10].to_vec()).unwrap();
        let yb = Tensor::new(&[r1 - r0, 1], y.data[r0..r1].to_vec()).unwrap();
        model.zero_grad();
        let pred = model.forward(&xb, true).unwrap().clone();
        let mut dy = Tensor::default();
        let loss = Loss::Mse.value_and_grad(&pred, &yb, &mut dy).unwrap();
        model.backward(&xb, &dy, false).unwrap();
        let want_loss = step["loss"].as_f64().unwrap() as f32;
        max_loss_rel = max_loss_rel.max((loss - want_loss).abs() / want_loss);
        let names = weights_in_order(&before);
        for ((name, _), (_, p)) in names.iter().zip(model.params()) {
            let path = name.clone();
            let g = json_tensor(&step["grads"][&path]);
            let r = rel_diff(&p.grad, &g);
            max_rel = max_rel.max(r);
            assert!(
                r <= 1e-5,
                "step {}: grad {path} rel diff {r:e}",
                step["step"]
            );
        }
        before = step["weights_after"].clone();
    }
    println!("gradients at Keras' weights: max rel diff {max_rel:.3e}; loss max rel diff {max_loss_rel:.3e}");
}
