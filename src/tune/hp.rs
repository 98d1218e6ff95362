//! The `hp` object handed to a model-building closure, like Keras Tuner's
//! `build_model(hp)`: each `hp.int(...)`, `hp.float(...)`, ... call declares
//! a hyper-parameter (the first time) and returns the value of the current
//! trial (its default while the space is being discovered).
//!
//! ```
//! use lstmkit::tune::{HyperParameters, Sampling};
//! let mut hp = HyperParameters::new();
//! let units = hp.int("units", 32, 128).step(32).get().unwrap();
//! let lr = hp.float("learning_rate", 1e-4, 1e-2).sampling(Sampling::Log).get().unwrap();
//! assert_eq!((units, lr), (32, 1e-4)); // defaults: the minimum
//! assert_eq!(hp.space().len(), 2);
//! ```

use std::marker::PhantomData;

use super::space::{Condition, HyperParameter, Sampling, Space, Value, Values};
use crate::error::{Error, Result};

/// The hyper-parameters of one trial: the space declared so far and the values.
#[derive(Clone, Debug, Default)]
pub struct HyperParameters {
    space: Space,
    values: Values,
    scopes: Vec<Condition>,
    /// Every condition stack a `conditional_scope` was entered with, and
    /// whether it was active then.
    scopes_seen: Vec<(Vec<Condition>, bool)>,
}

impl HyperParameters {
    /// Empty: every declared parameter takes its default (space discovery).
    pub fn new() -> Self {
        Self::default()
    }

    /// A trial's parameters: `values` for the known `space`.
    pub fn from_values(space: Space, values: Values) -> Self {
        HyperParameters {
            space,
            values,
            scopes: Vec::new(),
            scopes_seen: Vec::new(),
        }
    }

    /// The space declared so far.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The values of the active parameters.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The current value of `name` (None when unknown or inactive).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Whether `name` is declared and active for the current values.
    pub fn is_active(&self, name: &str) -> bool {
        self.space
            .get(name)
            .is_some_and(|p| p.is_active(&self.values))
    }

    /// Declares a parameter and returns its value for this trial. Inside an
    /// inactive conditional scope the parameter is registered and its
    /// default returned (Keras Tuner returns `None` there).
    pub fn register(&mut self, mut hp: HyperParameter) -> Result<Value> {
        hp.conditions.extend(self.scopes.iter().cloned());
        let hp = self.space.add(hp)?.clone();
        if !hp.is_active(&self.values) {
            return Ok(hp.default_or_first());
        }
        match self.values.get(&hp.name) {
            Some(v) if hp.contains(v) => Ok(v.clone()),
            Some(v) => Err(Error::Config(format!(
                "value {v} for '{}' is outside its range",
                hp.name
            ))),
            None => {
                let d = hp.default_or_first();
                self.values.insert(hp.name.clone(), d.clone());
                Ok(d)
            }
        }
    }

    /// Runs `f` with every parameter declared inside it conditioned on
    /// `parent` taking one of `values` (Keras' `conditional_scope`).
    pub fn conditional_scope<R>(
        &mut self,
        parent: &str,
        values: Vec<Value>,
        f: impl FnOnce(&mut Self) -> R,
    ) -> Result<R> {
        if self.space.get(parent).is_none() {
            return Err(Error::Config(format!(
                "conditional scope on '{parent}', which is not declared"
            )));
        }
        self.scopes.push(Condition {
            parent: parent.to_string(),
            values,
        });
        let active = self.scopes.iter().all(|c| c.holds(&self.values));
        self.scopes_seen.push((self.scopes.clone(), active));
        let r = f(self);
        self.scopes.pop();
        Ok(r)
    }

    /// `hp.Int(name, min, max)`; finish with `.get()`.
    pub fn int(&mut self, name: &str, min: i64, max: i64) -> IntHp<'_> {
        RangeHp {
            hp: self,
            def: HyperParameter::int(name, min, max),
            number: PhantomData,
        }
    }

    /// `hp.Float(name, min, max)`; finish with `.get()`.
    pub fn float(&mut self, name: &str, min: f64, max: f64) -> FloatHp<'_> {
        RangeHp {
            hp: self,
            def: HyperParameter::float(name, min, max),
            number: PhantomData,
        }
    }

    /// `hp.Choice(name, values)`: returns the chosen value.
    pub fn choice<V: Into<Value>>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Value> {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        self.register(HyperParameter::choice(name, values))
    }

    /// `hp.Boolean(name)`.
    pub fn boolean(&mut self, name: &str) -> Result<bool> {
        let v = self.register(HyperParameter::boolean(name))?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// `hp.Fixed(name, value)`.
    pub fn fixed(&mut self, name: &str, value: impl Into<Value>) -> Result<Value> {
        self.register(HyperParameter::fixed(name, value.into()))
    }
}

/// The number of a range parameter: `i64` (`hp.Int`) or `f64` (`hp.Float`).
pub trait HpNumber: Copy + Into<Value> {
    /// What a value of this kind is, in errors.
    const WHAT: &'static str;
    /// The value as a step of the range.
    fn to_f64(self) -> f64;
    /// A stored value of this kind, if it is one.
    fn from_value(v: &Value) -> Option<Self>;
}

impl HpNumber for i64 {
    const WHAT: &'static str = "an integer";
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_value(v: &Value) -> Option<Self> {
        v.as_i64()
    }
}

