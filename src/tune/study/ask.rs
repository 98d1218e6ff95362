//! The locked part of a worker step: re-queue dead workers' trials, stop
//! after too many failures, claim a waiting trial or ask the tuner for one.

use super::{Metrics, StudyConfig, WorkerReport};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tune::storage::{NewTrial, Tx};
use crate::tune::trial::{TrialRecord, TrialState};
use crate::tune::Suggestion;

/// What a worker does next.
pub(super) enum Ask {
    Run(Box<TrialRecord>),
    Idle,
    Done,
    TooManyFailures(String),
}

fn trial_seed(seed: u64, number: i64) -> u64 {
    seed ^ (number as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Fails running trial `t` if its heartbeat is older than `cutoff` and
/// queues its values again as trial `number` (retry of `t`); false if `t`
/// was no longer running in that condition.
pub(super) fn requeue(
    tx: &mut dyn Tx,
    t: &TrialRecord,
    cutoff: f64,
    number: i64,
    msg: &str,
) -> Result<bool> {
    if !tx.fail_stale(t.id, cutoff, msg)? {
        return Ok(false);
    }
    let values = serde_json::to_string(&t.values)
        .map_err(|e| Error::Other(format!("cannot store values: {e}")))?;
    let id = tx.insert_trial(&NewTrial {
        number,
        state: TrialState::Waiting,
        values_json: &values,
        worker: None,
        retry_of: Some(t.id),
    })?;
    tx.set_replaced_by(t.id, id)?;
    Ok(true)
}

/// The locked part of a worker step.
pub(super) fn ask(
    tx: &mut dyn Tx,
    worker: &str,
    stale_after: f64,
    report: &mut WorkerReport,
    config_out: &mut Option<StudyConfig>,
) -> Result<Ask> {
    let cfg: StudyConfig = match tx.config()? {
        Some(c) => serde_json::from_str(&c)
            .map_err(|e| Error::Other(format!("unreadable study configuration: {e}")))?,
        None => return Err(Error::Other("the study has no configuration".into())),
    };
    *config_out = Some(cfg.clone());
    let now = tx.now()?;
    let mut trials = tx.trials()?;
    let mut next_number = trials.iter().map(|t| t.number + 1).max().unwrap_or(0);
    let mut requeued = false;
    for t in trials.iter().filter(|t| t.state == TrialState::Running) {
        let hb = t.heartbeat.unwrap_or(f64::NEG_INFINITY);
        if hb < now - stale_after {
            let msg = format!(
                "worker {} lost: no heartbeat for {:.1} s; trial re-queued as #{next_number}",
                t.worker.as_deref().unwrap_or("?"),
                now - hb
            );
            if requeue(tx, t, now - stale_after, next_number, &msg)? {
                next_number += 1;
                report.requeued += 1;
                requeued = true;
            }
        }
    }
    if requeued {
        trials = tx.trials()?;
    }
    let counted: Vec<&TrialRecord> = trials.iter().filter(|t| t.counts()).collect();
    // Consecutive failures (most recent first).
    let mut finished: Vec<&&TrialRecord> =
        counted.iter().filter(|t| t.state.is_finished()).collect();
    finished.sort_by(|a, b| {
        b.finished
            .unwrap_or(0.0)
            .total_cmp(&a.finished.unwrap_or(0.0))
            .then(b.number.cmp(&a.number))
    });
    let n = cfg.max_consecutive_failed_trials;
    if finished.len() >= n
        && finished
            .iter()
            .take(n)
            .all(|t| t.state == TrialState::Failed)
    {
        let last = finished[0].error.clone().unwrap_or_default();
        return Ok(Ask::TooManyFailures(format!(
            "{n} consecutive trials failed; the last error: {last}"
        )));
    }
    let busy = counted
        .iter()
        .any(|t| matches!(t.state, TrialState::Running | TrialState::Waiting));
    if let Some(w) = counted
        .iter()
        .filter(|t| t.state == TrialState::Waiting)
        .min_by_key(|t| t.number)
    {
        if tx.claim(w.id, worker)? {
            let mut t = (*w).clone();
            t.state = TrialState::Running;
            return Ok(Ask::Run(Box::new(t)));
        }
    }
    if let Some(m) = cfg.max_trials {
        if counted.len() >= m {
            return Ok(if busy { Ask::Idle } else { Ask::Done });
        }
    }
    let mut rng = Rng::new(trial_seed(cfg.seed, next_number));
    match cfg.tuner.suggest(
        crate::tune::Past::new(&cfg.space, &trials, cfg.direction),
        &mut rng,
    )? {
        Suggestion::Run(values) => {
            let json = serde_json::to_string(&values)
                .map_err(|e| Error::Other(format!("cannot store values: {e}")))?;
            let id = tx.insert_trial(&NewTrial {
                number: next_number,
                state: TrialState::Running,
                values_json: &json,
                worker: Some(worker),
                retry_of: None,
            })?;
            Ok(Ask::Run(Box::new(TrialRecord {
                id,
                number: next_number,
                state: TrialState::Running,
                values,
                score: None,
                metrics: Metrics::new(),
                intermediate: Vec::new(),
                worker: Some(worker.to_string()),
                retry_of: None,
                replaced_by: None,
                error: None,
                started: Some(now),
                finished: None,
                heartbeat: Some(now),
            })))
        }
        Suggestion::Idle => Ok(Ask::Idle),
        Suggestion::Stop => Ok(if busy { Ask::Idle } else { Ask::Done }),
    }
}
