//! The running trial as the objective sees it: its values, seeds, and the
//! `report` that feeds the pruner and notices a lost trial.

use crate::error::Result;
use crate::tune::pruner::Pruner;
use crate::tune::space::{Value, Values};
use crate::tune::storage::Storage;
use crate::tune::trial::Direction;
use crate::tune::HyperParameters;
use std::sync::atomic::{AtomicBool, Ordering};

/// The running trial, as seen by the objective.
pub struct TrialContext<'a> {
    /// The trial's number in the study.
    pub number: i64,
    /// Its hyper-parameters (build the model from these).
    pub hp: HyperParameters,
    /// Which execution of the trial this is (0-based).
    pub execution: usize,
    /// Seed for this execution's model (study seed + execution).
    pub seed: u64,
    pub(super) id: i64,
    pub(super) worker: &'a str,
    pub(super) study: &'a str,
    pub(super) storage: &'a mut dyn Storage,
    pub(super) pruner: Pruner,
    pub(super) direction: Direction,
    pub(super) lost: &'a AtomicBool,
    pub(super) pruned: bool,
}

impl TrialContext<'_> {
    /// Hyperband: epochs to train up to (`tuner/epochs`).
    pub fn epochs(&self) -> Option<usize> {
        self.hp
            .get("tuner/epochs")
            .and_then(Value::as_i64)
            .map(|e| e.max(0) as usize)
    }
    /// Hyperband: the epoch the parent trial stopped at (`tuner/initial_epoch`).
    pub fn initial_epoch(&self) -> usize {
        self.hp
            .get("tuner/initial_epoch")
            .and_then(Value::as_i64)
            .map_or(0, |e| e.max(0) as usize)
    }
    /// Hyperband: the trial number whose model this trial continues.
    pub fn parent(&self) -> Option<i64> {
        self.hp.get("tuner/trial_id").and_then(Value::as_i64)
    }
    /// The values without Hyperband's `tuner/...` entries.
    pub fn values(&self) -> Values {
        self.hp
            .values()
            .iter()
            .filter(|(k, _)| !k.starts_with("tuner/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Reports the objective's value after `step` (an epoch). Returns true
    /// when training should stop now: the pruner says so, or the trial was
    /// taken away from this worker. Only the first execution reports.
    pub fn report(&mut self, step: i64, value: f64) -> Result<bool> {
        if self.execution > 0 {
            return Ok(self.should_stop());
        }
        if !self.storage.report(self.id, self.worker, step, value)? {
            self.lost.store(true, Ordering::SeqCst);
            return Ok(true);
        }
        if self.pruner != Pruner::None {
            if let Some((_, trials)) = self.storage.snapshot(self.study)? {
                if let Some(me) = trials.iter().find(|t| t.id == self.id) {
                    if self.pruner.should_prune(me, &trials, self.direction) {
                        self.pruned = true;
                    }
                }
            }
        }
        Ok(self.should_stop())
    }

    /// Whether the trial was pruned or lost (stop training).
    pub fn should_stop(&self) -> bool {
        self.pruned || self.lost.load(Ordering::SeqCst)
    }

    /// Whether the pruner stopped this trial.
    pub fn is_pruned(&self) -> bool {
        self.pruned
    }
}
