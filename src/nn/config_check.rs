//! Test support: the checks every layer config type passes (each layer file's
//! tests call [`check_config`] with a Keras config of its class).

use serde_json::{json, Value};

use super::config::{read_keras, write};
use super::{layer_from_config, layer_from_table, LayerConfig};

/// Checks config type `C` against `keras`, a Keras config of its class
/// (with `name`, `trainable`, `dtype`): it reads, and what it writes reads
/// back to the same value; the built layer writes `written` (the keys and
/// values lstmkit's export and native files hold), which reads back to
/// itself; the written config is a valid
/// experiment table, and an unknown key in a table is refused naming the layer
/// and the key; an extra key in a Keras config is accepted when null and
/// refused, naming it, when set.
pub(crate) fn check_config<C>(keras: Value, written: Value)
where
    C: LayerConfig + Clone + PartialEq + std::fmt::Debug,
{
    let class = C::CLASS;
    let a: C = read_keras(class, &keras).unwrap_or_else(|e| panic!("{class}: {e}"));
    let b: C = read_keras(class, &write(&a)).unwrap_or_else(|e| panic!("{class} again: {e}"));
    assert_eq!(a, b, "{class}: read, written and read again");
    let layer = layer_from_config(class, &keras).unwrap_or_else(|e| panic!("{class}: {e}"));
    assert_eq!(layer.class_name(), class);
    let w = layer.config();
    assert_eq!(w, written, "{class}: the layer's written config");
    let c: C = read_keras(class, &w).unwrap_or_else(|e| panic!("{class} written: {e}"));
    assert_eq!(
        write(&c),
        w,
        "{class}: what the layer writes reads back to itself"
    );

    let mut table = w.as_object().cloned().unwrap_or_default();
    let l = layer_from_table(C::KIND, &table, "tbl").unwrap_or_else(|e| panic!("{class}: {e}"));
    assert_eq!(l.config(), w, "{class}: from a table");
    table.insert("bogus_option".into(), json!(1));
    let e = match layer_from_table(C::KIND, &table, "tbl") {
        Ok(_) => panic!("{class}: an unknown table key must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("'tbl'") && e.contains(class) && e.contains("'bogus_option'"),
        "{e}"
    );

    let mut k = keras.clone();
    k["option_of_a_newer_keras"] = Value::Null;
    let l = layer_from_config(class, &k).unwrap_or_else(|e| panic!("{class} + null key: {e}"));
    assert_eq!(l.config(), w, "{class}: an extra null key changes nothing");
    k["option_of_a_newer_keras"] = json!(2);
    let e = match layer_from_config(class, &k) {
        Ok(_) => panic!("{class}: an extra key with a value must be refused"),
        Err(e) => e.to_string(),
    };
    let name = keras.get("name").and_then(Value::as_str).unwrap_or("?");
    assert!(
        e.contains(&format!("'{name}'")) && e.contains("option_of_a_newer_keras"),
        "{e}"
    );
}

/// Keras 3's float32 dtype policy, as it writes it.
pub(crate) fn float32() -> Value {
    json!({"module": "keras", "class_name": "DTypePolicy",
           "config": {"name": "float32"}, "registered_name": null})
}

/// A Keras initialiser object, as Keras 3 writes it.
pub(crate) fn init(class: &str) -> Value {
    json!({"module": "keras.initializers", "class_name": class, "config": {}, "registered_name": null})
}

/// The message of a config that must be refused.
pub(crate) fn refused(class: &str, cfg: Value) -> String {
    match layer_from_config(class, &cfg) {
        Ok(_) => panic!("{class} {cfg} should be refused"),
        Err(e) => e.to_string(),
    }
}
