//! PostgreSQL storage: a study's row (`SELECT ... FOR UPDATE`) is its lock,
//! the server's clock is the heartbeats' clock, so workers on many machines
//! can share one study.

use super::sql;
use super::{attach_intermediate, trial_row, NewTrial, Storage, TrialEnd, Tx, TRIAL_COLUMNS};
use crate::error::{Error, Result};
use crate::tune::trial::{TrialRecord, TrialState};
use postgres::types::ToSql;
use postgres::{Client, NoTls};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tune_studies (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    config TEXT
);
CREATE TABLE IF NOT EXISTS tune_trials (
    id BIGSERIAL PRIMARY KEY,
    study_id BIGINT NOT NULL REFERENCES tune_studies(id),
    number BIGINT NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    score DOUBLE PRECISION,
    metrics TEXT,
    worker TEXT,
    started DOUBLE PRECISION,
    finished DOUBLE PRECISION,
    heartbeat DOUBLE PRECISION,
    retry_of BIGINT,
    replaced_by BIGINT,
    error TEXT,
    UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS tune_values (
    trial_id BIGINT NOT NULL REFERENCES tune_trials(id),
    step BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (trial_id, step)
);
";

const NOW: &str = sql::POSTGRES.now;

/// Advisory-lock key that serialises schema creation.
const SCHEMA_LOCK: i64 = 0x006c_7374_6d6b_6974;

/// A study database on a PostgreSQL server.
pub struct PgStorage {
    client: Client,
    url: String,
}

fn redact(url: &str) -> String {
    // postgres://user:password@host/db → postgres://user:***@host/db
    if let Some(at) = url.rfind('@') {
        if let Some(scheme_end) = url.find("://") {
            let creds = &url[scheme_end + 3..at];
            if let Some(colon) = creds.find(':') {
                return format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                );
            }
        }
    }
    url.to_string()
}

fn pg_err(url: &str, e: postgres::Error) -> Error {
    Error::Other(format!("study database {}: {e}", redact(url)))
}

