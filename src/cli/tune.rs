//! `lstmkit tune`: hyper-parameter search over an experiment file.
//!
//! ```text
//! lstmkit tune --config EXP.toml --study NAME [--storage URL] [--workers N] [--out DIR]
//! lstmkit tune status --study NAME [--storage URL] [--out DIR]
//! ```
//!
//! Any value of the experiment may be a search space (`units = { int = [32,
//! 128], step = 32 }`, see `lstmkit::tune::toml_space`); `[tune]` picks the
//! tuner, objective and budget (see `lstmkit::tune::settings`). The study
//! lives in `--storage` (default: the SQLite file `DIR/tune.sqlite3`, or
//! `postgres://...`). `--workers N` starts N worker processes (this same
//! binary) and shows a live table; running the same command again resumes
//! the study, and the same command on other machines with one PostgreSQL
//! URL adds workers to it. Trial models go to `DIR/NAME/trial-NNNN/`, and
//! the best one is copied to `DIR/NAME/best_model.lstmkit` (the native model file).

use crate::error::{Error, Result};
use crate::experiment::base_dir_of;
use crate::io::atomic_write_bytes;
use crate::tune::objective::{trial_model_path, ExperimentObjective};
use crate::tune::settings::TuneSettings;
use crate::tune::storage::StorageUrl;
use crate::tune::study::default_worker_id;
use crate::tune::{best_trial, Study, StudyConfig, TrialRecord, TrialState, WorkerOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Arguments of `lstmkit tune`.
#[derive(clap::Args, Debug)]
#[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
pub struct TuneArgs {
    /// `status`: print a study's trials and its best trial.
    #[command(subcommand)]
    pub cmd: Option<TuneCmd>,
    /// Experiment file (TOML) whose values may be search spaces, with a [tune] table.
    #[arg(long, required = true)]
    pub config: Option<PathBuf>,
    /// Study name: workers with the same name and storage share the search.
    #[arg(long, required = true)]
    pub study: Option<String>,
    /// Study database: postgres://USER@HOST/DB, sqlite://PATH or a file path (default DIR/tune.sqlite3).
    #[arg(long)]
    pub storage: Option<String>,
    /// Worker processes to start on this machine.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Output folder (trial models, worker logs, the default SQLite file).
    #[arg(long, default_value = "lstmkit-tune")]
    pub out: PathBuf,
    /// Run one worker in this process (what `--workers` starts).
    #[arg(long, hide = true)]
    pub worker: bool,
    /// The worker's name in the storage (given by the parent, so that it can
    /// re-queue the trial of a worker that dies).
    #[arg(long, hide = true)]
    pub worker_id: Option<String>,
}

/// Sub-commands of `lstmkit tune`.
#[derive(clap::Subcommand, Debug)]
pub enum TuneCmd {
    /// Print a study's trials and its best trial.
    Status(StatusArgs),
}

/// Arguments of `lstmkit tune status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Study name.
    #[arg(long)]
    pub study: String,
    /// Study database (default DIR/tune.sqlite3).
    #[arg(long)]
    pub storage: Option<String>,
    /// Output folder of the default SQLite file.
    #[arg(long, default_value = "lstmkit-tune")]
    pub out: PathBuf,
}

fn storage_url(storage: Option<&str>, out: &Path) -> Result<StorageUrl> {
    match storage {
        Some(s) => StorageUrl::parse(s),
        None => Ok(StorageUrl::Sqlite(out.join("tune.sqlite3"))),
    }
}

/// Reads the experiment and `[tune]`: the study's configuration, the
/// objective and the worker timing.
fn load(
    config: &Path,
    out: &Path,
    study: &str,
) -> Result<(StudyConfig, ExperimentObjective, TuneSettings)> {
    let text = std::fs::read_to_string(config).map_err(|e| Error::io(config, e))?;
    let source = config.display().to_string();
    let doc: toml::Value =
        toml::from_str(&text).map_err(|e| Error::Config(format!("{source}: {e}")))?;
    let settings =
        TuneSettings::from_doc(&doc).map_err(|e| Error::Config(format!("{source}: {e}")))?;
    let study_dir = out.join(study);
    let objective = ExperimentObjective::new(
        &text,
        &source,
        &base_dir_of(config),
        &study_dir,
        &settings.config.objective,
        settings.config.direction,
    )?;
    if objective.space().space.is_empty() {
        return Err(Error::Config(format!(
            "{source}: no search space: write e.g. units = {{ int = [32, 128], step = 32 }}"
        )));
    }
    let mut cfg = settings.config.clone();
    cfg.space = objective.space().space.clone();
    let mut body = doc.clone();
    if let toml::Value::Table(t) = &mut body {
        t.remove("tune");
    }
    cfg.experiment =
        Some(toml::to_string(&body).map_err(|e| Error::Other(format!("{source}: {e}")))?);
    cfg.validate()
        .map_err(|e| Error::Config(format!("{source}: {e}")))?;
    Ok((cfg, objective, settings))
}

