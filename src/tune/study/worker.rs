//! The worker loop: ask (locked), run the objective with a heartbeat
//! thread beside it, write the result if the trial is still this worker's.

use super::ask::{ask, Ask};
use super::{Metrics, Study, TrialContext, WorkerOptions, WorkerReport};
use crate::error::{Error, Result};
use crate::tune::storage::{Storage, StorageUrl, TrialEnd};
use crate::tune::trial::{TrialRecord, TrialState};
use crate::tune::HyperParameters;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the worker loop hands to each trial it runs.
struct Shift<'a, 'o> {
    objective: &'a mut (dyn FnMut(&mut TrialContext) -> Result<Metrics> + 'o),
    opts: &'a WorkerOptions,
    /// The running trial's id for the heartbeat thread (-1: none).
    current: &'a AtomicI64,
    /// Set when the trial was taken away from this worker.
    lost: &'a AtomicBool,
    report: &'a mut WorkerReport,
}

impl Study {
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
        let r = self.worker_loop(&mut Shift {
            objective,
            opts,
            current: &current,
            lost: &lost,
            report: &mut report,
        });
        stop.store(true, Ordering::SeqCst);
        let _ = hb.join();
        r.map(|()| report)
    }

    fn worker_loop(&mut self, w: &mut Shift) -> Result<()> {
        let opts = w.opts;
        loop {
            let mut next = None;
            let mut stored = None;
            let worker = opts.worker_id.clone();
            self.storage.locked(&self.name, &mut |tx| {
                next = Some(ask(tx, &worker, opts.stale_after, w.report, &mut stored)?);
                Ok(())
            })?;
            // The stored configuration is authoritative (another process may
            // have extended max_trials).
            if let Some(c) = stored {
                self.config = c;
            }
            match next {
                Some(Ask::Run(t)) => self.run_trial(*t, w)?,
                Some(Ask::Idle) => std::thread::sleep(Duration::from_secs_f64(opts.poll_interval)),
                Some(Ask::Done) | None => return Ok(()),
                Some(Ask::TooManyFailures(msg)) => return Err(Error::Training(msg)),
            }
        }
    }

    fn run_trial(&mut self, t: TrialRecord, w: &mut Shift) -> Result<()> {
        let (opts, current, lost) = (w.opts, w.current, w.lost);
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
            match (w.objective)(&mut ctx) {
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
            w.report.lost += 1;
            if opts.verbose {
                eprintln!(
                    "trial #{}: taken over after a missed heartbeat; result discarded",
                    t.number
                );
            }
            return Ok(());
        }
        let end = TrialEnd {
            state,
            score,
            metrics_json: &metrics_json,
            error: error.as_deref(),
        };
        let ok = self.storage.finish(t.id, &opts.worker_id, &end)?;
        if !ok {
            w.report.lost += 1;
            return Ok(());
        }
        match state {
            TrialState::Complete => w.report.completed += 1,
            TrialState::Pruned => w.report.pruned += 1,
            _ => w.report.failed += 1,
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