impl HpNumber for f64 {
    const WHAT: &'static str = "a number";
    fn to_f64(self) -> f64 {
        self
    }
    fn from_value(v: &Value) -> Option<Self> {
        v.as_f64()
    }
}

/// Builder returned by [`HyperParameters::int`] and [`HyperParameters::float`].
pub struct RangeHp<'a, T> {
    hp: &'a mut HyperParameters,
    def: HyperParameter,
    number: PhantomData<T>,
}

/// Builder returned by [`HyperParameters::int`].
pub type IntHp<'a> = RangeHp<'a, i64>;
/// Builder returned by [`HyperParameters::float`].
pub type FloatHp<'a> = RangeHp<'a, f64>;

impl<T: HpNumber> RangeHp<'_, T> {
    /// Distance (linear) or ratio (log) between values.
    pub fn step(mut self, s: T) -> Self {
        self.def = self.def.step(s.to_f64());
        self
    }
    /// Sampling of the range.
    pub fn sampling(mut self, s: Sampling) -> Self {
        self.def = self.def.sampling(s);
        self
    }
    /// Default value (Keras: `min`).
    pub fn default(mut self, v: T) -> Self {
        self.def = self.def.default_value(v);
        self
    }
    /// Declares the parameter and returns its value.
    pub fn get(self) -> Result<T> {
        let name = self.def.name.clone();
        let v = self.hp.register(self.def)?;
        T::from_value(&v).ok_or_else(|| Error::Config(format!("'{name}' is not {}: {v}", T::WHAT)))
    }
}

/// Discovers the full space of a build closure, as Keras Tuner's
/// `_populate_initial_space`: runs it with defaults, then, while some
/// conditional scope has never been active, once more with values that
/// activate it (each parent at the first of its scope's values).
/// Errors of the closure itself are returned.
pub fn discover_space<T>(
    build: &mut dyn FnMut(&mut HyperParameters) -> Result<T>,
) -> Result<Space> {
    let mut space = Space::new();
    let mut once_active: Vec<Vec<Condition>> = Vec::new();
    let mut never_active: Vec<Vec<Condition>> = Vec::new();
    let mut values = Values::new();
    for _ in 0..256 {
        let mut hp = HyperParameters::from_values(space.clone(), space.ensure_active(&values));
        build(&mut hp)?;
        space = hp.space;
        for (conds, active) in hp.scopes_seen {
            if active {
                never_active.retain(|c| *c != conds);
                if !once_active.contains(&conds) {
                    once_active.push(conds);
                }
            } else if !once_active.contains(&conds) && !never_active.contains(&conds) {
                never_active.push(conds);
            }
        }
        let Some(conds) = never_active.first().cloned() else {
            return Ok(space);
        };
        values = space.defaults();
        for c in &conds {
            if let Some(v) = c.values.first() {
                values.insert(c.parent.clone(), v.clone());
            }
        }
        let before = never_active.len();
        let activated = space.ensure_active(&values);
        if conds.iter().all(|c| c.holds(&activated)) {
            values = activated;
        } else {
            // Cannot be activated (a parent value outside its range): give up on it.
            never_active.remove(0);
            if never_active.len() == before {
                break;
            }
        }
    }
    Ok(space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_closure_declares_and_reads_values() {
        let mut hp = HyperParameters::new();
        assert_eq!(hp.int("units", 32, 128).step(32).get().unwrap(), 32);
        assert_eq!(
            hp.choice("act", ["relu", "tanh"]).unwrap(),
            Value::from("relu")
        );
        let mut vals = Values::new();
        vals.insert("units".into(), Value::Int(96));
        vals.insert("act".into(), Value::from("tanh"));
        let mut hp = HyperParameters::from_values(hp.space().clone(), vals);
        assert_eq!(hp.int("units", 32, 128).step(32).get().unwrap(), 96);
        assert_eq!(
            hp.choice("act", ["relu", "tanh"]).unwrap(),
            Value::from("tanh")
        );
        // Same name, different range: an error, not a silent redefinition.
        assert!(hp.int("units", 32, 256).step(32).get().is_err());
    }

    #[test]
    fn conditional_scope_and_discovery() {
        let mut build = |hp: &mut HyperParameters| -> Result<usize> {
            let kind = hp.choice("kind", ["dense", "lstm"])?;
            let mut n = 0;
            hp.conditional_scope("kind", vec!["lstm".into()], |hp| -> Result<()> {
                if kind == Value::from("lstm") {
                    n = hp.int("units", 8, 32).step(8).get()? as usize;
                }
                Ok(())
            })??;
            Ok(n)
        };
        let space = discover_space(&mut build).unwrap();
        let names: Vec<&str> = space.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["kind", "units"]);
        assert_eq!(space.params[1].conditions[0].parent, "kind");
        // Inactive: not in the values.
        let mut hp = HyperParameters::from_values(space.clone(), space.defaults());
        assert_eq!(build(&mut hp).unwrap(), 0);
        assert!(!hp.is_active("units"));
        let mut v = Values::new();
        v.insert("kind".into(), "lstm".into());
        let mut hp = HyperParameters::from_values(space.clone(), space.ensure_active(&v));
        assert_eq!(build(&mut hp).unwrap(), 8);
        assert!(hp.is_active("units"));
    }
}
