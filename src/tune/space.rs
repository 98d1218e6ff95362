//! Search-space definitions, exactly as Keras Tuner defines them: `Int`,
//! `Float` (min, max, step, sampling linear / log / reverse_log), `Choice`,
//! `Boolean`, `Fixed`, and conditions (a parameter is active only while a
//! parent takes one of given values).
//!
//! Every parameter maps a cumulative probability `p ∈ [0, 1)` to a value
//! ([`HyperParameter::prob_to_value`]) and back ([`HyperParameter::value_to_prob`])
//! with Keras Tuner's formulas (`keras_tuner/src/engine/hyperparameters/
//! hp_types/numerical.py`, `hp_utils.py`): random search draws `p` uniformly,
//! TPE models the observed `p`s.
//!
//! ```
//! use lstmkit::tune::{HyperParameter, Sampling, Value};
//! let units = HyperParameter::int("units", 32, 128).step(32);
//! assert_eq!(units.prob_to_value(0.0), Value::Int(32));
//! assert_eq!(units.prob_to_value(0.99), Value::Int(128));
//! let lr = HyperParameter::float("learning_rate", 1e-4, 1e-2).sampling(Sampling::Log);
//! let mid = lr.prob_to_value(0.5).as_f64().unwrap();
//! assert!((mid - 1e-3).abs() < 1e-12);
//! ```

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A hyper-parameter value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
}

impl Value {
    /// The value as a float (ints convert; bools and strings do not).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    /// The value as an integer (floats with an integral value convert).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
            _ => None,
        }
    }
    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// Equality that treats `Int(3)` and `Float(3.0)` as equal (values
    /// round-trip through JSON and TOML).
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                self.as_f64() == other.as_f64()
            }
            _ => self == other,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:.6e}"),
            Value::Str(s) => write!(f, "{s}"),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

/// The values of one trial: parameter name → value (active parameters only).
pub type Values = BTreeMap<String, Value>;

/// How a numeric range is projected from `p ∈ [0, 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// `min + p (max − min)`.
    Linear,
    /// `min (max/min)^p`.
    Log,
    /// `max + min − min (max/min)^(1−p)`: dense near `max`.
    ReverseLog,
}

impl Sampling {
    /// Parses `linear`, `log` or `reverse_log` (case-insensitive, like Keras Tuner).
    pub fn from_name(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "linear" => Ok(Sampling::Linear),
            "log" => Ok(Sampling::Log),
            "reverse_log" => Ok(Sampling::ReverseLog),
            other => Err(Error::Config(format!(
                "sampling must be one of linear, log, reverse_log (got '{other}')"
            ))),
        }
    }
}

/// A condition: the parameter is active only while `parent` takes one of `values`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The parent parameter's name.
    pub parent: String,
    /// The parent values that activate the child.
    pub values: Vec<Value>,
}

impl Condition {
    /// Whether the condition holds for `values` (false when the parent is absent).
    pub fn holds(&self, values: &Values) -> bool {
        match values.get(&self.parent) {
            Some(v) => self.values.iter().any(|c| c.same(v)),
            None => false,
        }
    }
}

/// The type of a hyper-parameter and its range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Kind {
    /// Integers in `[min, max]` (both included). Keras: linear sampling
    /// without a step means step 1.
    Int {
        /// Lower bound (included).
        min: i64,
        /// Upper bound (included).
        max: i64,
        /// Distance (linear) or ratio (log) between values.
        step: Option<i64>,
        /// Projection from `p`.
        sampling: Sampling,
    },
    /// Floats in `[min, max]`.
    Float {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// Distance (linear) or ratio (log) between values; none = continuous.
        step: Option<f64>,
        /// Projection from `p`.
        sampling: Sampling,
    },
    /// One of a list of values of one type.
    Choice {
        /// The choices.
        values: Vec<Value>,
        /// Whether the values are ordered (numeric choices are by default).
        ordered: bool,
    },
    /// `true` or `false`.
    Boolean,
    /// A constant.
    Fixed {
        /// The value.
        value: Value,
    },
}

