//! Where a study lives: one trait, two databases.
//!
//! - SQLite (default): a file, e.g. `sqlite://runs/tune.sqlite3` or a plain
//!   path; WAL mode; a study's lock is SQLite's write lock (`BEGIN IMMEDIATE`).
//! - PostgreSQL: `postgres://user@host/db`; a study's lock is its row
//!   (`SELECT ... FOR UPDATE`), so workers on many machines share a study.
//!
//! Everything that decides (which trial to run next, which dead trials to
//! re-queue, whether the study is over) happens inside one transaction
//! holding the study's lock ([`Storage::locked`]); the frequent writes
//! (heartbeats, intermediate values, results) are single conditional
//! `UPDATE`s that only apply while the trial is still `RUNNING` on the
//! writing worker, so a trial re-queued after its worker was presumed dead
//! can never be completed twice.

mod postgres;
mod sqlite;

pub use self::postgres::PgStorage;
pub use self::sqlite::SqliteStorage;

use super::trial::{TrialRecord, TrialState};
use crate::error::{Error, Result};
use std::path::PathBuf;

/// Operations available inside a study's locked transaction.
pub trait Tx {
    /// The study's stored configuration (None right after the study was created).
    fn config(&mut self) -> Result<Option<String>>;
    /// Stores the study's configuration.
    fn set_config(&mut self, json: &str) -> Result<()>;
    /// All trials of the study, by number.
    fn trials(&mut self) -> Result<Vec<TrialRecord>>;
    /// The database clock, in seconds since the Unix epoch.
    fn now(&mut self) -> Result<f64>;
    /// Inserts a trial; `Running` trials are claimed by `worker` at once.
    fn insert_trial(&mut self, t: &NewTrial) -> Result<i64>;
    /// `WAITING` → `RUNNING` for `worker`; false if the trial was not waiting.
    fn claim(&mut self, id: i64, worker: &str) -> Result<bool>;
    /// `RUNNING` with a heartbeat older than `cutoff` → `FAILED` with `error`;
    /// false if the trial was not (or no longer) in that condition.
    fn fail_stale(&mut self, id: i64, cutoff: f64, error: &str) -> Result<bool>;
    /// Records that `id` is re-run by `new_id`.
    fn set_replaced_by(&mut self, id: i64, new_id: i64) -> Result<()>;
}

/// The statements both backends run, written once in PostgreSQL's form
/// (`$n` parameters) with `{now}` for the database clock; [`Dialect::text`]
/// gives a backend's own text.
pub(crate) mod sql {
    /// [`Tx::insert_trial`](super::Tx::insert_trial).
    pub const INSERT_TRIAL: &str = "INSERT INTO tune_trials (study_id, number, state, params, worker, started, heartbeat, retry_of)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN {now} END, CASE WHEN $6 THEN {now} END, $7)";
    /// [`Tx::claim`](super::Tx::claim).
    pub const CLAIM: &str =
        "UPDATE tune_trials SET state = 'RUNNING', worker = $2, started = {now}, heartbeat = {now}
         WHERE id = $1 AND state = 'WAITING'";
    /// [`Tx::fail_stale`](super::Tx::fail_stale).
    pub const FAIL_STALE: &str =
        "UPDATE tune_trials SET state = 'FAILED', error = $3, finished = {now}
         WHERE id = $1 AND state = 'RUNNING' AND heartbeat < $2";
    /// [`Storage::heartbeat`](super::Storage::heartbeat) (and `report`).
    pub const HEARTBEAT: &str = "UPDATE tune_trials SET heartbeat = {now} WHERE id = $1 AND state = 'RUNNING' AND worker = $2";
    /// [`Storage::finish`](super::Storage::finish).
    pub const FINISH: &str =
        "UPDATE tune_trials SET state = $3, score = $4, metrics = $5, error = $6, finished = {now}
         WHERE id = $1 AND state = 'RUNNING' AND worker = $2";

