//! The tests of the search space (Keras Tuner's examples and formulas).

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// The grid of a `Float` parameter, as numbers.
fn float_grid(h: &HyperParameter) -> Vec<f64> {
    h.grid_values()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn int_step_linear_like_keras() {
    // hp.Int('units', 32, 128, step=32): values 32, 64, 96, 128, equal quarters of p.
    let h = HyperParameter::int("units", 32, 128)
        .step(32)
        .validate()
        .unwrap();
    assert_eq!(
        h.grid_values(),
        vec![
            Value::Int(32),
            Value::Int(64),
            Value::Int(96),
            Value::Int(128)
        ]
    );
    for (p, want) in [
        (0.0, 32),
        (0.2499, 32),
        (0.25, 64),
        (0.5, 96),
        (0.74, 96),
        (0.75, 128),
        (0.999999, 128),
    ] {
        assert_eq!(h.prob_to_value(p), Value::Int(want), "p={p}");
    }
    assert!(close(h.value_to_prob(&Value::Int(64)), 0.375));
    // Keras' example: Int(6, 13, step=3) → 6, 9, 12.
    let h = HyperParameter::int("n", 6, 13).step(3).validate().unwrap();
    assert_eq!(
        h.grid_values(),
        vec![Value::Int(6), Value::Int(9), Value::Int(12)]
    );
    // Int linear without step means step 1, max included.
    let h = HyperParameter::int("n", 6, 12).validate().unwrap();
    assert_eq!(h.grid_values().len(), 7);
    assert_eq!(h.prob_to_value(0.9999), Value::Int(12));
}

#[test]
fn int_log_step_like_keras() {
    // Keras' example: Int(2, 32, step=2, sampling='log') → 2, 4, 8, 16, 32.
    let h = HyperParameter::int("b", 2, 32)
        .step(2)
        .sampling(Sampling::Log)
        .validate()
        .unwrap();
    let want: Vec<Value> = [2, 4, 8, 16, 32].iter().map(|&i| Value::Int(i)).collect();
    assert_eq!(h.grid_values(), want);
    assert_eq!(h.prob_to_value(0.5), Value::Int(8));
    assert!(close(h.value_to_prob(&Value::Int(8)), 0.5));
    // Int log without step: int(min (max+1 / min)^p).
    let h = HyperParameter::int("b", 1, 1000)
        .sampling(Sampling::Log)
        .validate()
        .unwrap();
    assert_eq!(h.prob_to_value(0.0), Value::Int(1));
    assert_eq!(h.prob_to_value(0.5), Value::Int((1001f64).sqrt() as i64));
    assert_eq!(h.prob_to_value(0.99999999), Value::Int(1000));
}

#[test]
fn float_log_is_geometric_and_in_bounds() {
    let h = HyperParameter::float("lr", 1e-4, 1e-2)
        .sampling(Sampling::Log)
        .validate()
        .unwrap();
    // Equal steps in p are equal ratios in value.
    let vals: Vec<f64> = (0..=10)
        .map(|i| h.prob_to_value(i as f64 / 10.0).as_f64().unwrap())
        .collect();
    assert!(close(vals[0], 1e-4) && close(vals[10], 1e-2) && close(vals[5], 1e-3));
    for w in vals.windows(2) {
        assert!(close(w[1] / w[0], 10f64.powf(0.2)), "{w:?}");
    }
    for i in 0..100 {
        let p = i as f64 / 100.0;
        let v = h.prob_to_value(p);
        let x = v.as_f64().unwrap();
        assert!((1e-4..=1e-2).contains(&x));
        assert!((h.value_to_prob(&v) - p).abs() < 1e-12);
    }
    // Keras' example: Float(0.001, 10, step=10, sampling='log').
    let h = HyperParameter::float("lr", 0.001, 10.0)
        .step(10.0)
        .sampling(Sampling::Log)
        .validate()
        .unwrap();
    let g = float_grid(&h);
    assert_eq!(g.len(), 5);
    for (a, b) in g.iter().zip([0.001, 0.01, 0.1, 1.0, 10.0]) {
        assert!(close(*a, b), "{g:?}");
    }
}

#[test]
fn reverse_log_is_dense_near_max() {
    let h = HyperParameter::float("m", 0.1, 1.0)
        .sampling(Sampling::ReverseLog)
        .validate()
        .unwrap();
    let at = |p: f64| h.prob_to_value(p).as_f64().unwrap();
    assert!(close(at(0.0), 0.1) && close(at(1.0), 1.0));
    // Keras: max + min - min (max/min)^(1-p).
    assert!(close(at(0.3), 1.1 - 0.1 * 10f64.powf(0.7)));
    assert!(at(0.9) - at(0.8) < at(0.2) - at(0.1));
    assert!((h.value_to_prob(&Value::Float(at(0.3))) - 0.3).abs() < 1e-12);
}

#[test]
fn float_linear_step_and_continuous_grid() {
    let h = HyperParameter::float("d", 0.0, 1.0)
        .step(0.2)
        .validate()
        .unwrap();
    let g = float_grid(&h);
    assert_eq!(g.len(), 6);
    assert!(close(g[5], 1.0));
    let h = HyperParameter::float("d", 0.0, 1.0).validate().unwrap();
    let g = float_grid(&h);
    assert_eq!(g.len(), 10);
    assert!(close(g[0], 0.05) && close(g[9], 0.95));
}

#[test]
fn choice_boolean_fixed() {
    let h = HyperParameter::choice("bs", vec![16.into(), 32.into(), 64.into()]);
    assert_eq!(h.prob_to_value(0.0), Value::Int(16));
    assert_eq!(h.prob_to_value(0.34), Value::Int(32));
    assert_eq!(h.prob_to_value(0.99), Value::Int(64));
    assert!(close(h.value_to_prob(&Value::Int(32)), 0.5));
    let b = HyperParameter::boolean("x");
    assert_eq!(b.prob_to_value(0.49), Value::Bool(false));
    assert_eq!(b.prob_to_value(0.5), Value::Bool(true));
    assert_eq!(b.default_or_first(), Value::Bool(false));
    let f = HyperParameter::fixed("f", "adam".into());
    assert_eq!(f.prob_to_value(0.7), Value::from("adam"));
}

#[test]
fn invalid_definitions_are_errors() {
    assert!(HyperParameter::int("a", 5, 1).validate().is_err());
    assert!(HyperParameter::float("a", 0.0, 1.0)
        .sampling(Sampling::Log)
        .validate()
        .is_err());
    assert!(HyperParameter::int("a", 1, 8)
        .step(1)
        .sampling(Sampling::Log)
        .validate()
        .is_err());
    assert!(HyperParameter::choice("a", vec![]).validate().is_err());
    assert!(HyperParameter::choice("a", vec![1.into(), "x".into()])
        .validate()
        .is_err());
    assert!(HyperParameter::int("a", 1, 8)
        .default_value(9)
        .validate()
        .is_err());
    let mut s = Space::new();
    s.add(HyperParameter::int("a", 1, 8)).unwrap();
    assert!(s.add(HyperParameter::int("a", 1, 8)).is_ok());
    assert!(s.add(HyperParameter::int("a", 1, 9)).is_err());
    assert!(s
        .add(HyperParameter::int("c", 1, 9).when("nope", vec![1.into()]))
        .is_err());
}

#[test]
fn conditional_activation() {
    let mut s = Space::new();
    s.add(HyperParameter::choice(
        "model",
        vec!["mlp".into(), "lstm".into()],
    ))
    .unwrap();
    s.add(HyperParameter::int("units", 8, 64).when("model", vec!["lstm".into()]))
        .unwrap();
    s.add(HyperParameter::boolean("deep").when("model", vec!["lstm".into()]))
        .unwrap();
    s.add(HyperParameter::int("layers", 2, 4).when("deep", vec![true.into()]))
        .unwrap();
    let d = s.defaults();
    assert_eq!(d.len(), 1, "{d:?}");
    let mut v = Values::new();
    v.insert("model".into(), "lstm".into());
    v.insert("deep".into(), true.into());
    let act = s.ensure_active(&v);
    assert_eq!(act.get("units"), Some(&Value::Int(8)));
    assert_eq!(act.get("layers"), Some(&Value::Int(2)));
    v.insert("model".into(), "mlp".into());
    let act = s.ensure_active(&v);
    assert_eq!(
        act.len(),
        1,
        "children of an inactive parent are inactive: {act:?}"
    );
}

#[test]
fn values_round_trip_json() {
    let mut v = Values::new();
    v.insert("a".into(), Value::Int(3));
    v.insert("b".into(), Value::Float(0.5));
    v.insert("c".into(), Value::Bool(true));
    v.insert("d".into(), Value::from("x"));
    let s = serde_json::to_string(&v).unwrap();
    let back: Values = serde_json::from_str(&s).unwrap();
    assert_eq!(back, v);
}
