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

mod numeric;
mod param;
#[cfg(test)]
mod tests;
mod value;

pub use param::{Condition, HyperParameter, Kind, Sampling};
pub use value::{Value, Values};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

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