    /// A backend's SQL dialect: its clock expression and parameter sigil.
    pub struct Dialect {
        /// The database clock in seconds since the Unix epoch, as SQL.
        pub now: &'static str,
        /// `$` (PostgreSQL: `$1`) or `?` (SQLite: `?1`).
        pub param: char,
    }

    /// PostgreSQL: `$1` parameters, the clock of `clock_timestamp()`.
    pub const POSTGRES: Dialect = Dialect {
        now: "extract(epoch from clock_timestamp())::float8",
        param: '$',
    };

    /// SQLite: `?1` parameters, the clock of `julianday('now')`.
    pub const SQLITE: Dialect = Dialect {
        now: "((julianday('now') - 2440587.5) * 86400.0)",
        param: '?',
    };

    impl Dialect {
        /// `q` in this dialect.
        pub fn text(&self, q: &str) -> String {
            q.replace("{now}", self.now)
                .replace('$', self.param.encode_utf8(&mut [0; 4]))
        }
    }
}

/// A trial to store: what [`Tx::insert_trial`] writes.
#[derive(Clone, Copy)]
pub struct NewTrial<'a> {
    /// Its number in the study.
    pub number: i64,
    /// `WAITING` (a re-queued trial) or `RUNNING` (claimed at once).
    pub state: TrialState,
    /// The hyper-parameter values, as JSON.
    pub values_json: &'a str,
    /// The worker that runs it (`RUNNING`).
    pub worker: Option<&'a str>,
    /// The trial it re-runs.
    pub retry_of: Option<i64>,
}

/// How a trial ended: what [`Storage::finish`] writes.
#[derive(Clone, Copy)]
pub struct TrialEnd<'a> {
    /// `COMPLETE`, `PRUNED` or `FAILED`.
    pub state: TrialState,
    /// The objective, where there is one.
    pub score: Option<f64>,
    /// The trial's metrics, as JSON.
    pub metrics_json: &'a str,
    /// Why it failed.
    pub error: Option<&'a str>,
}

/// A study database.
pub trait Storage: Send {
    /// Runs `f` in a transaction holding study `study`'s lock (creating the
    /// study row if needed). Commits if `f` succeeds, rolls back otherwise.
    fn locked(&mut self, study: &str, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Marks `worker` alive on trial `id`; false if the trial is no longer its own.
    fn heartbeat(&mut self, id: i64, worker: &str) -> Result<bool>;
    /// Stores an intermediate value (and refreshes the heartbeat); false if
    /// the trial is no longer `worker`'s.
    fn report(&mut self, id: i64, worker: &str, step: i64, value: f64) -> Result<bool>;
    /// Ends a running trial of `worker`; false (and nothing written) if it
    /// was no longer its own.
    fn finish(&mut self, id: i64, worker: &str, end: &TrialEnd) -> Result<bool>;
    /// A read-only snapshot: the configuration and trials of a study (None if absent).
    fn snapshot(&mut self, study: &str) -> Result<Option<(String, Vec<TrialRecord>)>>;
    /// Names of the studies in this database.
    fn studies(&mut self) -> Result<Vec<String>>;
}

/// A parsed `--storage` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl StorageUrl {
    /// Parses `postgres://...`, `postgresql://...`, `sqlite://PATH`, `sqlite:PATH` or a path.
    pub fn parse(s: &str) -> Result<Self> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StorageUrl::Postgres(s.to_string()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() {
            return Err(Error::Config(format!("storage '{s}': empty SQLite path")));
        }
        if path.contains("://") {
            return Err(Error::Config(format!(
                "storage '{s}': unknown scheme (postgres://..., sqlite://PATH or a file path)"
            )));
        }
        Ok(StorageUrl::Sqlite(PathBuf::from(path)))
    }

    /// Opens (and creates the schema of) the database.
    pub fn open(&self) -> Result<Box<dyn Storage>> {
        Ok(match self {
            StorageUrl::Sqlite(p) => Box::new(SqliteStorage::open(p)?),
            StorageUrl::Postgres(u) => Box::new(PgStorage::open(u)?),
        })
    }

    /// The URL as given to a worker process.
    pub fn as_arg(&self) -> String {
        match self {
            StorageUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            StorageUrl::Postgres(u) => u.clone(),
        }
    }
}

