//! What every layer's config type is made of.
//!
//! A layer is defined once: its file holds the layer and one `XConfig` struct
//! with Keras' argument names and defaults (`#[derive(Serialize, Deserialize)]`,
//! `#[serde(deny_unknown_fields)]`, one `#[serde(default = ...)]` per option).
//! From that one type come reading a Keras config ([`read_keras`]), reading an
//! experiment `[[layers]]` table ([`read_table`]), and writing a Keras config
//! (export, the native file, `summary()`: [`write`]). This module gives the
//! pieces those structs share: serde forms of [`Activation`], [`Initializer`]
//! and [`Regularizer`] as Keras writes them, [`Unsupported`] and [`Ignored`]
//! options, and errors that name the layer and the option.
//!
//! ```
//! use lstmkit::nn::config::{read_table, Unsupported};
//! use lstmkit::nn::Activation;
//! #[derive(Debug, serde::Serialize, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Cfg {
//!     units: usize,
//!     #[serde(default)]
//!     activation: Activation,
//!     #[serde(default, skip_serializing)]
//!     kernel_constraint: Unsupported,
//! }
//! let args = serde_json::json!({"units": 4, "activation": "relu"});
//! let c: Cfg = read_table("Dense", "out", &args).unwrap();
//! assert_eq!(c.activation, Activation::Relu);
//! let e = read_table::<Cfg>("Dense", "out", &serde_json::json!({"units": 4, "kernel_constraint": "max_norm"}));
//! assert!(e.unwrap_err().to_string().contains("option 'kernel_constraint'"));
//! ```

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{Activation, Initializer};
use crate::error::{Error, Result};
use crate::train::regularizer::Regularizer;

/// An option lstmkit does not implement (a constraint, an activity
/// regulariser): read only when absent, null or false; otherwise the layer is
/// refused naming it. Never written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Unsupported;

impl<'de> Deserialize<'de> for Unsupported {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null | Value::Bool(false) => Ok(Unsupported),
            x => Err(de::Error::custom(format!("= {x} is not supported"))),
        }
    }
}

impl Serialize for Unsupported {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

/// An option that changes nothing lstmkit computes (Keras' `unroll`,
/// `implementation`): any value of the right kind is read and not kept.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ignored;

impl<'de> Deserialize<'de> for Ignored {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null | Value::Bool(_) | Value::Number(_) => Ok(Ignored),
            x => Err(de::Error::custom(format!(
                "must be a boolean or a number, got {x}"
            ))),
        }
    }
}

impl Serialize for Ignored {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

/// An option that changes nothing lstmkit computes and must be a number
/// (BatchNormalization's `renorm_momentum`, which matters only with `renorm`):
/// `#[serde(default, skip_serializing, deserialize_with = "config::ignored_number")]`.
pub fn ignored_number<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Ignored, D::Error> {
    match Value::deserialize(d)? {
        Value::Null | Value::Number(_) => Ok(Ignored),
        x => Err(de::Error::custom(format!("must be a number, got {x}"))),
    }
}

/// Keras' `axis` of a layer lstmkit computes over the last axis only: `-1`,
/// `[-1]` or null are read; written as `-1`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LastAxis;

impl<'de> Deserialize<'de> for LastAxis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let x = Value::deserialize(d)?;
        let last = match &x {
            Value::Null => true,
            Value::Array(a) => a.len() == 1 && a[0].as_i64() == Some(-1),
            v => v.as_i64() == Some(-1),
        };
        if last {
            Ok(LastAxis)
        } else {
            Err(de::Error::custom(format!(
                "= {x} is not supported (only -1, the last axis)"
            )))
        }
    }
}

impl Serialize for LastAxis {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_i64(-1)
    }
}

/// Keras' `data_format` of a layer lstmkit computes channels_last only:
/// `"channels_last"` or null are read; written as `"channels_last"`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChannelsLast;

impl<'de> Deserialize<'de> for ChannelsLast {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(ChannelsLast),
            Value::String(f) if f == "channels_last" => Ok(ChannelsLast),
            Value::String(f) => Err(de::Error::custom(format!(
                "= '{f}' is not supported (channels_last)"
            ))),
            x => Err(de::Error::custom(format!("must be a string, got {x}"))),
        }
    }
}

