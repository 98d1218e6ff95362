//! Backtesting (historical forecasts): the experiment's model, retrained as
//! asked, forecasts from many origins; every baseline ([`crate::baselines`])
//! forecasts from the same origins; all are scored in original units.
//!
//! # Settings (`[backtest]` in the experiment, or `lstmkit backtest` flags)
//! * `start`: the first origin (the first forecast row; rows before it are
//!   known): a fraction of the series (`0.8`: row `⌊0.8 (n - 1)⌋`, Darts'
//!   rule), a row position (`304`), or a time (`"2014-11-01"`: the first row
//!   at or after it). Default: the experiment's test split,
//!   `⌊(1 - test_split) n⌋`.
//! * `horizon`: steps per forecast (default and maximum `data.horizon`: the
//!   model predicts them directly, one call per window).
//! * `stride`: rows between origins (default 1). Origins run while the whole
//!   horizon lies inside the series (Darts' `overlap_end = false`).
//! * `retrain`: `"never"` (train once, on the rows before `start`),
//!   `"always"` (before every origin) or `N` (before origins 0, N, 2N, ...:
//!   Darts' `retrain = N`).
//! * `window`: `"expanding"` (all rows before the origin) or `N` (the last N
//!   rows before it: Darts' `train_length`).
//! * `last_points_only`: score (and write) only the last step of each
//!   forecast.
//! * `workers`: trainings run at once (threads of this process; each
//!   trains its own model).
//!
//! # Leak-free by construction
//! A training sees a frame cut at its origin (`rows window.start..origin`):
//! the scaler is fitted, differences taken and windows built on those rows
//! alone ([`crate::data::prepare_frame`] with `test_split = 0`; a
//! `validation_split` splits off the last of *those* windows). A forecast
//! from origin `o` reads the input window ending at row `o - 1` and turns
//! the outputs back into levels from row `o - 1`; the baselines read rows
//! `..o`. Training goes through the experiment's [`FitPlan`]
//! (`crate::experiment::FitPlan`), as `train` does, with the same seed: a
//! fold trained on rows `..o` is the model `train` would fit on those rows.
//!
//! # Speed
//! The forecasts of all origins that share a trained model are one batched
//! `predict` call (with `retrain = "never"`: one call in all). Trainings are
//! independent and run on `workers` threads.
//!
//! # Differences from Darts' `historical_forecasts`
//! * `start` defaults to the test split, not the first trainable row.
//! * A `start` before the first row a fold can train on (or predict from)
//!   moves forward by whole strides, as in Darts, and a note says so.
//! * `window` also applies with `retrain = "never"` (the one training uses
//!   the last N rows before `start`); Darts refuses `train_length` there.
//! * Horizons longer than the model's output (Darts' auto-regression) are
//!   an error: set `data.horizon` to the horizon wanted.
//! * Future covariates (`data.future_covariates`) and calendar features
//!   are read, for each origin, for the steps it predicts (known ahead by
//!   definition); past features only from rows before the origin.
//! * Panels (`data.id_column`): one global model per training over every
//!   series (Darts retrains a global model per series). Each series has
//!   its own origins (from its own `start`); trainings are aligned by time:
//!   a training starting at time `t` sees, of every series, the rows before
//!   `t` (per-series scalers fitted on those rows) and forecasts the
//!   origins from `t` until the next training. `retrain = N` counts
//!   distinct origin times of the panel. A series too short for one
//!   training and one forecast is skipped with a note naming it; origins of
//!   a series whose training holds fewer than one training's rows of it are
//!   dropped with a note.
//! * Baselines: ETS and Theta are refitted at the model's retrain origins
//!   on the same rows as the model, and between retrains their states
//!   follow the data with the fitted parameters (Darts refits local models
//!   at every origin).

mod bands;
mod folds;
pub mod plot;
pub mod report;
mod run;

pub use bands::add_intervals;
pub use folds::{plan_folds, FoldPlan};
pub use report::{Backtest, ForecastRow};
pub use run::{cut as cut_rows, run_backtest, SeriesData};

use serde::{Deserialize, Serialize};

use crate::data::Frame;
use crate::error::{Error, Result};

/// `start`: a fraction, a row position or a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Start {
    /// A row position.
    Position(usize),
    /// A fraction of the series in `[0, 1)`.
    Fraction(f64),
    /// A time of the time column.
    Time(String),
}

impl std::str::FromStr for Start {
    type Err = Error;
    fn from_str(s: &str) -> Result<Start> {
        let s = s.trim();
        if let Ok(p) = s.parse::<usize>() {
            return Ok(Start::Position(p));
        }
        if let Ok(f) = s.parse::<f64>() {
            return Ok(Start::Fraction(f));
        }
        if s.is_empty() {
            return Err(Error::Config("backtest.start: empty".into()));
        }
        Ok(Start::Time(s.to_string()))
    }
}

/// `retrain`: never, always, or every N origins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retrain {
    Never,
    Always,
    Every(usize),
}

/// `window`: all earlier rows, or the last N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Expanding,
    Rows(usize),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WordOrNumber {
    N(usize),
    W(String),
}

