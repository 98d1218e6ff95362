//! The `[tune]` table of an experiment file: which tuner, objective and budget.
//!
//! ```toml
//! [tune]
//! tuner = "random"            # grid | random | hyperband | tpe
//! objective = "val_loss"      # any logged metric
//! direction = "min"           # default: max for accuracy-like names, else min
//! max_trials = 5              # required for random and tpe
//! executions_per_trial = 1
//! max_consecutive_failed_trials = 3
//! seed = 42
//! # hyperband: max_epochs = 100, factor = 3, hyperband_iterations = 1
//! # tpe: n_startup_trials = 10, n_ei_candidates = 24
//! pruner = "median"           # none | median | successive_halving, or a table:
//! # pruner = { type = "median", n_startup_trials = 5, n_warmup_steps = 0 }
//! # pruner = { type = "successive_halving", min_resource = 1, reduction_factor = 4, min_early_stopping_rate = 0 }
//! heartbeat_seconds = 2       # how often a worker marks its trial alive
//! stale_seconds = 30          # a trial without heartbeat for this long is re-queued
//! ```
//!
//! ```
//! use lstmkit::tune::settings::TuneSettings;
//! let doc: toml::Value = toml::from_str("[tune]\ntuner = \"tpe\"\nmax_trials = 20").unwrap();
//! let s = TuneSettings::from_doc(&doc).unwrap();
//! assert_eq!(s.config.tuner.name(), "tpe");
//! assert_eq!(s.config.max_trials, Some(20));
//! ```

use super::hyperband::Hyperband;
use super::pruner::Pruner;
use super::study::StudyConfig;
use super::tpe::Tpe;
use super::trial::Direction;
use super::Tuner;
use crate::error::{Error, Result};

/// `[tune]`, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneSettings {
    /// The study's configuration (its space is left empty).
    pub config: StudyConfig,
    /// Seconds between heartbeats.
    pub heartbeat_seconds: f64,
    /// Seconds without heartbeat after which a trial is re-queued.
    pub stale_seconds: f64,
}

/// The keys of `[tune]`.
pub const KEYS: [&str; 16] = [
    "tuner",
    "objective",
    "direction",
    "max_trials",
    "executions_per_trial",
    "max_consecutive_failed_trials",
    "seed",
    "max_epochs",
    "factor",
    "hyperband_iterations",
    "n_startup_trials",
    "n_ei_candidates",
    "pruner",
    "heartbeat_seconds",
    "stale_seconds",
    "description",
];

/// Refuses a key of `t` not in `allowed`: `{at}: unknown key 'k'{of} (allowed: ...)`.
fn known_keys(
    t: &toml::map::Map<String, toml::Value>,
    allowed: &[&str],
    at: &str,
    of: &str,
) -> Result<()> {
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Error::Config(format!(
                "{at}: unknown key '{k}'{of} (allowed: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn uint(t: &toml::map::Map<String, toml::Value>, key: &str, at: &str) -> Result<Option<u64>> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
        Some(v) => Err(Error::Config(format!(
            "{at}.{key}: expected a non-negative integer, got {v}"
        ))),
    }
}

fn secs(t: &toml::map::Map<String, toml::Value>, key: &str, default: f64) -> Result<f64> {
    let v = match t.get(key) {
        None => return Ok(default),
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(toml::Value::Float(f)) => *f,
        Some(v) => {
            return Err(Error::Config(format!(
                "tune.{key}: expected seconds, got {v}"
            )))
        }
    };
    if !(v.is_finite() && v > 0.0) {
        return Err(Error::Config(format!(
            "tune.{key}: must be > 0 seconds, got {v}"
        )));
    }
    Ok(v)
}

fn string<'a>(
    t: &'a toml::map::Map<String, toml::Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'a str>> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(Error::Config(format!(
            "{at}.{key}: expected a string, got {v}"
        ))),
    }
}

