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

use super::pruner::Pruner;
use super::space::{Space, Value, Values};
use super::storage::{Storage, StorageUrl, Tx};
use super::trial::{best_trial, Direction, TrialRecord, TrialState};
use super::{HyperParameters, Suggestion, Tuner};
use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    id: i64,
    worker: &'a str,
    study: &'a str,
    storage: &'a mut dyn Storage,
    pruner: Pruner,
    direction: Direction,
    lost: &'a AtomicBool,
    pruned: bool,
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

enum Ask {
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

/// The locked part of a worker step.
fn ask(
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
            if tx.fail_stale(t.id, now - stale_after, &msg)? {
                let values = serde_json::to_string(&t.values)
                    .map_err(|e| Error::Other(format!("cannot store values: {e}")))?;
                let id =
                    tx.insert_trial(next_number, TrialState::Waiting, &values, None, Some(t.id))?;
                tx.set_replaced_by(t.id, id)?;
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
    match cfg
        .tuner
        .suggest(&cfg.space, &trials, cfg.direction, &mut rng)?
    {
        Suggestion::Run(values) => {
            let json = serde_json::to_string(&values)
                .map_err(|e| Error::Other(format!("cannot store values: {e}")))?;
            let id =
                tx.insert_trial(next_number, TrialState::Running, &json, Some(worker), None)?;
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

    /// The best complete trial.
    pub fn best(&mut self) -> Result<Option<TrialRecord>> {
        let dir = self.config.direction;
        let t = self.trials()?;
        Ok(best_trial(&t, dir).cloned())
    }

    /// Runs this process as one worker until the study is over: returns when
    /// no trial is left to run or running; an error when too many trials
    /// failed in a row or the storage fails.
    pub fn optimize(
        &mut self,
        objective: &mut dyn FnMut(&mut TrialContext) -> Result<Metrics>,
        opts: &WorkerOptions,
    ) -> Result<WorkerReport> {
        let mut report = WorkerReport::default();
        let current = Arc::new(AtomicI64::new(-1));
        let lost = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let hb = {
            let (current, lost, stop) = (current.clone(), lost.clone(), stop.clone());
            let url = self.url.clone();
            let worker = opts.worker_id.clone();
            let every = Duration::from_secs_f64(opts.heartbeat_interval.max(0.01));
            std::thread::spawn(move || heartbeat_loop(url, worker, every, current, lost, stop))
        };
        let r = self.worker_loop(objective, opts, &current, &lost, &mut report);
        stop.store(true, Ordering::SeqCst);
        let _ = hb.join();
        r.map(|()| report)
    }

    fn worker_loop(
        &mut self,
        objective: &mut dyn FnMut(&mut TrialContext) -> Result<Metrics>,
        opts: &WorkerOptions,
        current: &AtomicI64,
        lost: &AtomicBool,
        report: &mut WorkerReport,
    ) -> Result<()> {
        loop {
            let mut next = None;
            let mut stored = None;
            let worker = opts.worker_id.clone();
            self.storage.locked(&self.name, &mut |tx| {
                next = Some(ask(tx, &worker, opts.stale_after, report, &mut stored)?);
                Ok(())
            })?;
            // The stored configuration is authoritative (another process may
            // have extended max_trials).
            if let Some(c) = stored {
                self.config = c;
            }
            match next {
                Some(Ask::Run(t)) => self.run_trial(*t, objective, opts, current, lost, report)?,
                Some(Ask::Idle) => std::thread::sleep(Duration::from_secs_f64(opts.poll_interval)),
                Some(Ask::Done) | None => return Ok(()),
                Some(Ask::TooManyFailures(msg)) => return Err(Error::Training(msg)),
            }
        }
    }

    fn run_trial(
        &mut self,
        t: TrialRecord,
        objective: &mut dyn FnMut(&mut TrialContext) -> Result<Metrics>,
        opts: &WorkerOptions,
        current: &AtomicI64,
        lost: &AtomicBool,
        report: &mut WorkerReport,
    ) -> Result<()> {
        let cfg = self.config.clone();
        lost.store(false, Ordering::SeqCst);
        current.store(t.id, Ordering::SeqCst);
        let t0 = Instant::now();
        let mut sums = Metrics::new();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut error: Option<String> = None;
        let mut pruned = false;
        for execution in 0..cfg.executions_per_trial {
            let mut ctx = TrialContext {
                number: t.number,
                hp: HyperParameters::from_values(cfg.space.clone(), t.values.clone()),
                execution,
                seed: cfg.seed.wrapping_add(execution as u64),
                id: t.id,
                worker: &opts.worker_id,
                study: &self.name,
                storage: self.storage.as_mut(),
                pruner: cfg.pruner,
                direction: cfg.direction,
                lost,
                pruned: false,
            };
            match objective(&mut ctx) {
                Ok(m) => {
                    for (k, v) in m {
                        *sums.entry(k.clone()).or_insert(0.0) += v;
                        *counts.entry(k).or_insert(0) += 1;
                    }
                }
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
            pruned |= ctx.pruned;
            if ctx.should_stop() {
                break;
            }
        }
        current.store(-1, Ordering::SeqCst);
        let metrics: Metrics = sums
            .into_iter()
            .map(|(k, s)| {
                let n = counts[&k] as f64;
                (k, s / n)
            })
            .filter(|(_, v)| v.is_finite())
            .collect();
        let metrics_json = serde_json::to_string(&metrics)
            .map_err(|e| Error::Other(format!("cannot store metrics: {e}")))?;
        let (state, score) = if error.is_some() {
            (TrialState::Failed, None)
        } else if pruned {
            let last = self
                .trials()?
                .into_iter()
                .find(|x| x.id == t.id)
                .and_then(|x| x.intermediate.last().map(|(_, v)| *v));
            (TrialState::Pruned, last.filter(|v| v.is_finite()))
        } else {
            match metrics.get(&cfg.objective) {
                Some(v) => (TrialState::Complete, Some(*v)),
                None => {
                    let known: Vec<&str> = metrics.keys().map(String::as_str).collect();
                    error = Some(format!(
                        "objective '{}' is not among the logged metrics [{}] (or is NaN)",
                        cfg.objective,
                        known.join(", ")
                    ));
                    (TrialState::Failed, None)
                }
            }
        };
        if lost.load(Ordering::SeqCst) && !pruned {
            report.lost += 1;
            if opts.verbose {
                eprintln!(
                    "trial #{}: taken over after a missed heartbeat; result discarded",
                    t.number
                );
            }
            return Ok(());
        }
        let ok = self.storage.finish(
            t.id,
            &opts.worker_id,
            state,
            score,
            &metrics_json,
            error.as_deref(),
        )?;
        if !ok {
            report.lost += 1;
            return Ok(());
        }
        match state {
            TrialState::Complete => report.completed += 1,
            TrialState::Pruned => report.pruned += 1,
            _ => report.failed += 1,
        }
        if opts.verbose {
            let vals: Vec<String> = t
                .values
                .iter()
                .filter(|(k, _)| !k.starts_with("tuner/"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            eprintln!(
                "trial #{} [{}] {}: {} = {} ({:.2} s){}",
                t.number,
                vals.join(" "),
                state.as_str(),
                cfg.objective,
                score.map_or("-".into(), |s| format!("{s:.6}")),
                t0.elapsed().as_secs_f64(),
                error.map(|e| format!(" error: {e}")).unwrap_or_default()
            );
        }
        Ok(())
    }
}

fn heartbeat_loop(
    url: StorageUrl,
    worker: String,
    every: Duration,
    current: Arc<AtomicI64>,
    lost: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let mut storage: Option<Box<dyn Storage>> = None;
    let tick = Duration::from_millis(20).min(every);
    let mut last = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(tick);
        if last.elapsed() < every {
            continue;
        }
        last = Instant::now();
        let id = current.load(Ordering::SeqCst);
        if id < 0 {
            continue;
        }
        if storage.is_none() {
            match url.open() {
                Ok(s) => storage = Some(s),
                Err(e) => {
                    eprintln!("warning: heartbeat: {e}");
                    continue;
                }
            }
        }
        if let Some(s) = storage.as_mut() {
            match s.heartbeat(id, &worker) {
                Ok(true) => {}
                Ok(false) => {
                    if current.load(Ordering::SeqCst) == id {
                        lost.store(true, Ordering::SeqCst);
                    }
                }
                Err(e) => {
                    eprintln!("warning: heartbeat: {e}");
                    storage = None;
                }
            }
        }
    }
}
