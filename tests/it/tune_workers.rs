//! Several `lstmkit` tuning workers, as separate processes, on one study;
//! one is killed with SIGKILL in the middle of a trial. The study must end
//! with exactly `max_trials` complete trials and consistent rows, on SQLite
//! and on a real PostgreSQL server (`LSTMKIT_PG_URL`, set up by
//! `scripts/pg-test.sh`; in CI a missing server is a failure, not a skip).

use lstmkit::tune::storage::StorageUrl;
use lstmkit::tune::{
    Direction, HyperParameter, Metrics, Sampling, Space, Study, StudyConfig, TrialContext,
    TrialState, Tuner, WorkerOptions,
};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MAX_TRIALS: usize = 12;

fn config() -> StudyConfig {
    let mut space = Space::new();
    space
        .add(HyperParameter::int("units", 32, 128).step(32))
        .unwrap();
    space
        .add(HyperParameter::float("learning_rate", 1e-4, 1e-2).sampling(Sampling::Log))
        .unwrap();
    let mut c = StudyConfig::new("val_loss", Direction::Min, Tuner::Random);
    c.space = space;
    c.max_trials = Some(MAX_TRIALS);
    c.seed = 7;
    c
}

/// A synthetic objective: 5 "epochs" of `step_ms` each, reporting a loss.
fn objective(step_ms: u64) -> impl FnMut(&mut TrialContext) -> lstmkit::Result<Metrics> {
    move |t: &mut TrialContext| {
        let units = t.hp.get("units").and_then(|v| v.as_i64()).unwrap_or(0) as f64;
        let lr =
            t.hp.get("learning_rate")
                .and_then(|v| v.as_f64())
                .unwrap_or(1.0);
        let target = (units - 96.0).abs() / 32.0 + (lr.log10() + 3.0).abs();
        let mut loss = 0.0;
        for step in 0..5 {
            std::thread::sleep(Duration::from_millis(step_ms));
            loss = target + 1.0 / (step as f64 + 1.0);
            if t.report(step, loss)? {
                break;
            }
        }
        Ok([("val_loss".to_string(), loss)].into())
    }
}

fn fast_options(id: &str) -> WorkerOptions {
    WorkerOptions {
        worker_id: id.to_string(),
        heartbeat_interval: 0.1,
        stale_after: 1.5,
        poll_interval: 0.05,
        verbose: true,
    }
}

/// Not a test: the body of a worker process, started by the tests below.
#[test]
#[ignore = "helper: run as a child process by the multi-worker tests"]
fn worker_process() {
    let url = std::env::var("LSTMKIT_TUNE_TEST_STORAGE").expect("storage");
    let study = std::env::var("LSTMKIT_TUNE_TEST_STUDY").expect("study");
    let id = std::env::var("LSTMKIT_TUNE_TEST_WORKER").expect("worker id");
    let url = StorageUrl::parse(&url).unwrap();
    let mut s = Study::create_or_load(&url, &study, &config()).unwrap();
    let r = s.optimize(&mut objective(40), &fast_options(&id)).unwrap();
    println!(
        "\nREPORT {id} completed={} lost={} requeued={}",
        r.completed, r.lost, r.requeued
    );
}