impl Serialize for ChannelsLast {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("channels_last")
    }
}

/// A non-negative integer, also when Keras wrote it as a float (`8.0`).
pub fn usize_lenient<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<usize, D::Error> {
    let x = Value::deserialize(d)?;
    if let Some(u) = x.as_u64() {
        return usize::try_from(u).map_err(|_| de::Error::custom(format!("is too large: {x}")));
    }
    match x.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e15 => Ok(f as usize),
        _ => Err(de::Error::custom(format!(
            "must be a non-negative integer, got {x}"
        ))),
    }
}

/// An integer, or a list of one integer (Keras writes `kernel_size` as `[3]`).
pub fn usize_or_one<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<usize, D::Error> {
    let x = Value::deserialize(d)?;
    let one = match &x {
        Value::Array(a) if a.len() == 1 => a[0].clone(),
        Value::Array(_) => {
            return Err(de::Error::custom(format!(
                "must be an integer or a list of one integer, got {x}"
            )))
        }
        v => v.clone(),
    };
    usize_lenient(one).map_err(de::Error::custom)
}

/// A dropout-like rate in [0, 1).
pub fn rate<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f32, D::Error> {
    let x = Value::deserialize(d)?;
    let r = match &x {
        Value::Null => 0.0,
        v => v
            .as_f64()
            .ok_or_else(|| de::Error::custom(format!("must be a number, got {x}")))?
            as f32,
    };
    if !(0.0..1.0).contains(&r) {
        return Err(de::Error::custom(format!("must be in [0, 1), got {r}")));
    }
    Ok(r)
}

/// Keras' optional `seed` (lstmkit draws from the model's seed; the value is kept for export).
pub fn seed<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        x => x
            .as_u64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("must be a non-negative integer, got {x}"))),
    }
}

impl Serialize for Activation {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Activation {
    /// A name, or Keras 3's serialised function `{"class_name": "function", "config": "relu"}`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = match Value::deserialize(d)? {
            Value::Null => return Ok(Activation::Linear),
            Value::String(s) => s,
            Value::Object(o) => match o.get("config") {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    let cls = o.get("class_name").and_then(Value::as_str).unwrap_or("?");
                    return Err(de::Error::custom(format!(
                        "is an unsupported activation object '{cls}'"
                    )));
                }
            },
            x => {
                return Err(de::Error::custom(format!(
                    "must be an activation name, got {x}"
                )))
            }
        };
        Activation::from_name(&name).map_err(|e| de::Error::custom(e.detail()))
    }
}

impl Serialize for Initializer {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Initializer {
    /// A name or `{"class_name": ..., "config": {...}}`. Parameters lstmkit
    /// cannot draw with (an orthogonal `gain` other than 1, say) are errors;
    /// `seed` is ignored (lstmkit seeds every layer itself).
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        initializer_from(&v).map_err(de::Error::custom)
    }
}

/// Reads an initialiser as Keras writes it (see the `Deserialize` impl).
pub(crate) fn initializer_from(v: &Value) -> std::result::Result<Initializer, String> {
    let (cls, cfg) = match v {
        Value::String(s) => (s.clone(), None),
        Value::Object(o) => {
            let cls = o
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or("has no class_name")?;
            (cls.to_string(), o.get("config"))
        }
        x => return Err(format!("must be an initializer, got {x}")),
    };
    let init = Initializer::from_name(&cls).map_err(|e| e.detail())?;
    if let Some(Value::Object(p)) = cfg {
        for (k, val) in p {
            let ok = match (k.as_str(), init) {
                ("seed" | "input_axes" | "output_axes", _) => true,
                ("gain", Initializer::Orthogonal) => val.as_f64() == Some(1.0),
                ("minval", Initializer::RandomUniform) => val.as_f64() == Some(-0.05),
                ("maxval", Initializer::RandomUniform) => val.as_f64() == Some(0.05),
                ("mean", Initializer::RandomNormal) => val.as_f64() == Some(0.0),
                ("stddev", Initializer::RandomNormal) => val.as_f64() == Some(0.05),
                _ => val.is_null(),
            };
            if !ok {
                return Err(format!(
                    "{cls} with {k}={val} is not supported (only Keras' default parameters)"
                ));
            }
        }
    }
    Ok(init)
}