/// The columns of `tune_trials` that make a [`TrialRecord`], in the order
/// [`trial_row!`] reads them.
pub(crate) const TRIAL_COLUMNS: &str = "id, number, state, params, score, metrics, worker, \
     started, finished, heartbeat, retry_of, replaced_by, error";

/// A `tune_trials` row as both databases return it ([`TRIAL_COLUMNS`]).
pub(crate) struct TrialRow {
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) state: String,
    pub(crate) params: String,
    pub(crate) score: Option<f64>,
    pub(crate) metrics: Option<String>,
    pub(crate) worker: Option<String>,
    pub(crate) started: Option<f64>,
    pub(crate) finished: Option<f64>,
    pub(crate) heartbeat: Option<f64>,
    pub(crate) retry_of: Option<i64>,
    pub(crate) replaced_by: Option<i64>,
    pub(crate) error: Option<String>,
}

/// Reads a [`TrialRow`] from a database row `$r` selected with
/// [`TRIAL_COLUMNS`]: `trial_row!(r)` where `r.get(i)` returns the value
/// (PostgreSQL), `trial_row!(r?)` where it returns a `Result` (SQLite).
macro_rules! trial_row {
    ($r:ident $($q:tt)?) => {
        $crate::tune::storage::TrialRow {
            id: $r.get(0)$($q)?,
            number: $r.get(1)$($q)?,
            state: $r.get(2)$($q)?,
            params: $r.get(3)$($q)?,
            score: $r.get(4)$($q)?,
            metrics: $r.get(5)$($q)?,
            worker: $r.get(6)$($q)?,
            started: $r.get(7)$($q)?,
            finished: $r.get(8)$($q)?,
            heartbeat: $r.get(9)$($q)?,
            retry_of: $r.get(10)$($q)?,
            replaced_by: $r.get(11)$($q)?,
            error: $r.get(12)$($q)?,
        }
    };
}
pub(crate) use trial_row;

impl TrialRow {
    /// The trial: its state, values and metrics decoded (intermediate
    /// values come from `tune_values`, see [`attach_intermediate`]).
    pub(crate) fn decode(self) -> Result<TrialRecord> {
        Ok(TrialRecord {
            id: self.id,
            number: self.number,
            state: TrialState::parse(&self.state)?,
            values: parse_values(self.number, &self.params)?,
            score: self.score,
            metrics: parse_metrics(self.number, self.metrics)?,
            intermediate: Vec::new(),
            worker: self.worker,
            started: self.started,
            finished: self.finished,
            heartbeat: self.heartbeat,
            retry_of: self.retry_of,
            replaced_by: self.replaced_by,
            error: self.error,
        })
    }
}

/// Adds the `(trial id, step, value)` rows of `tune_values`, ordered by
/// trial and step, to their trials.
pub(crate) fn attach_intermediate(
    trials: &mut [TrialRecord],
    values: impl IntoIterator<Item = (i64, i64, f64)>,
) {
    let mut idx = std::collections::HashMap::new();
    for (i, t) in trials.iter().enumerate() {
        idx.insert(t.id, i);
    }
    for (tid, step, v) in values {
        if let Some(&i) = idx.get(&tid) {
            trials[i].intermediate.push((step, v));
        }
    }
}

/// Parses a stored trial row's JSON columns.
fn parse_values(study_trial: i64, json: &str) -> Result<super::space::Values> {
    serde_json::from_str(json).map_err(|e| {
        Error::Other(format!(
            "trial {study_trial}: unreadable stored values ({e})"
        ))
    })
}

/// Parses stored metrics.
fn parse_metrics(
    study_trial: i64,
    json: Option<String>,
) -> Result<std::collections::BTreeMap<String, f64>> {
    match json {
        None => Ok(Default::default()),
        Some(s) => serde_json::from_str(&s).map_err(|e| {
            Error::Other(format!(
                "trial {study_trial}: unreadable stored metrics ({e})"
            ))
        }),
    }
}