/// Runs the command.
pub fn run(a: TuneArgs) -> Result<()> {
    if let Some(TuneCmd::Status(s)) = a.cmd {
        return status(&s);
    }
    let (Some(config), Some(study)) = (a.config.as_deref(), a.study.as_deref()) else {
        return Err(Error::Config(
            "tune: --config and --study are required".into(),
        ));
    };
    check_study_name(study)?;
    let url = storage_url(a.storage.as_deref(), &a.out)?;
    let (cfg, mut objective, settings) = load(config, &a.out, study)?;
    let mut st = Study::create_or_load(&url, study, &cfg)?;
    if a.worker {
        let opts = WorkerOptions {
            heartbeat_interval: settings.heartbeat_seconds,
            stale_after: settings.stale_seconds,
            verbose: true,
            ..WorkerOptions::default()
        };
        let opts = match &a.worker_id {
            Some(id) => WorkerOptions {
                worker_id: id.clone(),
                ..opts
            },
            None => opts,
        };
        let r = st.optimize(&mut |ctx| objective.run(ctx), &opts)?;
        eprintln!(
            "worker {} done: {} complete, {} pruned, {} failed, {} re-queued",
            opts.worker_id, r.completed, r.pruned, r.failed, r.requeued
        );
        return Ok(());
    }
    if a.workers == 0 {
        return Err(Error::Config("tune: --workers must be at least 1".into()));
    }
    let study_dir = a.out.join(study);
    std::fs::create_dir_all(&study_dir).map_err(|e| Error::io(&study_dir, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::io("lstmkit", e))?;
    let mut children: Vec<(Child, PathBuf, String)> = Vec::new();
    let base_id = default_worker_id();
    for k in 0..a.workers {
        let worker_id = format!("{base_id}:worker-{k}");
        let log = study_dir.join(format!("worker-{k}.log"));
        let f = std::fs::File::create(&log).map_err(|e| Error::io(&log, e))?;
        let f2 = f.try_clone().map_err(|e| Error::io(&log, e))?;
        let child = Command::new(&exe)
            .arg("tune")
            .arg("--config")
            .arg(config)
            .arg("--study")
            .arg(study)
            .arg("--storage")
            .arg(url.as_arg())
            .arg("--out")
            .arg(&a.out)
            .arg("--worker")
            .arg("--worker-id")
            .arg(&worker_id)
            .stdin(Stdio::null())
            .stdout(f)
            .stderr(f2)
            .spawn()
            .map_err(|e| Error::io(&exe, e))?;
        children.push((child, log, worker_id));
    }
    println!(
        "study '{study}': {}, {} worker(s), storage {}",
        search_line(&cfg),
        a.workers,
        url.as_arg()
    );
    let tty = std::io::stdout().is_terminal();
    let mut shown: Vec<i64> = Vec::new();
    let t0 = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    loop {
        let mut alive = 0;
        let mut ended: Vec<(String, String)> = Vec::new();
        for (k, (c, log, id)) in children.iter_mut().enumerate() {
            match c.try_wait() {
                Ok(None) => alive += 1,
                Ok(Some(s)) if !s.success() => {
                    let why = exit_reason(s, log);
                    let why = if why.starts_with("killed by signal") {
                        why
                    } else {
                        format!("failed: {why}")
                    };
                    let msg = format!("worker-{k} {why} (log {})", log.display());
                    if !failures.contains(&msg) {
                        failures.push(msg.clone());
                        ended.push((id.clone(), msg));
                    }
                }
                _ => {}
            }
        }
        for (id, msg) in ended {
            // the worker is gone: its running trial need not wait for a stale heartbeat
            let again = st.requeue_worker(&id, &msg)?;
            let line = if again.is_empty() {
                msg
            } else {
                let nums: Vec<String> = again.iter().map(|n| format!("#{n}")).collect();
                format!("{msg}; trial {} re-queued", nums.join(", "))
            };
            eprintln!("{line}");
        }
        let trials = st.trials()?;
        if tty {
            print!("\x1b[2J\x1b[H{}", table(&cfg, &trials));
            println!(
                "{alive} worker(s) running, {:.0} s",
                t0.elapsed().as_secs_f64()
            );
        } else {
            for t in trials.iter().filter(|t| t.state.is_finished()) {
                if !shown.contains(&t.id) {
                    println!("{}", one_line(&cfg, t));
                    shown.push(t.id);
                }
            }
        }
        let _ = std::io::stdout().flush();
        if alive == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(if tty { 500 } else { 200 }));
    }
    let trials = st.trials()?;
    if !tty {
        println!();
        print!("{}", table(&cfg, &trials));
    }
    summary(&cfg, &trials, &study_dir, true)?;
    if !failures.is_empty() {
        return Err(Error::Training(format!(
            "{} worker(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        )));
    }
    Ok(())
}

/// `{tuner} search, objective {name} ({min|max})`, as `run` and `status` print it.
fn search_line(cfg: &StudyConfig) -> String {
    format!(
        "{} search, objective {} ({})",
        cfg.tuner.name(),
        cfg.objective,
        if cfg.direction == crate::tune::Direction::Min {
            "min"
        } else {
            "max"
        }
    )
}

/// Why a worker ended badly: the signal that killed it, by name, or the
/// last error line of its log.
fn exit_reason(s: std::process::ExitStatus, log: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            let name = match sig {
                9 => "SIGKILL",
                15 => "SIGTERM",
                2 => "SIGINT",
                6 => "SIGABRT",
                11 => "SIGSEGV",
                1 => "SIGHUP",
                _ => "",
            };
            let name = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            return format!("killed by signal {sig}{name}");
        }
    }
    let _ = s;
    last_error(log)
}

/// A study name is a folder name under `--out`: no path separators, not `.` or `..`.
fn check_study_name(study: &str) -> Result<()> {
    let ok = !study.is_empty()
        && study != "."
        && study != ".."
        && study
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "--study {study:?}: a study name is a folder name under --out (letters, digits, '-', '_', '.'; not '.' or '..')"
        )))
    }
}