/// serde for `Option<Regularizer>` fields: Keras' `{"class_name": "L2", "config":
/// {"l2": 0.01}}`, a bare `"l2"`, null, or the experiment file's `{ l1 = .., l2 = .. }`.
pub mod regularizer {
    use super::*;

    /// Writes Keras' form (null for none).
    pub fn serialize<S: Serializer>(
        r: &Option<Regularizer>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        r.map(|r| r.to_keras()).serialize(s)
    }

    /// Reads any of the forms above; negative or non-finite factors are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<Regularizer>, D::Error> {
        let v = Value::deserialize(d)?;
        if let Value::Object(o) = &v {
            if !o.contains_key("class_name") {
                if let Some(k) = o.keys().find(|k| *k != "l1" && *k != "l2") {
                    return Err(de::Error::custom(format!(
                        "has an unknown key '{k}' (a penalty is {{ l1 = .., l2 = .. }} or Keras' {{\"class_name\": \"L2\", ...}})"
                    )));
                }
            }
        }
        let r = Regularizer::from_keras(&v).map_err(|e| de::Error::custom(e.detail()))?;
        if let Some(r) = r {
            if !(r.l1 >= 0.0 && r.l2 >= 0.0 && r.l1.is_finite() && r.l2.is_finite()) {
                return Err(de::Error::custom(format!(
                    "needs l1, l2 >= 0 (got l1 = {}, l2 = {})",
                    r.l1, r.l2
                )));
            }
        }
        Ok(r)
    }
}

/// The field names of a config struct, as its derived `Deserialize` declares them.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(
            self,
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Reads a config struct from a JSON object; errors name the layer, its class and the option.
fn read<T: DeserializeOwned>(class: &str, name: &str, v: &Value) -> Result<T> {
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| read_error::<T>(class, name, e))
}

/// The error of [`read`], naming the layer, its class and the option.
fn read_error<T: DeserializeOwned>(
    class: &str,
    name: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> Error {
    let path = e.path().to_string();
    let msg = e.inner().to_string();
    let known = || field_names::<T>().join(", ");
    let text = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        format!("unknown option '{key}' (known: {})", known())
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        format!("option '{key}' is missing")
    } else if path == "." || path.is_empty() {
        msg
    } else {
        format!("option '{path}' {}", strip_serde_noise(&msg))
    };
    Error::Config(format!("layer '{name}' ({class}): {text}"))
}

/// An error about option `key` of layer `name` (class `class`), found after
/// reading (a check in [`LayerConfig::build`](super::LayerConfig::build)).
pub fn option_error(class: &str, name: &str, key: &str, msg: impl std::fmt::Display) -> Error {
    Error::Config(format!("layer '{name}' ({class}): option '{key}' {msg}"))
}

/// serde's own type errors read "invalid type: string \"four\", expected usize".
fn strip_serde_noise(msg: &str) -> String {
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        format!("has the wrong type: {msg}")
    } else {
        msg.to_string()
    }
}

/// Keys of a Keras layer config that belong to the layer object rather than its
/// options: the model reader takes them (`name`, `trainable`) or checks them (`dtype`).
const MODEL_KEYS: &[&str] = &[
    "name",
    "trainable",
    "dtype",
    "module",
    "registered_name",
    "batch_input_shape",
    "batch_shape",
    "input_shape",
    "input_dim",
];

/// Options whose Keras value None is not their default.
const NULL_MEANS_NONE: &[&str] = &["merge_mode"];

