use super::*;
use crate::model::{Graph, Sequential};
use crate::nn::{Activation, Dense, LSTM};

#[test]
fn round_trip_functional_with_states_and_frozen_layer() {
    let mut g = Graph::new(&[0, 3]).name("enc_dec");
    let x = g.input();
    let enc = g.add_named(
        "enc",
        LSTM::new(5).return_state(true).activation(Activation::Relu),
        &[x],
    );
    let h = Graph::output_of(enc, 1);
    let c = Graph::output_of(enc, 2);
    let dec = g.add_named("dec", LSTM::new(5).return_sequences(true), &[x, h, c]);
    let y = g.add(Dense::new(2).use_bias(false), &[dec]);
    let mut m = g.build(y, 3).unwrap();
    for p in m.nodes_mut()[0].layer.params_mut() {
        p.trainable = false;
    }
    let cfg = m.to_keras_config();
    let m2 = Model::from_keras_config(&cfg, 99).unwrap();
    assert_eq!(m2.to_keras_config(), cfg);
    assert_eq!(
        m2.nodes()[1].inputs,
        vec![Src::Input, Src::Node(0, 1), Src::Node(0, 2)]
    );
    assert!(m2.nodes()[0].layer.params().iter().all(|p| !p.trainable));
    assert_eq!(m2.input_shape(), &[0, 3]);
    assert_eq!(m2.output_shape(), vec![0, 2]);
    // the decoder is called with initial_state as a keyword, as in Keras
    let dec_node = &cfg["config"]["layers"][2]["inbound_nodes"][0];
    assert_eq!(
        dec_node["kwargs"]["initial_state"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn reads_keras3_sequential() {
    let cfg = json!({"module": "keras", "class_name": "Sequential", "config": {
        "name": "seq", "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 7, 2], "dtype": "float32", "name": "inp"}},
          {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "l", "units": 3, "return_sequences": true}},
          {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "l2", "units": 3}},
          {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 1}}
        ], "build_input_shape": [null, 7, 2]}});
    let m = Model::from_keras_config(&cfg, 0).unwrap();
    assert_eq!(m.name, "seq");
    assert_eq!(m.input_name, "inp");
    assert_eq!(m.input_shape(), &[7, 2]);
    assert_eq!(m.nodes().len(), 3);
    assert_eq!(m.nodes()[2].inputs, vec![Src::Node(1, 0)]);
    // without InputLayer: build_input_shape
    let cfg2 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "LSTM", "config": {"name": "l", "units": 3}}], "build_input_shape": [null, 4, 1]}});
    assert_eq!(
        Model::from_keras_config(&cfg2, 0).unwrap().input_shape(),
        &[4, 1]
    );
    // tf.keras 2: batch_input_shape on the first layer
    let cfg3 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "LSTM", "config": {"name": "l", "units": 3, "batch_input_shape": [null, 6, 2], "time_major": false, "implementation": 2}}]}});
    assert_eq!(
        Model::from_keras_config(&cfg3, 0).unwrap().input_shape(),
        &[6, 2]
    );
    let cfg4 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "LSTM", "config": {"name": "l", "units": 3}}]}});
    let e = Model::from_keras_config(&cfg4, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("input shape"), "{e}");
}

#[test]
fn reads_tf_keras2_functional() {
    let cfg = json!({"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 1], "dtype": "float32", "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
        {"class_name": "LSTM", "config": {"name": "lstm", "units": 4, "dtype": "float32", "return_sequences": false}, "name": "lstm",
         "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"class_name": "Dense", "config": {"name": "dense", "units": 1}, "name": "dense", "inbound_nodes": [[["lstm", 0, 0, {}]]]}
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}});
    let m = Model::from_keras_config(&cfg, 0).unwrap();
    assert_eq!(m.input_shape(), &[5, 1]);
    assert_eq!(m.output_shape(), vec![1]);
    assert_eq!(m.input_name, "input_1");
}

