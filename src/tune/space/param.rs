//! One hyper-parameter: its kind (`Int`, `Float`, `Choice`, `Boolean`,
//! `Fixed`), sampling, default and conditions, checked with Keras Tuner's
//! rules and mapped to and from `p ∈ [0, 1)` with its formulas.

use super::numeric::{check_range, index_to_prob, prob_to_index, Numeric};
use super::value::{Value, Values};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

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
        if self.name.is_empty() {
            return Err(Error::Config("hyper-parameter with an empty name".into()));
        }
        if let Kind::Int { step, sampling, .. } = &mut self.kind {
            if step.is_none() && *sampling == Sampling::Linear {
                *step = Some(1);
            }
        }
        let checked = match &self.kind {
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => check_range(*min, *max, *step, *sampling),
            Kind::Float {
                min,
                max,
                step,
                sampling,
            } => check_range(*min, *max, *step, *sampling),
            Kind::Choice { values, ordered } => check_choice(values, *ordered),
            Kind::Boolean | Kind::Fixed { .. } => Ok(()),
        }
        .and_then(|()| match &self.default {
            Some(d) if !self.contains(d) => {
                Err(format!("the default {d} is not one of the possible values"))
            }
            _ => Ok(()),
        });
        if let Err(m) = checked {
            return Err(Error::Config(format!(
                "hyper-parameter '{}': {m}",
                self.name
            )));
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
        match self.view() {
            View::Numeric(r) => r.prob_to_value(prob),
            View::Choice(values) => values[prob_to_index(prob, values.len())].clone(),
            View::Boolean => Value::Bool(prob >= 0.5),
            View::Fixed(value) => value.clone(),
        }
    }

    /// Keras Tuner's `value_to_prob`: a value → its cumulative probability.
    pub fn value_to_prob(&self, v: &Value) -> f64 {
        match self.view() {
            View::Numeric(r) => r.value_to_prob(v),
            View::Choice(values) => {
                let i = values.iter().position(|c| c.same(v)).unwrap_or(0);
                index_to_prob(i as f64, values.len())
            }
            View::Boolean => {
                if v.as_bool() == Some(true) {
                    0.75
                } else {
                    0.25
                }
            }
            View::Fixed(_) => 0.5,
        }
    }

    /// Keras Tuner's `values`: the finite list a grid search walks. A float
    /// without a step gives `prob_to_value(0.05 + 0.1 i)`, i = 0..9 (Keras
    /// puts these in a set; here they are in increasing `p` order).
    pub fn grid_values(&self) -> Vec<Value> {
        match self.view() {
            View::Numeric(r) => r.grid_values(),
            View::Choice(values) => values.to_vec(),
            View::Boolean => vec![Value::Bool(true), Value::Bool(false)],
            View::Fixed(value) => vec![value.clone()],
        }
    }

    /// The kind as the formulas see it (an `Int` or `Float` as a range in floats).
    fn view(&self) -> View<'_> {
        match &self.kind {
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => View::Numeric(Numeric {
                min: *min as f64,
                max: *max as f64,
                step: step.map(|s| s as f64),
                sampling: *sampling,
                int: true,
            }),
            Kind::Float {
                min,
                max,
                step,
                sampling,
            } => View::Numeric(Numeric {
                min: *min,
                max: *max,
                step: *step,
                sampling: *sampling,
                int: false,
            }),
            Kind::Choice { values, .. } => View::Choice(values),
            Kind::Boolean => View::Boolean,
            Kind::Fixed { value } => View::Fixed(value),
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

/// How the formulas see a kind.
enum View<'a> {
    Numeric(Numeric),
    Choice(&'a [Value]),
    Boolean,
    Fixed(&'a Value),
}

/// Keras Tuner's checks of a `Choice`; the error is the message without
/// the parameter's name.
fn check_choice(values: &[Value], ordered: bool) -> std::result::Result<(), String> {
    if values.is_empty() {
        return Err("`values` must be provided for a choice".into());
    }
    let disc = |v: &Value| std::mem::discriminant(v);
    let numeric = values
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Float(_)));
    if !numeric && values.iter().any(|v| disc(v) != disc(&values[0])) {
        return Err(format!(
            "a choice can contain only one type of value: {values:?}"
        ));
    }
    if ordered && !numeric {
        return Err("`ordered` must be false for non-numeric choices".into());
    }
    Ok(())
}
