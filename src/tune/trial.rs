//! Trials as stored: state, values, score, intermediate values.

use super::space::Values;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The life of a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TrialState {
    /// Created (or re-queued after its worker died), waiting for a worker.
    Waiting,
    /// Claimed by a worker that sends heartbeats.
    Running,
    /// Finished with a score.
    Complete,
    /// Stopped early by the pruner; its score is its last intermediate value.
    Pruned,
    /// The objective failed, or the worker died (then the trial is re-queued
    /// as a new trial and this row records `replaced_by`).
    Failed,
}

impl TrialState {
    /// The name stored in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            TrialState::Waiting => "WAITING",
            TrialState::Running => "RUNNING",
            TrialState::Complete => "COMPLETE",
            TrialState::Pruned => "PRUNED",
            TrialState::Failed => "FAILED",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "WAITING" => TrialState::Waiting,
            "RUNNING" => TrialState::Running,
            "COMPLETE" => TrialState::Complete,
            "PRUNED" => TrialState::Pruned,
            "FAILED" => TrialState::Failed,
            o => {
                return Err(Error::Other(format!(
                    "unknown trial state '{o}' in the study storage"
                )))
            }
        })
    }
    /// Whether the trial has ended.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            TrialState::Complete | TrialState::Pruned | TrialState::Failed
        )
    }
}

/// Whether the objective is minimised or maximised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better (losses, errors).
    Min,
    /// Larger is better (accuracy, R²).
    Max,
}

impl Direction {
    /// Parses `min`/`minimize` or `max`/`maximize`.
    pub fn from_name(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "min" | "minimize" => Ok(Direction::Min),
            "max" | "maximize" => Ok(Direction::Max),
            o => Err(Error::Config(format!(
                "direction must be 'min' or 'max' (got '{o}')"
            ))),
        }
    }
    /// Keras Tuner's default for a metric name: `max` for accuracy-like
    /// metrics (`acc`, `accuracy`, `r2`, `auc`, ...), else `min`.
    pub fn for_metric(name: &str) -> Self {
        let base = name.strip_prefix("val_").unwrap_or(name);
        match base {
            "acc"
            | "accuracy"
            | "binary_accuracy"
            | "categorical_accuracy"
            | "auc"
            | "r2"
            | "r2_score"
            | "precision"
            | "recall" => Direction::Max,
            _ => Direction::Min,
        }
    }
    /// Whether `a` is strictly better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        match self {
            Direction::Min => a < b,
            Direction::Max => a > b,
        }
    }
    /// Sort key: smaller is better (NaN last).
    pub fn key(&self, v: f64) -> f64 {
        if v.is_nan() {
            return f64::INFINITY;
        }
        match self {
            Direction::Min => v,
            Direction::Max => -v,
        }
    }
}

/// One trial as read from the storage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Row id (unique across studies).
    pub id: i64,
    /// 0, 1, 2, ... within the study, in creation order.
    pub number: i64,
    /// State.
    pub state: TrialState,
    /// Hyper-parameter values (plus `tuner/...` entries for Hyperband).
    pub values: Values,
    /// The objective's value (complete or pruned trials).
    pub score: Option<f64>,
    /// All logged metrics of the trial (best over epochs).
    pub metrics: BTreeMap<String, f64>,
    /// (step, value) reported while running, sorted by step.
    pub intermediate: Vec<(i64, f64)>,
    /// The worker that ran or runs it.
    pub worker: Option<String>,
    /// The trial this one re-runs (its worker died).
    pub retry_of: Option<i64>,
    /// The trial that re-runs this one.
    pub replaced_by: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// When a worker claimed it (database clock, seconds since the epoch).
    pub started: Option<f64>,
    /// When it ended.
    pub finished: Option<f64>,
    /// The last heartbeat of its worker.
    pub heartbeat: Option<f64>,
}

impl TrialRecord {
    /// The intermediate value at `step`.
    pub fn value_at(&self, step: i64) -> Option<f64> {
        self.intermediate
            .iter()
            .find(|(s, _)| *s == step)
            .map(|(_, v)| *v)
    }
    /// The last reported step.
    pub fn last_step(&self) -> Option<i64> {
        self.intermediate.last().map(|(s, _)| *s)
    }
    /// Seconds between claim and end.
    pub fn duration(&self) -> Option<f64> {
        Some(self.finished? - self.started?)
    }
    /// Whether this trial counts in the study (not superseded by a re-run).
    pub fn counts(&self) -> bool {
        self.replaced_by.is_none()
    }
}

/// The best complete trial of `trials` (ties: the earliest).
pub fn best_trial(trials: &[TrialRecord], dir: Direction) -> Option<&TrialRecord> {
    trials
        .iter()
        .filter(|t| t.state == TrialState::Complete && t.score.is_some_and(|s| !s.is_nan()))
        .min_by(|a, b| {
            dir.key(a.score.unwrap_or(f64::NAN))
                .total_cmp(&dir.key(b.score.unwrap_or(f64::NAN)))
                .then(a.number.cmp(&b.number))
        })
}