fn last_error(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .or_else(|| text.lines().last())
        .unwrap_or("exited with an error")
        .to_string()
}

fn fmt_score(v: Option<f64>) -> String {
    match v {
        Some(x) if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) => format!("{x:.4e}"),
        Some(x) => format!("{x:.6}"),
        None => "-".into(),
    }
}

fn params(cfg: &StudyConfig, t: &TrialRecord) -> String {
    cfg.space
        .params
        .iter()
        .filter_map(|p| t.values.get(&p.name).map(|v| format!("{}={v}", p.name)))
        .chain(
            ["tuner/epochs", "tuner/trial_id"]
                .iter()
                .filter_map(|k| t.values.get(*k).map(|v| format!("{k}={v}"))),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

fn one_line(cfg: &StudyConfig, t: &TrialRecord) -> String {
    format!(
        "trial #{} {} {}={} ({}) {}{}",
        t.number,
        t.state.as_str(),
        cfg.objective,
        fmt_score(t.score),
        t.duration().map_or("-".into(), |d| format!("{d:.2} s")),
        params(cfg, t),
        t.error
            .as_deref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default()
    )
}

/// The trials as a table (one row per trial, re-queued ones included).
pub fn table(cfg: &StudyConfig, trials: &[TrialRecord]) -> String {
    let mut s = format!(
        "{:>5}  {:<8}  {:>12}  {:>8}  {:<24}  params\n",
        "trial", "state", cfg.objective, "seconds", "worker"
    );
    for t in trials {
        let mut worker = t.worker.clone().unwrap_or_else(|| "-".into());
        if worker.len() > 24 {
            worker = format!("…{}", &worker[worker.len() - 23..]);
        }
        let note = match (&t.replaced_by, &t.error) {
            (Some(_), Some(e)) | (None, Some(e)) => format!("  [{e}]"),
            _ => String::new(),
        };
        s.push_str(&format!(
            "{:>5}  {:<8}  {:>12}  {:>8}  {:<24}  {}{}\n",
            t.number,
            t.state.as_str(),
            fmt_score(t.score),
            t.duration().map_or("-".into(), |d| format!("{d:.2}")),
            worker,
            params(cfg, t),
            note
        ));
    }
    s
}

fn summary(
    cfg: &StudyConfig,
    trials: &[TrialRecord],
    study_dir: &Path,
    copy_best: bool,
) -> Result<()> {
    let count = |s: TrialState| trials.iter().filter(|t| t.state == s && t.counts()).count();
    let secs: Vec<f64> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter_map(|t| t.duration())
        .collect();
    println!(
        "{} complete, {} pruned, {} failed, {} re-queued{}",
        count(TrialState::Complete),
        count(TrialState::Pruned),
        count(TrialState::Failed),
        trials.iter().filter(|t| t.replaced_by.is_some()).count(),
        if secs.is_empty() {
            String::new()
        } else {
            format!(
                "; {:.2} s per complete trial (mean of {})",
                secs.iter().sum::<f64>() / secs.len() as f64,
                secs.len()
            )
        }
    );
    match best_trial(trials, cfg.direction) {
        None => println!("no complete trial yet"),
        Some(b) => {
            println!(
                "best: trial #{} {}={} {}",
                b.number,
                cfg.objective,
                fmt_score(b.score),
                params(cfg, b)
            );
            let src = trial_model_path(study_dir, b.number);
            if src.exists() && !copy_best {
                println!("best trial's model: {}", src.display());
            } else if src.exists() {
                let dst = study_dir.join("best_model.lstmkit");
                let bytes = std::fs::read(&src).map_err(|e| Error::io(&src, e))?;
                atomic_write_bytes(&dst, &bytes)?;
                println!("best model: {}", dst.display());
            } else {
                println!(
                    "the best model was saved by worker {} as {} on its machine",
                    b.worker.as_deref().unwrap_or("?"),
                    src.display()
                );
            }
        }
    }
    Ok(())
}

fn status(a: &StatusArgs) -> Result<()> {
    check_study_name(&a.study)?;
    let url = storage_url(a.storage.as_deref(), &a.out)?;
    if let StorageUrl::Sqlite(p) = &url {
        // looking must not create a database
        if !p.is_file() {
            return Err(Error::Config(format!(
                "no study database at {} (`lstmkit tune --config EXP.toml --study {}` creates it; \
                 --out or --storage name another)",
                p.display(),
                a.study
            )));
        }
    }
    let mut st = Study::load(&url, &a.study)?;
    let cfg = st.config().clone();
    let trials = st.trials()?;
    println!(
        "study '{}': {}, max_trials {}, storage {}",
        a.study,
        search_line(&cfg),
        cfg.max_trials.map_or("-".into(), |m| m.to_string()),
        url.as_arg()
    );
    print!("{}", table(&cfg, &trials));
    let running = trials
        .iter()
        .filter(|t| t.state == TrialState::Running)
        .count();
    let waiting = trials
        .iter()
        .filter(|t| t.state == TrialState::Waiting)
        .count();
    if running + waiting > 0 {
        println!("{running} running, {waiting} waiting");
    }
    summary(&cfg, &trials, &a.out.join(&a.study), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_killed_by_a_signal_is_named_by_it() {
        let dir = crate::test_tmp_root().join(format!("lstmkit-tune-sig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("worker-0.log");
        std::fs::write(&log, "trial 0 started\n").unwrap();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let why = exit_reason(status, &log);
        assert!(why.contains("signal 9 (SIGKILL)"), "{why}");
        // an ordinary failure: the log's last error line
        std::fs::write(&log, "x\nerror: bad data\ny\n").unwrap();
        let failed = Command::new("sh").args(["-c", "exit 1"]).status().unwrap();
        assert_eq!(exit_reason(failed, &log), "error: bad data");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn study_names_stay_under_out() {
        for bad in ["../x", "a/b", "..", ".", "", "/abs"] {
            assert!(check_study_name(bad).is_err(), "{bad:?}");
        }
        for good in ["s1", "seed-2.b", "m_1"] {
            check_study_name(good).unwrap();
        }
    }
}