/// Reads a config struct from a Keras layer config. Keys the struct does not
/// name are dropped when null or false (a Keras version's extra option left at
/// its default) and refused, naming them, otherwise; null stands for the
/// option's default.
pub fn read_keras<T: DeserializeOwned>(class: &str, v: &Value) -> Result<T> {
    let name = v.get("name").and_then(Value::as_str).unwrap_or("?");
    let Value::Object(o) = v else {
        return Err(Error::Config(format!(
            "{class} layer: the config must be a JSON object, got {v}"
        )));
    };
    check_dtype(class, name, o.get("dtype"))?;
    let fields = field_names::<T>();
    let mut m = serde_json::Map::new();
    for (k, x) in o {
        if MODEL_KEYS.contains(&k.as_str()) {
            continue;
        }
        if !fields.contains(&k.as_str()) && matches!(x, Value::Null | Value::Bool(false)) {
            continue;
        }
        // Keras writes None for "the default" (an initialiser, a seed); only
        // `merge_mode` gives None a meaning of its own
        if x.is_null() && !NULL_MEANS_NONE.contains(&k.as_str()) {
            continue;
        }
        m.insert(k.clone(), x.clone());
    }
    read(class, name, &Value::Object(m))
}

/// Reads a config struct from an experiment-file table (its keys without
/// `type`, `name` and `inputs`): every key must be an option of the layer.
pub fn read_table<T: DeserializeOwned>(class: &str, name: &str, args: &Value) -> Result<T> {
    read(class, name, args)
}

/// The Keras config object of a config struct.
pub fn write<T: Serialize>(cfg: &T) -> Value {
    serde_json::to_value(cfg).unwrap_or(Value::Null)
}

/// The layer's dtype must be float32 (Keras 3 `DTypePolicy` or a plain string).
fn check_dtype(class: &str, name: &str, dtype: Option<&Value>) -> Result<()> {
    let err = |m: String| Error::Config(format!("layer '{name}' ({class}): option 'dtype' {m}"));
    let policy = match dtype {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("float32")
            .to_string(),
        Some(x) => return Err(err(format!("is not understood: {x}"))),
    };
    if policy != "float32" {
        return Err(err(format!(
            "= '{policy}' is not supported (lstmkit computes in float32)"
        )));
    }
    Ok(())
}

/// Serde default helpers: `#[serde(default = "config::yes")]`.
pub fn yes() -> bool {
    true
}

/// The initialiser defaults Keras' layers share: `#[serde(default = "config::zeros")]`.
pub fn zeros() -> Initializer {
    Initializer::Zeros
}

/// `Initializer::Ones` (gamma, moving variance).
pub fn ones() -> Initializer {
    Initializer::Ones
}

/// `Initializer::GlorotUniform` (kernels).
pub fn glorot_uniform() -> Initializer {
    Initializer::GlorotUniform
}

/// 1e-3, the normalisation layers' default epsilon.
pub fn norm_epsilon() -> f32 {
    1e-3
}

/// A config struct with every option at its default but those in `given`
/// (its required options, e.g. `{"units": 4}`): the defaults are the ones its
/// serde attributes state, the same the readers use, written nowhere else.
///
/// ```
/// use lstmkit::nn::dense::DenseConfig;
/// let c: DenseConfig = lstmkit::nn::config::defaults(serde_json::json!({"units": 3}));
/// assert_eq!((c.units, c.use_bias), (3, true));
/// ```
pub fn defaults<T: DeserializeOwned>(given: Value) -> T {
    // every layer's `new`/`default` is built in its tests, so a config type
    // whose other options lack a default fails there, never on user input
    serde_json::from_value(given).expect("every option not given has a serde default")
}

/// `tanh`, the recurrent layers' default activation.
pub fn tanh() -> Activation {
    Activation::Tanh
}

/// `sigmoid`, the recurrent layers' default gate activation.
pub fn sigmoid() -> Activation {
    Activation::Sigmoid
}

