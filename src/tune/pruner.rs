//! Pruning from intermediate values, as Optuna's `MedianPruner` and
//! `SuccessiveHalvingPruner`.
//!
//! - **median**: at step `s` (after `n_warmup_steps`, once `n_startup_trials`
//!   trials have completed), a trial stops when its best value so far is worse
//!   than the median of the completed trials' values at step `s`.
//! - **successive halving**: rung `k` is at step
//!   `min_resource · η^(min_early_stopping_rate + k)`; a trial reaching a rung
//!   goes on only if its value there is among the best `⌊n / η⌋` (at least
//!   one) of the `n` trials that reached that rung, itself included.
//!
//! ```
//! use lstmkit::tune::{Direction, Pruner};
//! use lstmkit::tune::testutil::record_steps;
//! let done: Vec<_> = (0..5).map(|i| record_steps(i, &[1.0, 0.5, 0.2])).collect();
//! let bad = record_steps(9, &[3.0, 2.9]);
//! let p = Pruner::Median { n_startup_trials: 5, n_warmup_steps: 0 };
//! assert!(p.should_prune(&bad, &done, Direction::Min));
//! ```

use super::trial::{Direction, TrialRecord, TrialState};
use serde::{Deserialize, Serialize};

/// When to stop a running trial early.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Pruner {
    /// Never.
    None,
    /// Optuna's `MedianPruner` (defaults: 5 start-up trials, 0 warm-up steps).
    Median {
        /// Completed trials needed before pruning starts.
        n_startup_trials: usize,
        /// Steps of each trial that are never pruned.
        n_warmup_steps: i64,
    },
    /// Optuna's `SuccessiveHalvingPruner` (defaults: min_resource 1, η = 4, rate 0).
    SuccessiveHalving {
        /// Step of the first rung.
        min_resource: i64,
        /// η: keep the best 1/η at each rung.
        reduction_factor: i64,
        /// Shifts the first rung to `min_resource · η^rate`.
        min_early_stopping_rate: i64,
    },
}

impl Pruner {
    /// Whether `trial` (running, with its intermediate values so far) should
    /// stop, given the other trials of the study.
    pub fn should_prune(
        &self,
        trial: &TrialRecord,
        others: &[TrialRecord],
        dir: Direction,
    ) -> bool {
        let Some(step) = trial.last_step() else {
            return false;
        };
        match *self {
            Pruner::None => false,
            Pruner::Median {
                n_startup_trials,
                n_warmup_steps,
            } => {
                if step < n_warmup_steps {
                    return false;
                }
                let completed: Vec<&TrialRecord> = others
                    .iter()
                    .filter(|t| t.id != trial.id && t.state == TrialState::Complete)
                    .collect();
                if completed.len() < n_startup_trials.max(1) {
                    return false;
                }
                let mut at: Vec<f64> = completed
                    .iter()
                    .filter_map(|t| t.value_at(step))
                    .filter(|v| !v.is_nan())
                    .collect();
                if at.is_empty() {
                    return false;
                }
                at.sort_by(|a, b| a.total_cmp(b));
                let m = at.len();
                let median = if m % 2 == 1 {
                    at[m / 2]
                } else {
                    0.5 * (at[m / 2 - 1] + at[m / 2])
                };
                let best = trial
                    .intermediate
                    .iter()
                    .map(|(_, v)| *v)
                    .filter(|v| !v.is_nan())
                    .min_by(|a, b| dir.key(*a).total_cmp(&dir.key(*b)));
                match best {
                    None => true, // only NaN so far
                    Some(b) => dir.better(median, b),
                }
            }
            Pruner::SuccessiveHalving {
                min_resource,
                reduction_factor,
                min_early_stopping_rate,
            } => {
                let eta = reduction_factor.max(2);
                let mut rung = 0u32;
                loop {
                    let rung_step =
                        min_resource.max(1) * eta.pow(min_early_stopping_rate.max(0) as u32 + rung);
                    if step < rung_step {
                        return false;
                    }
                    let value_at_rung = |t: &TrialRecord| -> Option<f64> {
                        t.intermediate
                            .iter()
                            .find(|(s, _)| *s >= rung_step)
                            .map(|(_, v)| *v)
                    };
                    let Some(mine) = value_at_rung(trial) else {
                        return false;
                    };
                    if mine.is_nan() {
                        return true;
                    }
                    let mut competing: Vec<f64> = others
                        .iter()
                        .filter(|t| t.id != trial.id && t.counts())
                        .filter_map(value_at_rung)
                        .filter(|v| !v.is_nan())
                        .collect();
                    competing.push(mine);
                    competing.sort_by(|a, b| dir.key(*a).total_cmp(&dir.key(*b)));
                    let idx = (competing.len() / eta as usize).max(1) - 1;
                    if dir.better(competing[idx], mine) {
                        return true;
                    }
                    rung += 1;
                    if rung > 62 {
                        return false;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::testutil::record_steps;

    #[test]
    fn median_waits_for_startup_and_warmup() {
        let done: Vec<_> = (0..4).map(|i| record_steps(i, &[1.0, 0.5])).collect();
        let bad = record_steps(9, &[3.0, 2.0]);
        let p = Pruner::Median {
            n_startup_trials: 5,
            n_warmup_steps: 0,
        };
        assert!(
            !p.should_prune(&bad, &done, Direction::Min),
            "only 4 completed"
        );
        let done: Vec<_> = (0..5).map(|i| record_steps(i, &[1.0, 0.5])).collect();
        assert!(p.should_prune(&bad, &done, Direction::Min));
        let good = record_steps(9, &[0.9, 0.4]);
        assert!(!p.should_prune(&good, &done, Direction::Min));
        let p = Pruner::Median {
            n_startup_trials: 5,
            n_warmup_steps: 5,
        };
        assert!(!p.should_prune(&bad, &done, Direction::Min));
        // Maximisation flips the comparison.
        let p = Pruner::Median {
            n_startup_trials: 5,
            n_warmup_steps: 0,
        };
        assert!(!p.should_prune(&bad, &done, Direction::Max));
    }

    #[test]
    fn successive_halving_keeps_the_top_fraction() {
        let sh = Pruner::SuccessiveHalving {
            min_resource: 1,
            reduction_factor: 2,
            min_early_stopping_rate: 0,
        };
        // Rung 0 at step 1. Three others reached it with 0.1, 0.2, 0.3.
        let others: Vec<_> = [0.1, 0.2, 0.3]
            .iter()
            .enumerate()
            .map(|(i, v)| record_steps(i as i64, &[9.0, *v]))
            .collect();
        // 4 competitors, η = 2: the best 2 go on (≤ 0.2).
        assert!(!sh.should_prune(&record_steps(9, &[9.0, 0.15]), &others, Direction::Min));
        assert!(sh.should_prune(&record_steps(9, &[9.0, 0.25]), &others, Direction::Min));
        // Before the first rung nothing is pruned.
        assert!(!sh.should_prune(&record_steps(9, &[99.0]), &others, Direction::Min));
        // The first trial to reach a rung always goes on.
        assert!(!sh.should_prune(&record_steps(9, &[9.0, 5.0]), &[], Direction::Min));
    }
}
