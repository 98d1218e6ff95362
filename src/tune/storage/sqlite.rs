//! SQLite storage (bundled SQLite, WAL mode, `BEGIN IMMEDIATE` as the study lock).

use super::sql;
use super::{
    attach_intermediate, trial_row, NewTrial, Storage, TrialEnd, TrialRow, Tx, TRIAL_COLUMNS,
};
use crate::error::{Error, Result};
use crate::tune::trial::{TrialRecord, TrialState};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tune_studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    config TEXT
);
CREATE TABLE IF NOT EXISTS tune_trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES tune_studies(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    score REAL,
    metrics TEXT,
    worker TEXT,
    started REAL,
    finished REAL,
    heartbeat REAL,
    retry_of INTEGER,
    replaced_by INTEGER,
    error TEXT,
    UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS tune_values (
    trial_id INTEGER NOT NULL REFERENCES tune_trials(id),
    step INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (trial_id, step)
);
";

const NOW: &str = sql::SQLITE.now;

/// A study database in one SQLite file.
pub struct SqliteStorage {
    conn: Connection,
    path: PathBuf,
}

fn db_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::Other(format!("study database {}: {e}", path.display()))
}

impl SqliteStorage {
    /// Opens or creates the database file (and its parent directory).
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
        }
        let conn = Connection::open(path).map_err(|e| db_err(path, e))?;
        conn.busy_timeout(Duration::from_secs(120))
            .map_err(|e| db_err(path, e))?;
        let s = SqliteStorage {
            conn,
            path: path.to_path_buf(),
        };
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| s.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Other(format!(
                "study database {}: cannot switch to WAL mode (got {mode})",
                path.display()
            )));
        }
        s.conn
            .execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(|e| s.err(e))?;
        s.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| s.err(e))?;
        let r = s.conn.execute_batch(SCHEMA);
        match r {
            Ok(()) => s.conn.execute_batch("COMMIT").map_err(|e| s.err(e))?,
            Err(e) => {
                let _ = s.conn.execute_batch("ROLLBACK");
                return Err(s.err(e));
            }
        }
        Ok(s)
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_err(&self.path, e)
    }

    fn study_id(&self, name: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT id FROM tune_studies WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }
}

/// Runs one of the shared UPDATEs ([`sql`]): true when it changed exactly one row.
fn update_one(s: &SqliteStorage, q: &str, params: impl rusqlite::Params) -> Result<bool> {
    let n = s
        .conn
        .execute(&sql::SQLITE.text(q), params)
        .map_err(|e| s.err(e))?;
    Ok(n == 1)
}

struct SqliteTx<'a> {
    s: &'a SqliteStorage,
    study: i64,
}