fn pruner(v: Option<&toml::Value>) -> Result<Pruner> {
    let (kind, t) = match v {
        None => return Ok(Pruner::None),
        Some(toml::Value::String(s)) => (s.clone(), toml::map::Map::new()),
        Some(toml::Value::Table(t)) => match t.get("type") {
            Some(toml::Value::String(s)) => (s.clone(), t.clone()),
            _ => {
                return Err(Error::Config(
                    "tune.pruner: a table needs type = \"median\" or \"successive_halving\"".into(),
                ))
            }
        },
        Some(v) => {
            return Err(Error::Config(format!(
                "tune.pruner: expected a name or a table, got {v}"
            )))
        }
    };
    let allowed: &[&str] = match kind.as_str() {
        "none" => &["type"],
        "median" => &["type", "n_startup_trials", "n_warmup_steps"],
        "successive_halving" => &[
            "type",
            "min_resource",
            "reduction_factor",
            "min_early_stopping_rate",
        ],
        o => {
            return Err(Error::Config(format!(
                "tune.pruner: unknown pruner '{o}' (none, median, successive_halving)"
            )))
        }
    };
    let at = "tune.pruner";
    known_keys(&t, allowed, at, &format!(" for {kind}"))?;
    Ok(match kind.as_str() {
        "none" => Pruner::None,
        "median" => Pruner::Median {
            n_startup_trials: uint(&t, "n_startup_trials", at)?.unwrap_or(5) as usize,
            n_warmup_steps: uint(&t, "n_warmup_steps", at)?.unwrap_or(0) as i64,
        },
        _ => {
            let rf = uint(&t, "reduction_factor", at)?.unwrap_or(4) as i64;
            if rf < 2 {
                return Err(Error::Config(
                    "tune.pruner.reduction_factor must be ≥ 2".into(),
                ));
            }
            Pruner::SuccessiveHalving {
                min_resource: uint(&t, "min_resource", at)?.unwrap_or(1).max(1) as i64,
                reduction_factor: rf,
                min_early_stopping_rate: uint(&t, "min_early_stopping_rate", at)?.unwrap_or(0)
                    as i64,
            }
        }
    })
}

