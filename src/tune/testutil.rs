//! Helpers for tests and examples (not part of the stable API).

use super::space::Values;
use super::trial::{TrialRecord, TrialState};

/// A complete (or, with `score = None`, running) trial with `values`.
pub fn record(number: i64, values: Values, score: Option<f64>) -> TrialRecord {
    TrialRecord {
        id: number + 1,
        number,
        state: if score.is_some() {
            TrialState::Complete
        } else {
            TrialState::Running
        },
        values,
        score,
        metrics: Default::default(),
        intermediate: Vec::new(),
        worker: None,
        retry_of: None,
        replaced_by: None,
        error: None,
        started: None,
        finished: None,
        heartbeat: None,
    }
}

/// A complete trial whose intermediate values are `vals` at steps 0, 1, ...
pub fn record_steps(number: i64, vals: &[f64]) -> TrialRecord {
    let mut r = record(number, Values::new(), vals.last().copied());
    r.intermediate = vals
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64, *v))
        .collect();
    r
}
