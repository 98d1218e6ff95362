//! One worker in this process on an SQLite study: determinism, resuming,
//! pruning, failures, configuration checks, every tuner end to end.

use lstmkit::tune::storage::StorageUrl;
use lstmkit::tune::{
    Direction, HyperParameter, Hyperband, Metrics, Pruner, Sampling, Space, Study, StudyConfig,
    Tpe, TrialContext, TrialState, Tuner, WorkerOptions,
};
use lstmkit::Error;

struct Tmp(std::path::PathBuf);
impl Tmp {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Tmp(crate::common::tmp_root()
            .join(format!("lstmkit-tune-{tag}-{}-{nanos}", std::process::id())))
    }
    fn url(&self) -> StorageUrl {
        StorageUrl::Sqlite(self.0.join("s.sqlite3"))
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn space() -> Space {
    let mut s = Space::new();
    s.add(HyperParameter::int("units", 32, 128).step(32))
        .unwrap();
    s.add(HyperParameter::float("learning_rate", 1e-4, 1e-2).sampling(Sampling::Log))
        .unwrap();
    s
}

fn config(tuner: Tuner, max_trials: Option<usize>) -> StudyConfig {
    let mut c = StudyConfig::new("val_loss", Direction::Min, tuner);
    c.space = space();
    c.max_trials = max_trials;
    c
}

fn opts() -> WorkerOptions {
    WorkerOptions {
        heartbeat_interval: 0.05,
        stale_after: 5.0,
        poll_interval: 0.01,
        ..WorkerOptions::default()
    }
}

fn loss(t: &TrialContext) -> f64 {
    let units = t.hp.get("units").unwrap().as_f64().unwrap();
    let lr = t.hp.get("learning_rate").unwrap().as_f64().unwrap();
    ((units - 96.0) / 32.0).powi(2) + (lr.log10() + 2.5).powi(2)
}

fn simple(t: &mut TrialContext) -> lstmkit::Result<Metrics> {
    Ok([("val_loss".to_string(), loss(t)), ("loss".to_string(), 1.0)].into())
}

fn points(study: &mut Study) -> Vec<String> {
    study
        .trials()
        .unwrap()
        .iter()
        .map(|t| serde_json::to_string(&t.values).unwrap())
        .collect()
}

#[test]
fn same_seed_same_trials_and_resume_extends() {
    let (a, b) = (Tmp::new("det-a"), Tmp::new("det-b"));
    let mut sa = Study::create_or_load(&a.url(), "s", &config(Tuner::Random, Some(6))).unwrap();
    let mut sb = Study::create_or_load(&b.url(), "s", &config(Tuner::Random, Some(6))).unwrap();
    assert_eq!(sa.optimize(&mut simple, &opts()).unwrap().completed, 6);
    assert_eq!(sb.optimize(&mut simple, &opts()).unwrap().completed, 6);
    assert_eq!(points(&mut sa), points(&mut sb));
    // Re-running the finished study does nothing; a larger max_trials extends it.
    let mut again = Study::create_or_load(&a.url(), "s", &config(Tuner::Random, Some(6))).unwrap();
    assert_eq!(again.optimize(&mut simple, &opts()).unwrap().completed, 0);
    let before = points(&mut again);
    let mut more = Study::create_or_load(&a.url(), "s", &config(Tuner::Random, Some(9))).unwrap();
    assert_eq!(more.optimize(&mut simple, &opts()).unwrap().completed, 3);
    let after = points(&mut more);
    assert_eq!(&after[..6], &before[..]);
    assert_eq!(after.len(), 9);
    // A different seed gives other points.
    let c = Tmp::new("det-c");
    let mut cfg = config(Tuner::Random, Some(6));
    cfg.seed = 1;
    let mut sc = Study::create_or_load(&c.url(), "s", &cfg).unwrap();
    sc.optimize(&mut simple, &opts()).unwrap();
    assert_ne!(points(&mut sc), before);
}

#[test]
fn a_different_search_under_the_same_name_is_refused() {
    let d = Tmp::new("mismatch");
    Study::create_or_load(&d.url(), "s", &config(Tuner::Random, Some(3))).unwrap();
    let e = Study::create_or_load(&d.url(), "s", &config(Tuner::Grid, None))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("different search"), "{e}");
    let e = Study::load(&d.url(), "nope").err().unwrap().to_string();
    assert!(e.contains("no study 'nope'") && e.contains("s"), "{e}");
    let e = Study::create_or_load(&d.url(), "t", &config(Tuner::Random, None))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("needs max_trials"), "{e}");
}

