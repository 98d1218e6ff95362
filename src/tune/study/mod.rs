//! A study: its configuration and trials in a [`Storage`], and the worker
//! loop that any number of processes run at once, with no coordinator.
//!
//! One worker step, inside the study's lock: re-queue the trials of dead
//! workers (no heartbeat for `stale_after` seconds → the trial is marked
//! `FAILED` with `replaced_by`, and a copy is inserted as `WAITING`), stop if
//! `max_consecutive_failed_trials` trials failed in a row, claim the oldest
//! waiting trial, else — while fewer than `max_trials` trials count —
//! ask the tuner for a new one and insert it as `RUNNING` for this worker.
//! Then, outside the lock, run the objective; a heartbeat thread refreshes
//! the trial every `heartbeat_interval`; intermediate values feed the pruner;
//! the result is written only if the trial is still this worker's.
//!
//! Here: the configuration and [`Study`]; `ask.rs`: the locked step;
//! `worker.rs`: the loop, one trial's run and the heartbeat thread;
//! `context.rs`: [`TrialContext`].

mod ask;
mod context;
mod worker;

pub use context::TrialContext;

use super::pruner::Pruner;
use super::space::Space;
use super::storage::{Storage, StorageUrl};
use super::trial::{best_trial, Direction, TrialRecord};
use super::Tuner;
use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Metric name → value (for a training run: the best value over epochs).
pub type Metrics = BTreeMap<String, f64>;

/// Everything that defines a study (stored with it; workers read it from there).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyConfig {
    /// The metric to optimise (e.g. `val_loss`).
    pub objective: String,
    /// Whether to minimise or maximise it.
    pub direction: Direction,
    /// The search algorithm.
    pub tuner: Tuner,
    /// Trials to run (complete, pruned and failed ones count; re-queued ones
    /// do not). Required for random and TPE; optional for grid and hyperband.
    pub max_trials: Option<usize>,
    /// Models trained per trial; the metrics are averaged (Keras Tuner).
    pub executions_per_trial: usize,
    /// The study stops with an error after this many failed trials in a row.
    pub max_consecutive_failed_trials: usize,
    /// Seed of the tuner's sampling (and of each trial's model).
    pub seed: u64,
    /// Early stopping of unpromising trials.
    pub pruner: Pruner,
    /// The search space.
    pub space: Space,
    /// The experiment the trials run (the CLI stores the TOML source).
    pub experiment: Option<String>,
}

impl StudyConfig {
    /// A configuration with Keras Tuner's defaults: one execution per trial,
    /// stop after 3 consecutive failures, seed 42, no pruning, empty space.
    pub fn new(objective: &str, direction: Direction, tuner: Tuner) -> Self {
        StudyConfig {
            objective: objective.to_string(),
            direction,
            tuner,
            max_trials: None,
            executions_per_trial: 1,
            max_consecutive_failed_trials: 3,
            seed: 42,
            pruner: Pruner::None,
            space: Space::new(),
            experiment: None,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.objective.is_empty() {
            return Err(Error::Config(
                "tune: the objective metric name is empty".into(),
            ));
        }
        if self.executions_per_trial == 0 {
            return Err(Error::Config(
                "tune: executions_per_trial must be ≥ 1".into(),
            ));
        }
        if self.max_consecutive_failed_trials == 0 {
            return Err(Error::Config(
                "tune: max_consecutive_failed_trials must be ≥ 1".into(),
            ));
        }
        match (&self.tuner, self.max_trials) {
            (Tuner::Random | Tuner::Tpe(_), None) => {
                return Err(Error::Config(format!(
                    "tune: the {} tuner needs max_trials",
                    self.tuner.name()
                )))
            }
            (_, Some(0)) => return Err(Error::Config("tune: max_trials must be ≥ 1".into())),
            (Tuner::Hyperband(h), _) => h.validate()?,
            _ => {}
        }
        for p in &self.space.params {
            if p.name.starts_with("tuner/") {
                return Err(Error::Config(format!(
                    "hyper-parameter '{}': names starting with 'tuner/' are reserved",
                    p.name
                )));
            }
        }
        Ok(())
    }

    /// The parts two processes must agree on to share a study.
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "objective": self.objective, "direction": self.direction, "tuner": self.tuner,
            "seed": self.seed, "pruner": self.pruner, "space": self.space,
            "experiment": self.experiment, "executions_per_trial": self.executions_per_trial,
        })
    }
}

/// How a worker behaves.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// This worker's name in the storage (unique among live workers).
    pub worker_id: String,
    /// Seconds between heartbeats.
    pub heartbeat_interval: f64,
    /// A running trial whose heartbeat is older than this is presumed dead.
    pub stale_after: f64,
    /// Seconds between polls while the study has nothing to start.
    pub poll_interval: f64,
    /// Print one line per trial to standard error.
    pub verbose: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            worker_id: default_worker_id(),
            heartbeat_interval: 2.0,
            stale_after: 30.0,
            poll_interval: 0.5,
            verbose: false,
        }
    }
}