/// Runs one of the shared UPDATEs ([`sql`]) on `c`: true when it changed exactly one row.
fn update_one(
    c: &mut impl postgres::GenericClient,
    url: &str,
    q: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<bool> {
    let n = c
        .execute(&sql::POSTGRES.text(q), params)
        .map_err(|e| pg_err(url, e))?;
    Ok(n == 1)
}

impl PgStorage {
    /// Connects and creates the tables if needed.
    pub fn open(url: &str) -> Result<Self> {
        let mut client = Client::connect(url, NoTls).map_err(|e| pg_err(url, e))?;
        let mut tx = client.transaction().map_err(|e| pg_err(url, e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(|e| pg_err(url, e))?;
        tx.batch_execute(SCHEMA).map_err(|e| pg_err(url, e))?;
        tx.commit().map_err(|e| pg_err(url, e))?;
        Ok(PgStorage {
            client,
            url: url.to_string(),
        })
    }

    fn err(&self, e: postgres::Error) -> Error {
        pg_err(&self.url, e)
    }
}

fn load_trials(
    c: &mut impl postgres::GenericClient,
    url: &str,
    study: i64,
) -> Result<Vec<TrialRecord>> {
    let rows = c
        .query(
            &format!("SELECT {TRIAL_COLUMNS} FROM tune_trials WHERE study_id = $1 ORDER BY number"),
            &[&study],
        )
        .map_err(|e| pg_err(url, e))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(trial_row!(r).decode()?);
    }
    let vals = c
        .query(
            "SELECT v.trial_id, v.step, v.value FROM tune_values v
             JOIN tune_trials t ON t.id = v.trial_id WHERE t.study_id = $1 ORDER BY v.trial_id, v.step",
            &[&study],
        )
        .map_err(|e| pg_err(url, e))?;
    attach_intermediate(
        &mut out,
        vals.iter().map(|r| (r.get(0), r.get(1), r.get(2))),
    );
    Ok(out)
}

struct PgTx<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    url: &'a str,
    study: i64,
}

impl PgTx<'_, '_> {
    fn err(&self, e: postgres::Error) -> Error {
        pg_err(self.url, e)
    }
}

impl Tx for PgTx<'_, '_> {
    fn config(&mut self) -> Result<Option<String>> {
        let r = self
            .tx
            .query_one(
                "SELECT config FROM tune_studies WHERE id = $1",
                &[&self.study],
            )
            .map_err(|e| self.err(e))?;
        Ok(r.get(0))
    }
    fn set_config(&mut self, json: &str) -> Result<()> {
        self.tx
            .execute(
                "UPDATE tune_studies SET config = $1 WHERE id = $2",
                &[&json, &self.study],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
    fn trials(&mut self) -> Result<Vec<TrialRecord>> {
        load_trials(self.tx, self.url, self.study)
    }
    fn now(&mut self) -> Result<f64> {
        let r = self
            .tx
            .query_one(&format!("SELECT {NOW}"), &[])
            .map_err(|e| self.err(e))?;
        Ok(r.get(0))
    }
    fn insert_trial(&mut self, t: &NewTrial) -> Result<i64> {
        let running = t.state == TrialState::Running;
        let r = self
            .tx
            .query_one(
                &format!("{} RETURNING id", sql::POSTGRES.text(sql::INSERT_TRIAL)),
                &[
                    &self.study,
                    &t.number,
                    &t.state.as_str(),
                    &t.values_json,
                    &t.worker,
                    &running,
                    &t.retry_of,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(r.get(0))
    }
    fn claim(&mut self, id: i64, worker: &str) -> Result<bool> {
        update_one(self.tx, self.url, sql::CLAIM, &[&id, &worker])
    }
    fn fail_stale(&mut self, id: i64, cutoff: f64, error: &str) -> Result<bool> {
        update_one(self.tx, self.url, sql::FAIL_STALE, &[&id, &cutoff, &error])
    }
    fn set_replaced_by(&mut self, id: i64, new_id: i64) -> Result<()> {
        self.tx
            .execute(
                "UPDATE tune_trials SET replaced_by = $2 WHERE id = $1",
                &[&id, &new_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl Storage for PgStorage {
    fn locked(&mut self, study: &str, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let url = self.url.clone();
        self.client
            .execute(
                "INSERT INTO tune_studies (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                &[&study],
            )
            .map_err(|e| pg_err(&url, e))?;
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        let row = tx
            .query_one(
                "SELECT id FROM tune_studies WHERE name = $1 FOR UPDATE",
                &[&study],
            )
            .map_err(|e| pg_err(&url, e))?;
        let id: i64 = row.get(0);
        let r = {
            let mut t = PgTx {
                tx: &mut tx,
                url: &url,
                study: id,
            };
            f(&mut t)
        };
        match r {
            Ok(()) => tx.commit().map_err(|e| pg_err(&url, e)),
            Err(e) => {
                let _ = tx.rollback();
                Err(e)
            }
        }
    }

    fn heartbeat(&mut self, id: i64, worker: &str) -> Result<bool> {
        update_one(&mut self.client, &self.url, sql::HEARTBEAT, &[&id, &worker])
    }

    fn report(&mut self, id: i64, worker: &str, step: i64, value: f64) -> Result<bool> {
        let url = self.url.clone();
        let mut tx = self.client.transaction().map_err(|e| pg_err(&url, e))?;
        if !update_one(&mut tx, &url, sql::HEARTBEAT, &[&id, &worker])? {
            let _ = tx.rollback();
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO tune_values (trial_id, step, value) VALUES ($1, $2, $3)
             ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value",
            &[&id, &step, &value],
        )
        .map_err(|e| pg_err(&url, e))?;
        tx.commit().map_err(|e| pg_err(&url, e))?;
        Ok(true)
    }

    fn finish(&mut self, id: i64, worker: &str, end: &TrialEnd) -> Result<bool> {
        let state = end.state.as_str();
        let p: [&(dyn ToSql + Sync); 6] = [
            &id,
            &worker,
            &state,
            &end.score,
            &end.metrics_json,
            &end.error,
        ];
        update_one(&mut self.client, &self.url, sql::FINISH, &p)
    }

    fn snapshot(&mut self, study: &str) -> Result<Option<(String, Vec<TrialRecord>)>> {
        let url = self.url.clone();
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| pg_err(&url, e))?;
        let row = tx
            .query_opt(
                "SELECT id, config FROM tune_studies WHERE name = $1",
                &[&study],
            )
            .map_err(|e| pg_err(&url, e))?;
        let out = match row {
            Some(r) => {
                let id: i64 = r.get(0);
                let cfg: Option<String> = r.get(1);
                match cfg {
                    Some(c) => Some((c, load_trials(&mut tx, &url, id)?)),
                    None => None,
                }
            }
            None => None,
        };
        tx.commit().map_err(|e| pg_err(&url, e))?;
        Ok(out)
    }

    fn studies(&mut self) -> Result<Vec<String>> {
        let rows = self
            .client
            .query(
                "SELECT name FROM tune_studies WHERE config IS NOT NULL ORDER BY id",
                &[],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
}