#[test]
fn consecutive_failures_stop_the_study() {
    let d = Tmp::new("fail");
    let mut s = Study::create_or_load(&d.url(), "s", &config(Tuner::Random, Some(10))).unwrap();
    let mut n = 0;
    let e = s
        .optimize(
            &mut |_t: &mut TrialContext| -> lstmkit::Result<Metrics> {
                n += 1;
                Err(Error::Training(format!("diverged #{n}")))
            },
            &opts(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("3 consecutive trials failed") && e.contains("diverged #3"),
        "{e}"
    );
    let trials = s.trials().unwrap();
    assert_eq!(trials.len(), 3);
    assert!(trials.iter().all(|t| t.state == TrialState::Failed));
    // A missing objective metric is a failure that names the logged ones.
    let d = Tmp::new("fail2");
    let mut s = Study::create_or_load(&d.url(), "s", &config(Tuner::Random, Some(2))).unwrap();
    let mut only_loss = |_t: &mut TrialContext| -> lstmkit::Result<Metrics> {
        Ok([("loss".to_string(), 1.0)].into())
    };
    let _ = s.optimize(&mut only_loss, &opts());
    let t = s.trials().unwrap();
    assert!(t[0]
        .error
        .as_deref()
        .unwrap()
        .contains("'val_loss' is not among the logged metrics [loss]"));
}

#[test]
fn median_pruner_stops_bad_trials_early() {
    let d = Tmp::new("prune");
    let mut cfg = config(Tuner::Random, Some(20));
    cfg.pruner = Pruner::Median {
        n_startup_trials: 3,
        n_warmup_steps: 1,
    };
    let mut s = Study::create_or_load(&d.url(), "s", &cfg).unwrap();
    let mut steps_run = 0;
    let r = s
        .optimize(
            &mut |t: &mut TrialContext| -> lstmkit::Result<Metrics> {
                let l = loss(t);
                let mut v = 0.0;
                for step in 0..10 {
                    steps_run += 1;
                    v = l + 1.0 / (step as f64 + 1.0);
                    if t.report(step, v)? {
                        break;
                    }
                }
                Ok([("val_loss".to_string(), v)].into())
            },
            &opts(),
        )
        .unwrap();
    assert!(r.pruned > 0, "{r:?}");
    assert_eq!(r.completed + r.pruned, 20);
    assert!(steps_run < 200);
    let trials = s.trials().unwrap();
    for t in trials.iter().filter(|t| t.state == TrialState::Pruned) {
        assert_eq!(t.score, t.intermediate.last().map(|x| x.1));
        assert!(t.intermediate.len() < 10);
    }
}

#[test]
fn grid_runs_every_point_once_in_order() {
    let d = Tmp::new("grid");
    let mut cfg = StudyConfig::new("val_loss", Direction::Min, Tuner::Grid);
    cfg.space
        .add(HyperParameter::int("units", 32, 128).step(32))
        .unwrap();
    cfg.space
        .add(HyperParameter::choice(
            "act",
            vec!["relu".into(), "tanh".into()],
        ))
        .unwrap();
    let mut s = Study::create_or_load(&d.url(), "g", &cfg).unwrap();
    let r = s
        .optimize(
            &mut |t: &mut TrialContext| -> lstmkit::Result<Metrics> {
                Ok([("val_loss".to_string(), t.number as f64)].into())
            },
            &opts(),
        )
        .unwrap();
    assert_eq!(r.completed, 8);
    let got: Vec<String> = s
        .trials()
        .unwrap()
        .iter()
        .map(|t| format!("{}/{}", t.values["units"], t.values["act"]))
        .collect();
    assert_eq!(
        got,
        [
            "32/relu", "32/tanh", "64/relu", "64/tanh", "96/relu", "96/tanh", "128/relu",
            "128/tanh"
        ]
    );
}

#[test]
fn hyperband_and_tpe_through_the_study() {
    let d = Tmp::new("hb");
    let hb = Hyperband {
        max_epochs: 9,
        factor: 3,
        iterations: 1,
    };
    let mut s = Study::create_or_load(&d.url(), "hb", &config(Tuner::Hyperband(hb), None)).unwrap();
    let mut epochs_seen = Vec::new();
    let r = s
        .optimize(
            &mut |t: &mut TrialContext| -> lstmkit::Result<Metrics> {
                epochs_seen.push((t.initial_epoch(), t.epochs().unwrap(), t.parent()));
                let e = t.epochs().unwrap() as f64;
                Ok([("val_loss".to_string(), loss(t) + 1.0 / e)].into())
            },
            &opts(),
        )
        .unwrap();
    assert_eq!(
        r.completed, 23,
        "Keras Tuner runs 23 trials for max_epochs=9, factor=3"
    );
    assert_eq!(epochs_seen.iter().filter(|e| e.1 == 9).count(), 1 + 2 + 3);
    assert!(epochs_seen
        .iter()
        .filter(|e| e.2.is_some())
        .all(|e| e.0 > 0));

    let d = Tmp::new("tpe");
    let mut cfg = config(
        Tuner::Tpe(Tpe {
            n_startup_trials: 5,
            n_ei_candidates: 24,
        }),
        Some(15),
    );
    cfg.executions_per_trial = 2;
    let mut s = Study::create_or_load(&d.url(), "tpe", &cfg).unwrap();
    let mut execs = Vec::new();
    let r = s
        .optimize(
            &mut |t: &mut TrialContext| -> lstmkit::Result<Metrics> {
                execs.push((t.number, t.execution, t.seed));
                Ok([("val_loss".to_string(), loss(t) + t.execution as f64)].into())
            },
            &opts(),
        )
        .unwrap();
    assert_eq!(r.completed, 15);
    assert_eq!(execs.len(), 30);
    // The score is the mean over executions (+0 and +1 → +0.5).
    let best = s.best().unwrap().unwrap();
    let units = best.values["units"].as_f64().unwrap();
    let lr = best.values["learning_rate"].as_f64().unwrap();
    let want = ((units - 96.0) / 32.0).powi(2) + (lr.log10() + 2.5).powi(2) + 0.5;
    assert!((best.score.unwrap() - want).abs() < 1e-12);
}