/// One hyper-parameter: name, kind, default, conditions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HyperParameter {
    /// Unique name in the space.
    pub name: String,
    /// Type and range.
    pub kind: Kind,
    /// Explicit default (Keras: `min` for numbers, the first choice, `false`).
    pub default: Option<Value>,
    /// All must hold for the parameter to be active.
    pub conditions: Vec<Condition>,
}

fn prob_to_index(prob: f64, n: usize) -> usize {
    let ele = 1.0 / n as f64;
    let idx = (prob / ele).floor();
    let idx = if idx < 0.0 { 0 } else { idx as usize };
    if idx >= n {
        n - 1
    } else {
        idx
    }
}

fn index_to_prob(index: f64, n: usize) -> f64 {
    (index + 0.5) / n as f64
}

/// Keras Tuner's `_sample_numerical_value`.
fn sample_numerical(s: Sampling, min: f64, max: f64, prob: f64) -> f64 {
    match s {
        Sampling::Linear => prob * (max - min) + min,
        Sampling::Log => min * (max / min).powf(prob),
        Sampling::ReverseLog => max + min - min * (max / min).powf(1.0 - prob),
    }
}

/// Keras Tuner's `_numerical_to_prob`.
fn numerical_to_prob(s: Sampling, min: f64, max: f64, value: f64) -> f64 {
    if max == min {
        return 0.5;
    }
    match s {
        Sampling::Linear => (value - min) / (max - min),
        Sampling::Log => (value / min).ln() / (max / min).ln(),
        Sampling::ReverseLog => 1.0 - ((max + min - value) / min).ln() / (max / min).ln(),
    }
}

/// Keras Tuner's `_get_n_values`.
fn n_values(s: Sampling, min: f64, max: f64, step: f64) -> usize {
    match s {
        Sampling::Linear => (((max - min) / step).floor() + 1.0).max(1.0) as usize,
        _ => ((max / min).ln() / step.ln() + 1e-8).floor().max(0.0) as usize + 1,
    }
}

/// Keras Tuner's `_get_value_by_index`.
fn value_by_index(s: Sampling, min: f64, max: f64, step: f64, index: usize) -> f64 {
    match s {
        Sampling::Linear => min + index as f64 * step,
        Sampling::Log => min * step.powi(index as i32),
        Sampling::ReverseLog => max + min - min * step.powi(index as i32),
    }
}

/// Keras Tuner's `_to_prob_with_step`.
fn to_prob_with_step(s: Sampling, min: f64, max: f64, step: f64, value: f64) -> f64 {
    let index = match s {
        Sampling::Linear => ((value - min) / step).floor(),
        Sampling::Log => (value / min).ln() / step.ln(),
        Sampling::ReverseLog => ((max - value + min) / min).ln() / step.ln(),
    };
    index_to_prob(index, n_values(s, min, max, step))
}

impl HyperParameter {
    fn new(name: &str, kind: Kind) -> Self {
        HyperParameter {
            name: name.to_string(),
            kind,
            default: None,
            conditions: Vec::new(),
        }
    }
    /// `hp.Int(name, min, max)` (linear, step 1 until changed).
    pub fn int(name: &str, min: i64, max: i64) -> Self {
        Self::new(
            name,
            Kind::Int {
                min,
                max,
                step: None,
                sampling: Sampling::Linear,
            },
        )
    }
    /// `hp.Float(name, min, max)` (linear, continuous until changed).
    pub fn float(name: &str, min: f64, max: f64) -> Self {
        Self::new(
            name,
            Kind::Float {
                min,
                max,
                step: None,
                sampling: Sampling::Linear,
            },
        )
    }
    /// `hp.Choice(name, values)`; numeric choices are ordered.
    pub fn choice(name: &str, values: Vec<Value>) -> Self {
        let ordered = values
            .first()
            .map(|v| matches!(v, Value::Int(_) | Value::Float(_)))
            .unwrap_or(false);
        Self::new(name, Kind::Choice { values, ordered })
    }
    /// `hp.Boolean(name)`.
    pub fn boolean(name: &str) -> Self {
        Self::new(name, Kind::Boolean)
    }
    /// `hp.Fixed(name, value)`.
    pub fn fixed(name: &str, value: Value) -> Self {
        Self::new(name, Kind::Fixed { value })
    }
    /// Sets the step (numbers only; a float step on an `Int` is truncated).
    pub fn step(mut self, s: impl Into<f64>) -> Self {
        let s: f64 = s.into();
        match &mut self.kind {
            Kind::Int { step, .. } => *step = Some(s as i64),
            Kind::Float { step, .. } => *step = Some(s),
            _ => {}
        }
        self
    }
    /// Sets the sampling (numbers only).
    pub fn sampling(mut self, s: Sampling) -> Self {
        match &mut self.kind {
            Kind::Int { sampling, .. } | Kind::Float { sampling, .. } => *sampling = s,
            _ => {}
        }
        self
    }
    /// Sets the default value.
    pub fn default_value(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }
    /// Adds a condition: active only while `parent` takes one of `values`.
    pub fn when(mut self, parent: &str, values: Vec<Value>) -> Self {
        self.conditions.push(Condition {
            parent: parent.to_string(),
            values,
        });
        self
    }