fn spawn(url: &StorageUrl, study: &str, id: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            &crate::test_name!("worker_process"),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LSTMKIT_TUNE_TEST_STORAGE", url.as_arg())
        .env("LSTMKIT_TUNE_TEST_STUDY", study)
        .env("LSTMKIT_TUNE_TEST_WORKER", id)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn three_workers_one_killed(url: &StorageUrl, study: &str) {
    // The study exists before the workers start (they join it).
    let mut watcher = Study::create_or_load(url, study, &config()).unwrap();
    let mut workers: Vec<Child> = (0..3)
        .map(|i| spawn(url, study, &format!("w{i}")))
        .collect();
    // Wait until w0 is in the middle of a trial (an intermediate value stored), then SIGKILL it.
    let t0 = Instant::now();
    let victim_trial = loop {
        let trials = watcher.trials().unwrap();
        if let Some(t) = trials.iter().find(|t| {
            t.state == TrialState::Running
                && t.worker.as_deref() == Some("w0")
                && !t.intermediate.is_empty()
        }) {
            break t.id;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "w0 never ran a trial: {trials:#?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    workers[0].kill().unwrap(); // SIGKILL
    workers[0].wait().unwrap();
    let mut outputs = Vec::new();
    for w in workers.drain(1..) {
        let out = w.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "worker failed:\n{text}");
        outputs.push(text);
    }
    let trials = watcher.trials().unwrap();
    let dump = || format!("{trials:#?}\n{}", outputs.join("\n"));
    let complete: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    assert_eq!(complete.len(), MAX_TRIALS, "{}", dump());
    assert_eq!(
        trials.iter().filter(|t| t.counts()).count(),
        MAX_TRIALS,
        "{}",
        dump()
    );
    assert!(
        trials.iter().all(|t| t.state.is_finished()),
        "nothing left running or waiting: {}",
        dump()
    );
    // The killed trial: failed, re-queued, and its re-run completed once.
    let dead = trials.iter().find(|t| t.id == victim_trial).unwrap();
    assert_eq!(dead.state, TrialState::Failed, "{}", dump());
    assert!(
        dead.error.as_deref().unwrap_or("").contains("lost"),
        "{}",
        dump()
    );
    let rerun_id = dead.replaced_by.expect("re-queued");
    let rerun = trials.iter().find(|t| t.id == rerun_id).unwrap();
    assert_eq!(rerun.retry_of, Some(dead.id));
    assert_eq!(rerun.values, dead.values);
    assert_eq!(rerun.state, TrialState::Complete, "{}", dump());
    assert_ne!(rerun.worker.as_deref(), Some("w0"));
    // Every failed row was re-run; no hyper-parameter point completed twice.
    for t in trials.iter().filter(|t| t.state == TrialState::Failed) {
        assert!(t.replaced_by.is_some(), "{}", dump());
    }
    let mut points: Vec<String> = complete
        .iter()
        .map(|t| serde_json::to_string(&t.values).unwrap())
        .collect();
    points.sort();
    points.dedup();
    assert_eq!(
        points.len(),
        MAX_TRIALS,
        "a point completed twice: {}",
        dump()
    );
    // Complete rows are whole: score, metrics, 5 intermediate values, times.
    for t in &complete {
        assert_eq!(t.score, t.metrics.get("val_loss").copied());
        assert_eq!(
            t.intermediate.iter().map(|s| s.0).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert!(t.finished.unwrap() >= t.started.unwrap());
        assert!(t.worker.is_some());
    }
    let mut numbers: Vec<i64> = trials.iter().map(|t| t.number).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), trials.len());
    // The survivors' own reports add up with what the killed worker finished.
    let by_survivors: usize = outputs
        .iter()
        .filter_map(|o| o.lines().find(|l| l.starts_with("REPORT ")))
        .map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("completed="))
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    let by_victim = complete
        .iter()
        .filter(|t| t.worker.as_deref() == Some("w0"))
        .count();
    assert_eq!(by_survivors + by_victim, MAX_TRIALS, "{}", dump());
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

#[test]
fn sqlite_three_workers_one_sigkilled() {
    let dir = crate::common::tmp_root().join(unique("lstmkit-tune-sqlite"));
    let url = StorageUrl::Sqlite(dir.join("study.sqlite3"));
    three_workers_one_killed(&url, "kill-test");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn postgres_three_workers_one_sigkilled() {
    let Ok(pg) = std::env::var("LSTMKIT_PG_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "LSTMKIT_PG_URL is not set in CI: start PostgreSQL with \
                 `eval \"$(bash scripts/pg-test.sh start)\"` before `cargo test`"
            );
        }
        eprintln!(
            "SKIPPED postgres_three_workers_one_sigkilled: LSTMKIT_PG_URL is not set \
             (run `bash scripts/pg-test.sh run cargo test --test tune_workers`)"
        );
        return;
    };
    let url = StorageUrl::parse(&pg).unwrap();
    three_workers_one_killed(&url, &unique("kill-test"));
}
