//! Keras Tuner's numerical formulas (`hp_types/numerical.py`, `hp_utils.py`)
//! and what `Int` and `Float` share: one range check, and one projection
//! from `p` computed in floats (as Keras Tuner does for both).

use super::param::Sampling;
use super::value::Value;
use std::fmt;

pub(super) fn prob_to_index(prob: f64, n: usize) -> usize {
    let ele = 1.0 / n as f64;
    let idx = (prob / ele).floor();
    let idx = if idx < 0.0 { 0 } else { idx as usize };
    if idx >= n {
        n - 1
    } else {
        idx
    }
}

pub(super) fn index_to_prob(index: f64, n: usize) -> f64 {
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

/// The type of a numeric range's bounds and step: `i64` (`Int`) or `f64` (`Float`).
pub(super) trait Bound: Copy + PartialOrd + fmt::Display {
    const ZERO: Self;
    const ONE: Self;
    fn finite(self) -> bool;
}

impl Bound for i64 {
    const ZERO: Self = 0;
    const ONE: Self = 1;
    fn finite(self) -> bool {
        true
    }
}

impl Bound for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn finite(self) -> bool {
        self.is_finite()
    }
}

/// Keras Tuner's checks of an `Int` or `Float` range; the error is the
/// message without the parameter's name.
pub(super) fn check_range<T: Bound>(
    min: T,
    max: T,
    step: Option<T>,
    sampling: Sampling,
) -> std::result::Result<(), String> {
    if !min.finite() || !max.finite() {
        return Err("bounds must be finite".into());
    }
    if min > max {
        return Err(format!(
            "min_value {min} is greater than the max_value {max}"
        ));
    }
    if sampling != Sampling::Linear && min <= T::ZERO {
        return Err(format!(
            "sampling='{sampling:?}' does not support non-positive values, found min_value: {min}"
        ));
    }
    if let Some(s) = step {
        if sampling != Sampling::Linear && s <= T::ONE {
            return Err(format!("expected step > 1 with log sampling, got {s}"));
        }
        if s <= T::ZERO || !s.finite() {
            return Err(format!("step must be positive, got {s}"));
        }
    }
    Ok(())
}

/// An `Int` or `Float` range in floats.
#[derive(Clone, Copy, Debug)]
pub(super) struct Numeric {
    pub(super) min: f64,
    pub(super) max: f64,
    pub(super) step: Option<f64>,
    pub(super) sampling: Sampling,
    /// An `Int`: values are truncated, and without a step the range is
    /// `[min, max + 1)` (Keras Tuner's `Int.prob_to_value`).
    pub(super) int: bool,
}

impl Numeric {
    fn value(&self, x: f64) -> Value {
        if self.int {
            Value::Int(x.trunc() as i64)
        } else {
            Value::Float(x)
        }
    }

    /// Keras Tuner's `prob_to_value`.
    pub(super) fn prob_to_value(&self, prob: f64) -> Value {
        let (s, min, max) = (self.sampling, self.min, self.max);
        let x = match self.step {
            None if self.int => sample_numerical(s, min, max + 1.0, prob),
            None => sample_numerical(s, min, max, prob),
            Some(step) => {
                let i = prob_to_index(prob, n_values(s, min, max, step));
                value_by_index(s, min, max, step, i)
            }
        };
        self.value(x)
    }

    /// Keras Tuner's `value_to_prob` (a non-number counts as `min`).
    pub(super) fn value_to_prob(&self, v: &Value) -> f64 {
        let (s, min, max) = (self.sampling, self.min, self.max);
        let x = v.as_f64().unwrap_or(min);
        match self.step {
            None if self.int => numerical_to_prob(s, min, max + 1.0, x + 0.5),
            None => numerical_to_prob(s, min, max, x),
            Some(step) => to_prob_with_step(s, min, max, step, x),
        }
    }

    /// Keras Tuner's `values`: every step, else `prob_to_value(0.05 + 0.1 i)`
    /// for i = 0..9 (an `Int` keeps each value once; a `Float` keeps all ten,
    /// in increasing `p` order, where Keras Tuner puts them in a set).
    pub(super) fn grid_values(&self) -> Vec<Value> {
        let (s, min, max) = (self.sampling, self.min, self.max);
        match self.step {
            Some(step) => (0..n_values(s, min, max, step))
                .map(|i| self.value(value_by_index(s, min, max, step, i)))
                .collect(),
            None => {
                let mut out: Vec<Value> = Vec::new();
                for i in 0..10 {
                    let v = self.prob_to_value(i as f64 * 0.1 + 0.05);
                    if !(self.int && out.contains(&v)) {
                        out.push(v);
                    }
                }
                out
            }
        }
    }
}