    /// Completes Keras' implicit settings (`Int` linear without step → step 1)
    /// and checks the definition with Keras Tuner's rules.
    pub fn validate(mut self) -> Result<Self> {
        let name = self.name.clone();
        let bad = |m: String| Err(Error::Config(format!("hyper-parameter '{name}': {m}")));
        if self.name.is_empty() {
            return Err(Error::Config("hyper-parameter with an empty name".into()));
        }
        match &mut self.kind {
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => {
                if step.is_none() && *sampling == Sampling::Linear {
                    *step = Some(1);
                }
                if min > max {
                    return bad(format!(
                        "min_value {min} is greater than the max_value {max}"
                    ));
                }
                if *sampling != Sampling::Linear && *min <= 0 {
                    return bad(format!(
                        "sampling='{sampling:?}' does not support non-positive values, found min_value: {min}"
                    ));
                }
                if let Some(s) = step {
                    if *sampling != Sampling::Linear && *s <= 1 {
                        return bad(format!("expected step > 1 with log sampling, got {s}"));
                    }
                    if *s <= 0 {
                        return bad(format!("step must be positive, got {s}"));
                    }
                }
            }
            Kind::Float {
                min,
                max,
                step,
                sampling,
            } => {
                if !min.is_finite() || !max.is_finite() {
                    return bad("bounds must be finite".into());
                }
                if min > max {
                    return bad(format!(
                        "min_value {min} is greater than the max_value {max}"
                    ));
                }
                if *sampling != Sampling::Linear && *min <= 0.0 {
                    return bad(format!(
                        "sampling='{sampling:?}' does not support non-positive values, found min_value: {min}"
                    ));
                }
                if let Some(s) = step {
                    if *sampling != Sampling::Linear && *s <= 1.0 {
                        return bad(format!("expected step > 1 with log sampling, got {s}"));
                    }
                    if *s <= 0.0 || !s.is_finite() {
                        return bad(format!("step must be positive, got {s}"));
                    }
                }
            }
            Kind::Choice { values, ordered } => {
                if values.is_empty() {
                    return bad("`values` must be provided for a choice".into());
                }
                let disc = |v: &Value| std::mem::discriminant(v);
                let numeric = values
                    .iter()
                    .all(|v| matches!(v, Value::Int(_) | Value::Float(_)));
                if !numeric && values.iter().any(|v| disc(v) != disc(&values[0])) {
                    return bad(format!(
                        "a choice can contain only one type of value: {values:?}"
                    ));
                }
                if *ordered && !numeric {
                    return bad("`ordered` must be false for non-numeric choices".into());
                }
            }
            Kind::Boolean | Kind::Fixed { .. } => {}
        }
        if let Some(d) = &self.default {
            if !self.contains(d) {
                return bad(format!("the default {d} is not one of the possible values"));
            }
        }
        Ok(self)
    }

    /// Whether `v` is a value this parameter can take.
    pub fn contains(&self, v: &Value) -> bool {
        match &self.kind {
            Kind::Int { min, max, .. } => v.as_i64().is_some_and(|i| i >= *min && i <= *max),
            Kind::Float { min, max, .. } => v.as_f64().is_some_and(|x| x >= *min && x <= *max),
            Kind::Choice { values, .. } => values.iter().any(|c| c.same(v)),
            Kind::Boolean => v.as_bool().is_some(),
            Kind::Fixed { value } => value.same(v),
        }
    }