#[test]
fn nested_models_are_inlined() {
    let lstm = |name: &str, rs: bool| json!({"class_name": "LSTM", "config": {"name": name, "units": 3, "return_sequences": rs}});
    // Keras 3: a Sequential (no InputLayer) inside a functional model, its
    // inner layer 'dense' clashing with an outer one
    let cfg = json!({"class_name": "Functional", "config": {"name": "outer", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [null, 5, 2], "name": "x"}, "inbound_nodes": []},
        {"class_name": "Sequential", "name": "inner", "config": {"name": "inner", "trainable": false, "layers": [
            lstm("lstm_a", true), lstm("lstm_b", false),
            {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]},
         "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
        {"class_name": "Dense", "name": "dense", "config": {"name": "dense", "units": 1},
         "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["inner", 0, 0]}}], "kwargs": {}}]}
    ], "input_layers": [["x", 0, 0]], "output_layers": [["dense", 0, 0]]}});
    let p = parse(&cfg).unwrap();
    let names: Vec<&str> = p.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["lstm_a", "lstm_b", "inner/dense", "dense"]);
    assert_eq!(p.layers[0].inputs, vec![("x".to_string(), 0)]);
    assert_eq!(p.layers[3].inputs, vec![("inner/dense".to_string(), 0)]);
    let l = &p.layers[2].loc;
    assert_eq!(
        (l.name.as_str(), l.group.as_str(), l.h5_group()),
        ("dense", "dense", "inner")
    );
    assert_eq!(
        l.scope,
        vec![("inner".to_string(), "sequential".to_string())]
    );
    assert_eq!(p.layers[1].loc.group, "lstm_1");
    assert_eq!(p.layers[3].loc.group, "dense");
    let m = build(&p, 0).unwrap();
    assert_eq!(m.output_shape(), vec![1]);
    // the nested model was frozen: so are its layers
    assert!(m.nodes()[0].layer.params().iter().all(|p| !p.trainable));
    assert!(m.nodes()[3].layer.params().iter().all(|p| p.trainable));
    // tf.keras 2: list-style nodes, the nested model's call numbered 1
    let cfg2 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "in"}},
        {"class_name": "Functional", "config": {"name": "enc", "layers": [
            {"class_name": "InputLayer", "name": "i2", "config": {"batch_input_shape": [null, 4, 2], "name": "i2"}, "inbound_nodes": []},
            {"class_name": "LSTM", "name": "l", "config": {"name": "l", "units": 3}, "inbound_nodes": [[["i2", 0, 0, {}]]]}],
          "input_layers": [["i2", 0, 0]], "output_layers": [["l", 0, 0]]}},
        {"class_name": "Dense", "config": {"name": "d", "units": 1}}]}});
    let p2 = parse(&cfg2).unwrap();
    assert_eq!(p2.layers[0].loc.group, "lstm");
    assert_eq!(p2.layers[0].loc.scope[0].1, "functional");
    assert_eq!(p2.layers[1].inputs, vec![("l".to_string(), 0)]);
    let cfg3 = json!({"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 4, 2], "name": "in"}, "inbound_nodes": []},
        {"class_name": "Sequential", "name": "body", "config": {"name": "body", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "b_in"}}, lstm("l", false)]},
         "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1}, "inbound_nodes": [[["body", 1, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}});
    let p3 = parse(&cfg3).unwrap();
    assert_eq!(p3.layers[1].inputs, vec![("l".to_string(), 0)]);
    assert_eq!(p3.layers[0].inputs, vec![("in".to_string(), 0)]);
}

#[test]
fn normalisation_axis_as_an_index() {
    let cfg = |axis: Value| {
        json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "in"}},
            {"class_name": "LayerNormalization", "config": {"name": "ln", "axis": axis}},
            {"class_name": "LSTM", "config": {"name": "l", "units": 3}},
            {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1]}}]}})
    };
    // tf.keras 2 writes the last axis as its index: [2] for (batch, T, F)
    assert!(Model::from_keras_config(&cfg(json!([2])), 0).is_ok());
    assert!(Model::from_keras_config(&cfg(json!(2)), 0).is_ok());
    assert!(Model::from_keras_config(&cfg(json!(-1)), 0).is_ok());
    let e = Model::from_keras_config(&cfg(json!([1])), 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'ln'") && e.contains("axis"), "{e}");
}

#[test]
fn keras2_hard_sigmoid_is_renamed_everywhere() {
    let mut v = json!({"layers": [{"config": {"activation": "hard_sigmoid", "name": "hard_sigmoid",
        "layer": {"config": {"recurrent_activation": "hard_sigmoid", "activation": "tanh"}}}}]});
    keras2_activations(&mut v);
    let c = &v["layers"][0]["config"];
    assert_eq!(c["activation"], "hard_sigmoid_keras2");
    assert_eq!(c["name"], "hard_sigmoid", "only activations change");
    assert_eq!(
        c["layer"]["config"]["recurrent_activation"],
        "hard_sigmoid_keras2"
    );
    assert_eq!(c["layer"]["config"]["activation"], "tanh");
}

#[test]
fn config_errors_are_clear() {
    let base = Sequential::new(&[4, 1])
        .add(LSTM::new(2))
        .add(Dense::new(1))
        .build(0)
        .unwrap()
        .to_keras_config();
    let mut two_calls = base.clone();
    let n = two_calls["config"]["layers"][2]["inbound_nodes"][0].clone();
    two_calls["config"]["layers"][2]["inbound_nodes"] = json!([n.clone(), n]);
    let e = Model::from_keras_config(&two_calls, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("shared") && e.contains("dense"), "{e}");
    let mut bad_ref = base.clone();
    bad_ref["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] =
        json!(["nope", 0, 0]);
    let e = Model::from_keras_config(&bad_ref, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("nope"), "{e}");
    let mut two_out = base.clone();
    two_out["config"]["output_layers"] = json!([["dense", 0, 0], ["lstm", 0, 0]]);
    let e = Model::from_keras_config(&two_out, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("2 outputs"), "{e}");
    let mut unknown = base.clone();
    unknown["config"]["layers"][1]["class_name"] = json!("ConvLSTM1D");
    let e = Model::from_keras_config(&unknown, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("ConvLSTM1D") && e.contains("lstm"), "{e}");
    let mut kw = base.clone();
    kw["config"]["layers"][1]["inbound_nodes"][0]["kwargs"] = json!({"mask": {"class_name": "__keras_tensor__", "config": {"keras_history": ["input_layer", 0, 0]}}});
    let e = Model::from_keras_config(&kw, 0).err().unwrap().to_string();
    assert!(e.contains("mask"), "{e}");
    let e = Model::from_keras_config(&json!({"class_name": "Foo", "config": {}}), 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Foo"), "{e}");
    let mut bad_shape = base;
    bad_shape["config"]["layers"][2]["config"]["units"] = json!(0);
    assert!(Model::from_keras_config(&bad_shape, 0).is_err());
}