fn load_trials(s: &SqliteStorage, study: i64) -> Result<Vec<TrialRecord>> {
    let mut st = s
        .conn
        .prepare_cached(&format!(
            "SELECT {TRIAL_COLUMNS} FROM tune_trials WHERE study_id = ?1 ORDER BY number"
        ))
        .map_err(|e| s.err(e))?;
    let rows: Vec<TrialRow> = st
        .query_map([study], |r| Ok(trial_row!(r?)))
        .map_err(|e| s.err(e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| s.err(e))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(r.decode()?);
    }
    let mut st = s
        .conn
        .prepare_cached(
            "SELECT v.trial_id, v.step, v.value FROM tune_values v
             JOIN tune_trials t ON t.id = v.trial_id WHERE t.study_id = ?1 ORDER BY v.trial_id, v.step",
        )
        .map_err(|e| s.err(e))?;
    let vals: Vec<(i64, i64, f64)> = st
        .query_map([study], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| s.err(e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| s.err(e))?;
    attach_intermediate(&mut out, vals);
    Ok(out)
}

impl Tx for SqliteTx<'_> {
    fn config(&mut self) -> Result<Option<String>> {
        self.s
            .conn
            .query_row(
                "SELECT config FROM tune_studies WHERE id = ?1",
                [self.study],
                |r| r.get(0),
            )
            .map_err(|e| self.s.err(e))
    }
    fn set_config(&mut self, json: &str) -> Result<()> {
        self.s
            .conn
            .execute(
                "UPDATE tune_studies SET config = ?1 WHERE id = ?2",
                params![json, self.study],
            )
            .map_err(|e| self.s.err(e))?;
        Ok(())
    }
    fn trials(&mut self) -> Result<Vec<TrialRecord>> {
        load_trials(self.s, self.study)
    }
    fn now(&mut self) -> Result<f64> {
        self.s
            .conn
            .query_row(&format!("SELECT {NOW}"), [], |r| r.get(0))
            .map_err(|e| self.s.err(e))
    }
    fn insert_trial(&mut self, t: &NewTrial) -> Result<i64> {
        let running = t.state == TrialState::Running;
        self.s
            .conn
            .execute(
                &sql::SQLITE.text(sql::INSERT_TRIAL),
                params![
                    self.study,
                    t.number,
                    t.state.as_str(),
                    t.values_json,
                    t.worker,
                    running,
                    t.retry_of
                ],
            )
            .map_err(|e| self.s.err(e))?;
        Ok(self.s.conn.last_insert_rowid())
    }
    fn claim(&mut self, id: i64, worker: &str) -> Result<bool> {
        update_one(self.s, sql::CLAIM, params![id, worker])
    }
    fn fail_stale(&mut self, id: i64, cutoff: f64, error: &str) -> Result<bool> {
        update_one(self.s, sql::FAIL_STALE, params![id, cutoff, error])
    }
    fn set_replaced_by(&mut self, id: i64, new_id: i64) -> Result<()> {
        self.s
            .conn
            .execute(
                "UPDATE tune_trials SET replaced_by = ?2 WHERE id = ?1",
                params![id, new_id],
            )
            .map_err(|e| self.s.err(e))?;
        Ok(())
    }
}

impl Storage for SqliteStorage {
    fn locked(&mut self, study: &str, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let r = (|| -> Result<()> {
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO tune_studies (name) VALUES (?1)",
                    [study],
                )
                .map_err(|e| self.err(e))?;
            let id = self
                .study_id(study)?
                .ok_or_else(|| Error::Other(format!("study '{study}' vanished")))?;
            let mut tx = SqliteTx { s: self, study: id };
            f(&mut tx)
        })();
        match r {
            Ok(()) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(self.err(e));
                }
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn heartbeat(&mut self, id: i64, worker: &str) -> Result<bool> {
        update_one(self, sql::HEARTBEAT, params![id, worker])
    }

    fn report(&mut self, id: i64, worker: &str, step: i64, value: f64) -> Result<bool> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let r = (|| -> Result<bool> {
            if !self.heartbeat(id, worker)? {
                return Ok(false);
            }
            self.conn
                .execute(
                    "INSERT INTO tune_values (trial_id, step, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value",
                    params![id, step, value],
                )
                .map_err(|e| self.err(e))?;
            Ok(true)
        })();
        match r {
            Ok(ok) => {
                self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
                Ok(ok)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn finish(&mut self, id: i64, worker: &str, end: &TrialEnd) -> Result<bool> {
        let state = end.state.as_str();
        let p = params![id, worker, state, end.score, end.metrics_json, end.error];
        update_one(self, sql::FINISH, p)
    }

    fn snapshot(&mut self, study: &str) -> Result<Option<(String, Vec<TrialRecord>)>> {
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
        let r = (|| -> Result<Option<(String, Vec<TrialRecord>)>> {
            let row: Option<(i64, Option<String>)> = self
                .conn
                .query_row(
                    "SELECT id, config FROM tune_studies WHERE name = ?1",
                    [study],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| self.err(e))?;
            match row {
                Some((id, Some(cfg))) => Ok(Some((cfg, load_trials(self, id)?))),
                _ => Ok(None),
            }
        })();
        let _ = self.conn.execute_batch("COMMIT");
        r
    }

    fn studies(&mut self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM tune_studies WHERE config IS NOT NULL ORDER BY id")
            .map_err(|e| self.err(e))?;
        let v = st
            .query_map([], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(v)
    }
}