    /// The default value: explicit, else `min`, the first choice, `false`, the fixed value.
    pub fn default_or_first(&self) -> Value {
        if let Some(d) = &self.default {
            return d.clone();
        }
        match &self.kind {
            Kind::Int { min, .. } => Value::Int(*min),
            Kind::Float { min, .. } => Value::Float(*min),
            Kind::Choice { values, .. } => values[0].clone(),
            Kind::Boolean => Value::Bool(false),
            Kind::Fixed { value } => value.clone(),
        }
    }

    /// Keras Tuner's `prob_to_value`: `prob ∈ [0, 1)` → a value.
    pub fn prob_to_value(&self, prob: f64) -> Value {
        match &self.kind {
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => {
                let (lo, hi) = (*min as f64, *max as f64);
                match step {
                    None => {
                        Value::Int(sample_numerical(*sampling, lo, hi + 1.0, prob).trunc() as i64)
                    }
                    Some(s) => {
                        let n = n_values(*sampling, lo, hi, *s as f64);
                        let i = prob_to_index(prob, n);
                        Value::Int(value_by_index(*sampling, lo, hi, *s as f64, i).trunc() as i64)
                    }
                }
            }
            Kind::Float {
                min,
                max,
                step,
                sampling,
            } => match step {
                None => Value::Float(sample_numerical(*sampling, *min, *max, prob)),
                Some(s) => {
                    let n = n_values(*sampling, *min, *max, *s);
                    Value::Float(value_by_index(
                        *sampling,
                        *min,
                        *max,
                        *s,
                        prob_to_index(prob, n),
                    ))
                }
            },
            Kind::Choice { values, .. } => values[prob_to_index(prob, values.len())].clone(),
            Kind::Boolean => Value::Bool(prob >= 0.5),
            Kind::Fixed { value } => value.clone(),
        }
    }

    /// Keras Tuner's `value_to_prob`: a value → its cumulative probability.
    pub fn value_to_prob(&self, v: &Value) -> f64 {
        match &self.kind {
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => {
                let x = v.as_f64().unwrap_or(*min as f64);
                let (lo, hi) = (*min as f64, *max as f64);
                match step {
                    None => numerical_to_prob(*sampling, lo, hi + 1.0, x + 0.5),
                    Some(s) => to_prob_with_step(*sampling, lo, hi, *s as f64, x),
                }
            }
            Kind::Float {
                min,
                max,
                step,
                sampling,
            } => {
                let x = v.as_f64().unwrap_or(*min);
                match step {
                    None => numerical_to_prob(*sampling, *min, *max, x),
                    Some(s) => to_prob_with_step(*sampling, *min, *max, *s, x),
                }
            }
            Kind::Choice { values, .. } => {
                let i = values.iter().position(|c| c.same(v)).unwrap_or(0);
                index_to_prob(i as f64, values.len())
            }
            Kind::Boolean => {
                if v.as_bool() == Some(true) {
                    0.75
                } else {
                    0.25
                }
            }
            Kind::Fixed { .. } => 0.5,
        }
    }

