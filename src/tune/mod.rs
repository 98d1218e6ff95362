//! Hyper-parameter search: Keras Tuner's search spaces and tuners, with an
//! Optuna-style shared study in a database so that any number of worker
//! processes, on any number of machines, work on one search.
//!
//! - [`space`]: `Int`, `Float` (linear / log / reverse_log, steps), `Choice`,
//!   `Boolean`, `Fixed`, conditions — Keras Tuner's formulas.
//! - [`hp`]: the `hp` object of a `build_model(hp)` closure.
//! - [`grid`], [`random`], [`hyperband`], [`tpe`]: the tuners ([`Tuner`]).
//! - [`pruner`]: median and successive-halving pruning.
//! - [`storage`]: SQLite (default) and PostgreSQL behind one trait.
//! - [`study`]: the study (configuration + trials) and the worker loop.
//! - [`toml_space`]: search spaces written inside an experiment TOML file;
//!   [`settings`]: its `[tune]` table; [`objective`]: a trial of it.
//!
//! ```
//! use lstmkit::tune::{Direction, HyperParameters, Sampling, Study, StudyConfig, Tuner, WorkerOptions};
//! use lstmkit::tune::storage::StorageUrl;
//! # let dir = std::env::temp_dir().join(format!("lstmkit-doc-tune-{}", std::process::id()));
//! let url = StorageUrl::Sqlite(dir.join("study.sqlite3"));
//! // The search space, declared by a build closure as in Keras Tuner.
//! let build = |hp: &mut HyperParameters| -> lstmkit::Result<(i64, f64)> {
//!     let units = hp.int("units", 32, 128).step(32).get()?;
//!     let lr = hp.float("learning_rate", 1e-4, 1e-2).sampling(Sampling::Log).get()?;
//!     Ok((units, lr))
//! };
//! let mut config = StudyConfig::new("score", Direction::Min, Tuner::Random);
//! config.max_trials = Some(6);
//! config.space = lstmkit::tune::hp::discover_space(&mut { build })?;
//! let mut study = Study::create_or_load(&url, "doc", &config)?;
//! let report = study.optimize(
//!     &mut |trial: &mut lstmkit::tune::TrialContext| {
//!         let (units, lr) = build(&mut trial.hp)?;
//!         let score = (units as f64 - 96.0).abs() + (lr.log10() + 3.0).abs();
//!         Ok([("score".to_string(), score)].into())
//!     },
//!     &WorkerOptions::default(),
//! )?;
//! assert_eq!(report.completed, 6);
//! let best = study.best()?.unwrap();
//! assert!(best.score.unwrap() < 40.0);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), lstmkit::Error>(())
//! ```

pub mod grid;
pub mod hp;
pub mod hyperband;
pub mod objective;
pub mod pruner;
pub mod random;
pub mod settings;
pub mod space;
pub mod storage;
pub mod study;
#[doc(hidden)]
pub mod testutil;
pub mod toml_space;
pub mod tpe;
pub mod trial;

pub use hp::HyperParameters;
pub use hyperband::Hyperband;
pub use pruner::Pruner;
pub use space::{Condition, HyperParameter, Kind, Sampling, Space, Value, Values};
pub use study::{Metrics, Study, StudyConfig, TrialContext, WorkerOptions, WorkerReport};
pub use tpe::Tpe;
pub use trial::{best_trial, Direction, TrialRecord, TrialState};

use crate::error::Result;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// What a tuner proposes next.
#[derive(Clone, Debug, PartialEq)]
pub enum Suggestion {
    /// Run a trial with these values.
    Run(Values),
    /// Nothing to start now (waiting for running trials' results).
    Idle,
    /// The search is over.
    Stop,
}

/// The search algorithm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Tuner {
    /// Every combination, in Keras Tuner's order (see [`grid`]).
    Grid,
    /// Keras Tuner's `RandomSearch`.
    Random,
    /// Keras Tuner's `Hyperband`.
    Hyperband(Hyperband),
    /// Tree-structured Parzen Estimator.
    Tpe(Tpe),
}

/// What a tuner suggests from: the search space, every trial so far and
/// whether the score is minimised or maximised.
#[derive(Clone, Copy)]
pub struct Past<'a> {
    /// The search space.
    pub space: &'a Space,
    /// All trials so far, in creation order.
    pub history: &'a [TrialRecord],
    /// The objective's direction.
    pub dir: Direction,
}

impl<'a> Past<'a> {
    /// The study as a tuner sees it.
    pub fn new(space: &'a Space, history: &'a [TrialRecord], dir: Direction) -> Self {
        Past {
            space,
            history,
            dir,
        }
    }
}

impl Tuner {
    /// The tuner's name (`grid`, `random`, `hyperband`, `tpe`).
    pub fn name(&self) -> &'static str {
        match self {
            Tuner::Grid => "grid",
            Tuner::Random => "random",
            Tuner::Hyperband(_) => "hyperband",
            Tuner::Tpe(_) => "tpe",
        }
    }

    /// The next trial's values given all trials so far.
    pub fn suggest(&self, past: Past, rng: &mut Rng) -> Result<Suggestion> {
        let (space, history) = (past.space, past.history);
        let some = |v: Option<Values>| v.map_or(Suggestion::Stop, Suggestion::Run);
        Ok(match self {
            Tuner::Grid => some(grid::suggest(space, history)?),
            Tuner::Random => some(random::suggest(space, history, rng)),
            Tuner::Hyperband(h) => h.suggest(past, rng)?,
            Tuner::Tpe(t) => some(t.suggest(past, rng)),
        })
    }
}