impl std::str::FromStr for Retrain {
    type Err = Error;
    fn from_str(s: &str) -> Result<Retrain> {
        match s.trim().to_lowercase().as_str() {
            "never" | "false" | "0" => Ok(Retrain::Never),
            "always" | "true" | "1" => Ok(Retrain::Always),
            n => match n.parse::<usize>() {
                Ok(n) => Ok(Retrain::Every(n)),
                Err(_) => Err(Error::Config(format!(
                    "backtest.retrain: '{s}' is none of \"never\", \"always\" or a number of origins"
                ))),
            },
        }
    }
}

impl std::str::FromStr for Window {
    type Err = Error;
    fn from_str(s: &str) -> Result<Window> {
        match s.trim().to_lowercase().as_str() {
            "expanding" => Ok(Window::Expanding),
            n => match n.parse::<usize>() {
                Ok(0) | Err(_) => Err(Error::Config(format!(
                    "backtest.window: '{s}' is neither \"expanding\" nor a number of rows (at least 1)"
                ))),
                Ok(n) => Ok(Window::Rows(n)),
            },
        }
    }
}

macro_rules! word_or_number_serde {
    ($t:ty, $to:expr) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let w: WordOrNumber = $to(self);
                w.serialize(s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let text = match WordOrNumber::deserialize(d)? {
                    WordOrNumber::N(n) => n.to_string(),
                    WordOrNumber::W(w) => w,
                };
                text.parse()
                    .map_err(|e: Error| serde::de::Error::custom(e.detail()))
            }
        }
    };
}

word_or_number_serde!(Retrain, |r: &Retrain| match r {
    Retrain::Never => WordOrNumber::W("never".into()),
    Retrain::Always => WordOrNumber::W("always".into()),
    Retrain::Every(n) => WordOrNumber::N(*n),
});
word_or_number_serde!(Window, |w: &Window| match w {
    Window::Expanding => WordOrNumber::W("expanding".into()),
    Window::Rows(n) => WordOrNumber::N(*n),
});

fn default_stride() -> usize {
    1
}
fn default_workers() -> usize {
    1
}
fn default_retrain() -> Retrain {
    Retrain::Never
}
fn default_window() -> Window {
    Window::Expanding
}

/// The `[backtest]` table (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestSpec {
    /// First origin (default: the test split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    /// Steps per forecast (default `data.horizon`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<usize>,
    /// Rows between origins.
    #[serde(default = "default_stride")]
    pub stride: usize,
    /// When to retrain.
    #[serde(default = "default_retrain")]
    pub retrain: Retrain,
    /// Training rows.
    #[serde(default = "default_window")]
    pub window: Window,
    /// Only the last step of each forecast.
    #[serde(default)]
    pub last_points_only: bool,
    /// Trainings at once.
    #[serde(default = "default_workers")]
    pub workers: usize,
}

impl Default for BacktestSpec {
    fn default() -> Self {
        BacktestSpec {
            start: None,
            horizon: None,
            stride: 1,
            retrain: Retrain::Never,
            window: Window::Expanding,
            last_points_only: false,
            workers: 1,
        }
    }
}

impl BacktestSpec {
    /// Checks the values that need no data.
    pub fn validate(&self) -> Result<()> {
        if self.stride == 0 {
            return Err(Error::Config("backtest.stride must be at least 1".into()));
        }
        if self.horizon == Some(0) {
            return Err(Error::Config("backtest.horizon must be at least 1".into()));
        }
        if self.workers == 0 {
            return Err(Error::Config("backtest.workers must be at least 1".into()));
        }
        if self.retrain == Retrain::Every(0) {
            return Err(Error::Config(
                "backtest.retrain: every 0 origins; use \"never\"".into(),
            ));
        }
        if let Some(Start::Fraction(f)) = self.start {
            if !(0.0..1.0).contains(&f) {
                return Err(Error::Config(format!(
                    "backtest.start: a fraction must be in [0, 1), got {f}"
                )));
            }
        }
        Ok(())
    }

    /// The first origin this `start` names in `frame` (`default` without one).
    pub fn start_row(&self, frame: &Frame, default: usize) -> Result<usize> {
        let n = frame.n_rows();
        Ok(match &self.start {
            None => default,
            Some(Start::Position(p)) => *p,
            Some(Start::Fraction(f)) => ((n.saturating_sub(1)) as f64 * f).floor() as usize,
            Some(Start::Time(t)) => {
                let cells = frame.time.as_ref().ok_or_else(|| {
                    Error::Config(format!(
                        "backtest.start = \"{t}\" is a time, but {} has no time column (data.time_column)",
                        frame.source
                    ))
                })?;
                let mut with: Vec<String> = cells.clone();
                with.push(t.clone());
                let keys = crate::data::time::parse_time_column(&with)
                    .ok()
                    .flatten()
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "backtest.start = \"{t}\" is not a time like the time column's ('{}')",
                            cells.first().map(String::as_str).unwrap_or("")
                        ))
                    })?;
                let key = keys[n];
                keys[..n].iter().position(|k| *k >= key).ok_or_else(|| {
                    Error::Config(format!(
                        "backtest.start = \"{t}\" is after the last row ({})",
                        cells.last().map(String::as_str).unwrap_or("")
                    ))
                })?
            }
        })
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_panel;