    /// Keras Tuner's `values`: the finite list a grid search walks. A float
    /// without a step gives `prob_to_value(0.05 + 0.1 i)`, i = 0..9 (Keras
    /// puts these in a set; here they are in increasing `p` order).
    pub fn grid_values(&self) -> Vec<Value> {
        match &self.kind {
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => match step {
                Some(s) => {
                    let n = n_values(*sampling, *min as f64, *max as f64, *s as f64);
                    (0..n)
                        .map(|i| {
                            Value::Int(
                                value_by_index(*sampling, *min as f64, *max as f64, *s as f64, i)
                                    .trunc() as i64,
                            )
                        })
                        .collect()
                }
                None => {
                    let mut out: Vec<Value> = Vec::new();
                    for i in 0..10 {
                        let v = self.prob_to_value(i as f64 * 0.1 + 0.05);
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                    out
                }
            },
            Kind::Float {
                min,
                max,
                step,
                sampling,
            } => match step {
                Some(s) => {
                    let n = n_values(*sampling, *min, *max, *s);
                    (0..n)
                        .map(|i| Value::Float(value_by_index(*sampling, *min, *max, *s, i)))
                        .collect()
                }
                None => (0..10)
                    .map(|i| self.prob_to_value(i as f64 * 0.1 + 0.05))
                    .collect(),
            },
            Kind::Choice { values, .. } => values.clone(),
            Kind::Boolean => vec![Value::Bool(true), Value::Bool(false)],
            Kind::Fixed { value } => vec![value.clone()],
        }
    }

    /// Whether every condition holds for `values`.
    pub fn is_active(&self, values: &Values) -> bool {
        self.conditions.iter().all(|c| c.holds(values))
    }

    /// Whether the parameter is categorical (unordered choice or boolean) for TPE.
    pub fn is_categorical(&self) -> bool {
        matches!(
            self.kind,
            Kind::Boolean | Kind::Choice { ordered: false, .. }
        )
    }
}

/// An ordered set of hyper-parameters (declaration order matters: grid
/// search varies the last one fastest, parents come before children).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// The parameters in declaration order.
    pub params: Vec<HyperParameter>,
}

impl Space {
    /// An empty space.
    pub fn new() -> Self {
        Space::default()
    }

    /// Adds a parameter (validated). Adding an identical definition again is
    /// a no-op; a different definition under the same name is an error.
    pub fn add(&mut self, hp: HyperParameter) -> Result<&HyperParameter> {
        let hp = hp.validate()?;
        if let Some(i) = self.params.iter().position(|p| p.name == hp.name) {
            if self.params[i].kind != hp.kind || self.params[i].conditions != hp.conditions {
                return Err(Error::Config(format!(
                    "hyper-parameter '{}' is defined twice with different ranges or conditions",
                    hp.name
                )));
            }
            return Ok(&self.params[i]);
        }
        for c in &hp.conditions {
            if !self.params.iter().any(|p| p.name == c.parent) {
                return Err(Error::Config(format!(
                    "hyper-parameter '{}' is conditioned on '{}', which is not defined before it",
                    hp.name, c.parent
                )));
            }
        }
        self.params.push(hp);
        Ok(self.params.last().expect("just pushed"))
    }

    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&HyperParameter> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the space has no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Default values of the active parameters (Keras: the first grid point).
    pub fn defaults(&self) -> Values {
        let mut v = Values::new();
        for p in &self.params {
            if p.is_active(&v) {
                v.insert(p.name.clone(), p.default_or_first());
            }
        }
        v
    }

    /// Keeps only the active parameters of `values`, filling missing active
    /// ones with their defaults (Keras' `ensure_active_values`).
    pub fn ensure_active(&self, values: &Values) -> Values {
        let mut out = Values::new();
        for p in &self.params {
            if p.is_active(&out) {
                let v = values
                    .get(&p.name)
                    .filter(|v| p.contains(v))
                    .cloned()
                    .unwrap_or_else(|| p.default_or_first());
                out.insert(p.name.clone(), v);
            }
        }
        out
    }

    /// Checks that `values` assigns a valid value to every active parameter.
    pub fn check_values(&self, values: &Values) -> Result<()> {
        for p in &self.params {
            if p.is_active(values) {
                match values.get(&p.name) {
                    Some(v) if p.contains(v) => {}
                    Some(v) => {
                        return Err(Error::Config(format!(
                            "value {v} is out of the range of hyper-parameter '{}'",
                            p.name
                        )))
                    }
                    None => {
                        return Err(Error::Config(format!(
                            "no value for the active hyper-parameter '{}'",
                            p.name
                        )))
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
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
        let g: Vec<f64> = h
            .grid_values()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
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
        let g: Vec<f64> = h
            .grid_values()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(g.len(), 6);
        assert!(close(g[5], 1.0));
        let h = HyperParameter::float("d", 0.0, 1.0).validate().unwrap();
        let g: Vec<f64> = h
            .grid_values()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
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
}