impl TuneSettings {
    /// Reads `[tune]` from an experiment document (all defaults when absent).
    pub fn from_doc(doc: &toml::Value) -> Result<TuneSettings> {
        let empty = toml::map::Map::new();
        let t = match doc.get("tune") {
            None => &empty,
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err(Error::Config("[tune] must be a table".into())),
        };
        let at = "tune";
        known_keys(t, &KEYS, at, "")?;
        let objective = string(t, "objective", at)?
            .unwrap_or("val_loss")
            .to_string();
        let direction = match string(t, "direction", at)? {
            Some(d) => Direction::from_name(d)?,
            None => Direction::for_metric(&objective),
        };
        let kind = string(t, "tuner", at)?.unwrap_or("random");
        let only = |keys: &[&str], tuner: &str| -> Result<()> {
            for k in keys {
                if t.contains_key(*k) {
                    return Err(Error::Config(format!(
                        "tune.{k} applies to the {tuner} tuner only"
                    )));
                }
            }
            Ok(())
        };
        let hb_keys = ["max_epochs", "factor", "hyperband_iterations"];
        let tpe_keys = ["n_startup_trials", "n_ei_candidates"];
        let tuner = match kind {
            "grid" | "random" => {
                only(&hb_keys, "hyperband")?;
                only(&tpe_keys, "tpe")?;
                if kind == "grid" {
                    Tuner::Grid
                } else {
                    Tuner::Random
                }
            }
            "hyperband" => {
                only(&tpe_keys, "tpe")?;
                let h = Hyperband {
                    max_epochs: uint(t, "max_epochs", at)?.unwrap_or(100) as i64,
                    factor: uint(t, "factor", at)?.unwrap_or(3) as i64,
                    iterations: uint(t, "hyperband_iterations", at)?.unwrap_or(1) as i64,
                };
                h.validate()?;
                Tuner::Hyperband(h)
            }
            "tpe" => {
                only(&hb_keys, "hyperband")?;
                let d = Tpe::default();
                Tuner::Tpe(Tpe {
                    n_startup_trials: uint(t, "n_startup_trials", at)?
                        .map_or(d.n_startup_trials, |v| v as usize),
                    n_ei_candidates: uint(t, "n_ei_candidates", at)?
                        .map_or(d.n_ei_candidates, |v| v as usize)
                        .max(1),
                })
            }
            o => {
                return Err(Error::Config(format!(
                    "tune.tuner: unknown tuner '{o}' (grid, random, hyperband, tpe)"
                )))
            }
        };
        let mut config = StudyConfig::new(&objective, direction, tuner);
        config.max_trials = uint(t, "max_trials", at)?.map(|v| v as usize);
        if let Some(e) = uint(t, "executions_per_trial", at)? {
            config.executions_per_trial = e as usize;
        }
        if let Some(m) = uint(t, "max_consecutive_failed_trials", at)? {
            config.max_consecutive_failed_trials = m as usize;
        }
        if let Some(s) = uint(t, "seed", at)? {
            config.seed = s;
        }
        config.pruner = pruner(t.get("pruner"))?;
        string(t, "description", at)?;
        let heartbeat_seconds = secs(t, "heartbeat_seconds", 2.0)?;
        let stale_seconds = secs(t, "stale_seconds", 30.0)?;
        if stale_seconds <= 2.0 * heartbeat_seconds {
            return Err(Error::Config(format!(
                "tune.stale_seconds ({stale_seconds}) must exceed twice heartbeat_seconds ({heartbeat_seconds})"
            )));
        }
        Ok(TuneSettings {
            config,
            heartbeat_seconds,
            stale_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<TuneSettings> {
        TuneSettings::from_doc(&toml::from_str(s).unwrap())
    }

    #[test]
    fn defaults_and_forms() {
        let s = parse("").unwrap();
        assert_eq!(s.config.objective, "val_loss");
        assert_eq!(s.config.direction, Direction::Min);
        assert_eq!(s.config.tuner, Tuner::Random);
        let s =
            parse("[tune]\nobjective = \"val_accuracy\"\ntuner = \"hyperband\"\nmax_epochs = 27")
                .unwrap();
        assert_eq!(s.config.direction, Direction::Max);
        assert_eq!(
            s.config.tuner,
            Tuner::Hyperband(Hyperband {
                max_epochs: 27,
                factor: 3,
                iterations: 1
            })
        );
        let s = parse("[tune]\npruner = { type = \"median\", n_warmup_steps = 3 }").unwrap();
        assert_eq!(
            s.config.pruner,
            Pruner::Median {
                n_startup_trials: 5,
                n_warmup_steps: 3
            }
        );
        let s = parse("[tune]\npruner = \"successive_halving\"").unwrap();
        assert!(matches!(
            s.config.pruner,
            Pruner::SuccessiveHalving {
                reduction_factor: 4,
                ..
            }
        ));
    }

    #[test]
    fn mistakes_are_named() {
        for (src, want) in [
            ("[tune]\ntuner = \"bayes\"", "unknown tuner 'bayes'"),
            ("[tune]\nmax_trial = 3", "unknown key 'max_trial'"),
            ("[tune]\nfactor = 3", "hyperband tuner only"),
            ("[tune]\ntuner = \"hyperband\"\nfactor = 1", "factor"),
            ("[tune]\nmax_trials = -1", "tune.max_trials"),
            ("[tune]\ndirection = \"up\"", "direction"),
            ("[tune]\npruner = \"early\"", "unknown pruner 'early'"),
            ("[tune]\nstale_seconds = 1", "stale_seconds"),
        ] {
            let e = parse(src).unwrap_err().to_string();
            assert!(e.contains(want), "{src}: {e}");
        }
    }
}
