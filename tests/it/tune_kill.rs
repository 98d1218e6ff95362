//! `lstmkit tune --workers 2` with one worker killed by SIGKILL in the middle
//! of a trial: the parent sees the exit status, names the signal, and
//! re-queues the running trial at once (the heartbeat's stale limit is set
//! far beyond the run, so only the parent's re-queue can explain the re-run),
//! and the other worker finishes it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lstmkit::tune::storage::StorageUrl;
use lstmkit::tune::{Study, TrialState};

const EXPERIMENT: &str = r#"
[data]
path = "bundled:co2"
target = "co2"
timesteps = 5
validation_split = 0.2

[[layers]]
type = "lstm"
units = { int = [4, 8], step = 4 }

[[layers]]
type = "dense"
units = 1

[compile]
optimizer = "adam"
learning_rate = { float = [1e-3, 1e-2], sampling = "log" }

[fit]
epochs = 25
batch_size = 64

[tune]
max_trials = 3
seed = 5
heartbeat_seconds = 0.2
stale_seconds = 3600
"#;

/// The pid of the child of `parent` whose command line holds `needle`.
fn child_with(parent: u32, needle: &str) -> Option<u32> {
    let kids = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
    kids.split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok())
        .find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
}

fn trials(db: &Path) -> Vec<lstmkit::tune::TrialRecord> {
    if !db.exists() {
        return Vec::new();
    }
    let url = StorageUrl::parse(&db.display().to_string()).unwrap();
    Study::load(&url, "k")
        .and_then(|mut s| s.trials())
        .unwrap_or_default()
}

#[test]
fn a_sigkilled_worker_is_named_and_its_trial_requeued_at_once() {
    let dir = crate::common::tmp_root().join(format!("lstmkit-tune-kill-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("exp.toml"), EXPERIMENT).unwrap();
    let out = dir.join("out");
    let parent = Command::new(env!("CARGO_BIN_EXE_lstmkit"))
        .args(["tune", "--config"])
        .arg(dir.join("exp.toml"))
        .args(["--study", "k", "--workers", "2", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let db = out.join("tune.sqlite3");
    // wait until worker-0 runs a trial, then SIGKILL it
    let t0 = Instant::now();
    let killed = loop {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "worker-0 never ran a trial"
        );
        let running = trials(&db).into_iter().find(|t| {
            t.state == TrialState::Running
                && t.worker
                    .as_deref()
                    .is_some_and(|w| w.ends_with(":worker-0"))
        });
        if let (Some(t), Some(pid)) = (running, child_with(parent.id(), ":worker-0")) {
            let st = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
            assert!(st.success());
            break t;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let o = parent.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // a worker failed, so the run fails, naming the signal (not "exited with an error")
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("worker-0 killed by signal 9 (SIGKILL)"),
        "{text}"
    );
    assert!(!text.contains("exited with an error"), "{text}");
    let all = trials(&db);
    let dead = all.iter().find(|t| t.id == killed.id).unwrap();
    assert_eq!(dead.state, TrialState::Failed, "{all:?}");
    let why = dead.error.as_deref().unwrap_or("");
    assert!(why.contains("killed by signal 9 (SIGKILL)"), "{why}");
    assert!(!why.contains("no heartbeat"), "{why}");
    // its re-run: the same values, finished by the other worker
    let rerun = all
        .iter()
        .find(|t| Some(t.id) == dead.replaced_by)
        .unwrap_or_else(|| panic!("not re-queued: {all:?}"));
    assert_eq!(rerun.retry_of, Some(dead.id));
    assert_eq!(rerun.values, dead.values);
    assert_eq!(rerun.state, TrialState::Complete, "{all:?}");
    assert!(
        rerun
            .worker
            .as_deref()
            .is_some_and(|w| w.ends_with(":worker-1")),
        "{rerun:?}"
    );
    assert_eq!(
        all.iter()
            .filter(|t| t.state == TrialState::Complete)
            .count(),
        3,
        "{all:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