/// `host:pid:random`.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut r = Rng::new(nanos as u64 ^ ((std::process::id() as u64) << 32));
    format!(
        "{host}:{}:{:06x}",
        std::process::id(),
        r.next_u64() & 0xff_ffff
    )
}

/// What one worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Trials this worker completed.
    pub completed: usize,
    /// Trials it pruned.
    pub pruned: usize,
    /// Trials whose objective failed.
    pub failed: usize,
    /// Trials taken away from it (presumed dead) whose result was discarded.
    pub lost: usize,
    /// Dead workers' trials it re-queued.
    pub requeued: usize,
}

/// A study opened in a storage.
pub struct Study {
    storage: Box<dyn Storage>,
    url: StorageUrl,
    name: String,
    config: StudyConfig,
}

impl Study {
    /// Creates the study, or joins it if it exists with the same search
    /// (space, tuner, objective, seed, pruner, experiment). `max_trials` and
    /// `max_consecutive_failed_trials` are updated, so re-running with a
    /// larger `max_trials` extends a finished study.
    pub fn create_or_load(url: &StorageUrl, name: &str, config: &StudyConfig) -> Result<Study> {
        config.validate()?;
        if name.is_empty() {
            return Err(Error::Config("tune: the study name is empty".into()));
        }
        let mut storage = url.open()?;
        let json = serde_json::to_string(config)
            .map_err(|e| Error::Other(format!("cannot store the study configuration: {e}")))?;
        storage.locked(name, &mut |tx| match tx.config()? {
            None => tx.set_config(&json),
            Some(old) => {
                let old: StudyConfig = serde_json::from_str(&old).map_err(|e| {
                    Error::Other(format!("study '{name}': unreadable stored configuration ({e})"))
                })?;
                if old.identity() != config.identity() {
                    return Err(Error::Config(format!(
                        "study '{name}' already exists in {} with a different search (space, tuner, objective, seed, pruner or experiment); use another --study name",
                        url.as_arg()
                    )));
                }
                if old != *config {
                    tx.set_config(&json)?;
                }
                Ok(())
            }
        })?;
        Ok(Study {
            storage,
            url: url.clone(),
            name: name.to_string(),
            config: config.clone(),
        })
    }

    /// Opens an existing study (to read it).
    pub fn load(url: &StorageUrl, name: &str) -> Result<Study> {
        let mut storage = url.open()?;
        let Some((cfg, _)) = storage.snapshot(name)? else {
            let known = storage.studies()?;
            return Err(Error::Config(format!(
                "no study '{name}' in {} (studies there: {})",
                url.as_arg(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        let config: StudyConfig = serde_json::from_str(&cfg)
            .map_err(|e| Error::Other(format!("study '{name}': unreadable configuration ({e})")))?;
        Ok(Study {
            storage,
            url: url.clone(),
            name: name.to_string(),
            config,
        })
    }

    /// The study's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its configuration.
    pub fn config(&self) -> &StudyConfig {
        &self.config
    }

    /// All trials, by number.
    pub fn trials(&mut self) -> Result<Vec<TrialRecord>> {
        Ok(self
            .storage
            .snapshot(&self.name)?
            .map(|(_, t)| t)
            .unwrap_or_default())
    }

    /// Re-queues at once the running trials of `worker`, a worker known to be
    /// dead (its process ended): each fails with `why` and its values are
    /// queued again, as the heartbeat check would do once it is stale.
    /// Returns the numbers of the trials re-queued.
    pub fn requeue_worker(&mut self, worker: &str, why: &str) -> Result<Vec<i64>> {
        let mut done = Vec::new();
        self.storage.locked(&self.name, &mut |tx| {
            done.clear();
            let trials = tx.trials()?;
            let mut next = trials.iter().map(|t| t.number + 1).max().unwrap_or(0);
            for t in trials.iter().filter(|t| {
                t.state == super::trial::TrialState::Running && t.worker.as_deref() == Some(worker)
            }) {
                let msg = format!("{why}; trial re-queued as #{next}");
                if ask::requeue(tx, t, f64::INFINITY, next, &msg)? {
                    done.push(t.number);
                    next += 1;
                }
            }
            Ok(())
        })?;
        Ok(done)
    }

    /// The best complete trial.
    pub fn best(&mut self) -> Result<Option<TrialRecord>> {
        let dir = self.config.direction;
        let t = self.trials()?;
        Ok(best_trial(&t, dir).cloned())
    }
}