/// An option that holds another layer: TimeDistributed's `layer` (and
/// Bidirectional's `layer` and `backward_layer`). Read from Keras' form
/// `{"class_name": "Dense", "config": {...}}` or from an experiment table with
/// its own `type` (`layer = { type = "dense", units = 3 }`); written in Keras'
/// form ([`NestedLayer::of`] a built layer).
///
/// ```
/// use lstmkit::nn::config::NestedLayer;
/// let n: NestedLayer = serde_json::from_value(serde_json::json!({"type": "dense", "units": 3})).unwrap();
/// let l = n.build("TimeDistributed", "td", "layer").unwrap();
/// assert_eq!(l.class_name(), "Dense");
/// assert_eq!(NestedLayer::of(&*l).value()["config"]["units"], 3);
/// let bad: NestedLayer = serde_json::from_value(serde_json::json!({"type": "dense", "unitz": 3})).unwrap();
/// let e = bad.build("TimeDistributed", "td", "layer").err().unwrap().to_string();
/// assert!(e.contains("'td'") && e.contains("option 'layer'") && e.contains("td/layer") && e.contains("unitz"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NestedLayer(Value);

/// A [`NestedLayer`] found in the layer table: a wrapper reads it with
/// `(row.kind.read)(&row.config, row.source)`, or with a reader of its own
/// (Bidirectional: the row's recurrent reader).
pub struct NestedRow<'a> {
    /// The nested layer's row of [`LAYERS`](super::LAYERS).
    pub kind: &'static super::LayerKind,
    /// Its config (Keras' `config`, or the table without `type`).
    pub config: Value,
    /// Where it comes from (a table is named by the label given to [`NestedLayer::row`]).
    pub source: super::Source<'a>,
}

impl NestedLayer {
    /// Keras' form of a built layer.
    pub fn of(layer: &dyn super::Layer) -> Self {
        NestedLayer(serde_json::json!({
            "module": "keras.layers",
            "class_name": layer.class_name(),
            "config": layer.config(),
            "registered_name": Value::Null,
        }))
    }

    /// The JSON object as read (or as [`NestedLayer::of`] wrote it).
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// Its row of the layer table; `label` names it in errors when it is an
    /// experiment table (`NAME/layer`). The error is a message to follow
    /// "option 'KEY'" of the wrapper.
    pub fn row<'a>(&self, label: &'a str) -> std::result::Result<NestedRow<'a>, String> {
        let empty = serde_json::Map::new();
        let o = self.0.as_object().unwrap_or(&empty);
        if let Some(kind) = o.get("type").and_then(Value::as_str) {
            let row = super::LAYERS
                .iter()
                .find(|k| k.kind == kind)
                .ok_or_else(|| {
                    format!(
                        "has unknown type '{kind}' (known: {})",
                        super::LAYERS
                            .iter()
                            .map(|k| k.kind)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let mut rest = o.clone();
            rest.remove("type");
            return Ok(NestedRow {
                kind: row,
                config: Value::Object(rest),
                source: super::Source::Table(label),
            });
        }
        let class = o.get("class_name").and_then(Value::as_str).unwrap_or("");
        let row = super::kind_of_class(class).ok_or_else(|| {
            format!(
                "wraps the unsupported layer class '{class}' (supported: {})",
                super::supported_classes()
            )
        })?;
        Ok(NestedRow {
            kind: row,
            config: o.get("config").cloned().unwrap_or(Value::Null),
            source: super::Source::Keras,
        })
    }

    /// Reads and builds the nested layer. Errors name the wrapper (`class`,
    /// `name`) and the option (`key`); a layer given as a table is named
    /// `NAME/KEY` in them.
    pub fn build(&self, class: &str, name: &str, key: &str) -> Result<Box<dyn super::Layer>> {
        let label = format!("{name}/{key}");
        let row = self
            .row(&label)
            .map_err(|m| option_error(class, name, key, m))?;
        (row.kind.read)(&row.config, row.source)
            .map_err(|e| option_error(class, name, key, e.detail()))
    }
}

impl<'de> Deserialize<'de> for NestedLayer {
    /// An object with a string `type` (experiment table) or `class_name` (Keras).
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let has = |k: &str| v.get(k).is_some_and(Value::is_string);
        if v.is_object() && (has("type") || has("class_name")) {
            Ok(NestedLayer(v))
        } else {
            Err(de::Error::custom(format!(
                "must be a layer: a table with its type like {{ type = \"dense\", units = 3 }}, \
                 or Keras' {{\"class_name\": ..., \"config\": {{...}}}}; got {v}"
            )))
        }
    }
}

impl Serialize for NestedLayer {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
