//! Resuming a training run (`lstmkit train --resume DIR`).
//!
//! The native file that `lstmkit train` writes holds, besides the model to
//! predict with, everything a run needs to go on as if it had never stopped:
//! the optimiser's moments and step count and the model's random stream (in
//! the model part), the experiment and the folder its data paths are relative
//! to, the history, each callback's counters and best values
//! (`EarlyStopping`'s best weights included) and — when `EarlyStopping` put
//! the best epoch's weights back — the weights of the last epoch, which is
//! where training continues from. So 10 epochs, a resume to 20, give the same
//! bits as 20 epochs straight.
//!
//! A run that `EarlyStopping` ended early goes on too (`lstmkit train
//! --resume DIR --epochs N`, the README's own line): from the last epoch's
//! weights, with the callback's patience counter reset as a new Keras
//! `fit()` call resets it, and its best value and best weights kept, so the
//! run ends with the best weights of all its epochs
//! ([`ResumePoint::rearm_early_stopping`]). That continuation is not the
//! bits of a longer straight run (which would have stopped where the first
//! one did).
//!
//! In `train.json`:
//!
//! ```text
//! { "experiment": {...}, "base_dir": "/abs/folder", "epochs_run": 10, "best_epoch": 7,
//!   "train_seconds": 1.2,
//!   "resume": { "last_weights": 4,                       // tensors resume/last_weights/0..3, or null
//!               "callbacks": { "early_stopping": { "values": {...}, "tensors": 4 },
//!                              "reduce_lr_on_plateau": { "values": {...}, "tensors": 0 } } } }
//! ```
//! and the tensors named there in `extra.safetensors`.
//!
//! ```no_run
//! use std::path::Path;
//! let run = lstmkit::resume::SavedRun::load(Path::new("lstmkit-out/model.lstmkit"))?;
//! println!("{} epochs done", run.point.history.len());
//! # Ok::<(), lstmkit::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Experiment, Outcome};
use crate::data::Pipeline;
use crate::error::{Error, Result};
use crate::io::native::{self, Extras};
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::{CallbackState, History};

/// Where a resumed run starts.
pub struct ResumePoint {
    /// The model as it was at the end of the last epoch: weights, optimiser
    /// state (moments, step count, learning rate), random stream.
    pub model: Model,
    /// The epochs done so far.
    pub history: History,
    /// The callbacks' state, by `[callbacks.*]` name.
    pub callbacks: BTreeMap<String, CallbackState>,
    /// Seconds already spent training.
    pub train_seconds: f64,
}

impl ResumePoint {
    /// For a run that `EarlyStopping` ended before its planned epochs: makes
    /// the callback watch afresh, as a new `fit()` call in Keras does (its
    /// patience counter back to 0), while keeping the best value and the
    /// best epoch's weights seen so far, so that `restore_best_weights`
    /// restores the best of the whole run, not of the continuation alone.
    /// Returns the epoch (1-based) it had stopped at, or `None` when
    /// `EarlyStopping` had not stopped the run.
    pub fn rearm_early_stopping(&mut self) -> Option<usize> {
        let st = self.callbacks.get_mut("early_stopping")?;
        let map = st.values.as_object_mut()?;
        let stopped = map.get("stopped_epoch").and_then(Value::as_u64)?;
        if stopped == 0 {
            return None;
        }
        map.insert("wait".into(), json!(0));
        map.insert("stopped_epoch".into(), json!(0));
        Some(stopped as usize + 1)
    }
}

/// A training run read back from its native file.
pub struct SavedRun {
    /// The experiment as it ran (command-line overrides applied).
    pub experiment: Experiment,
    /// The folder the experiment's relative data paths are resolved from.
    pub base_dir: PathBuf,
    /// The fitted data pipeline stored with the model.
    pub pipeline: Pipeline,
    /// Where training continues.
    pub point: ResumePoint,
}

/// The extras `lstmkit train` stores with the model: the data spec and fitted
/// pipeline, the history, the experiment, and the state a resume needs.
pub fn extras_for(exp: &Experiment, o: &Outcome, base_dir: &Path) -> Extras {
    let mut tensors = BTreeMap::new();
    let last = o.last_weights.as_ref().map(|w| {
        for (i, t) in w.iter().enumerate() {
            tensors.insert(format!("resume/last_weights/{i}"), t.clone());
        }
        w.len()
    });
    let mut cbs = serde_json::Map::new();
    for (name, st) in &o.callback_states {
        for (i, t) in st.tensors.iter().enumerate() {
            tensors.insert(format!("resume/callbacks/{name}/{i}"), t.clone());
        }
        cbs.insert(
            name.clone(),
            json!({"values": st.values, "tensors": st.tensors.len()}),
        );
    }
    let base = std::path::absolute(base_dir).unwrap_or_else(|_| base_dir.to_path_buf());
    Extras {
        data: Some(Extras::data_blob(Some(&exp.data), &o.prepared.pipeline)),
        history: serde_json::to_value(&o.history).ok(),
        train: Some(json!({
            "experiment": serde_json::to_value(exp).ok(),
            "base_dir": base,
            "epochs_run": o.epochs_run,
            "best_epoch": o.best_epoch,
            "train_seconds": o.train_seconds,
            "resume": {"last_weights": last, "callbacks": cbs},
        })),
        tensors,
    }
}

impl SavedRun {
    /// Reads a native file written by `lstmkit train`. Errors name the file
    /// and say what is missing (e.g. a model saved by the library, without a
    /// training run to continue).
    pub fn load(path: &Path) -> Result<SavedRun> {
        let (model, extras) = native::load(path)?;
        Self::from_parts(model, extras, path)
    }

    /// [`SavedRun::load`] on an already loaded model and its extras.
    pub fn from_parts(mut model: Model, extras: Extras, path: &Path) -> Result<SavedRun> {
        let bad = |m: String| Error::format(path, m);
        let train = extras.train.as_ref().ok_or_else(|| {
            bad("the file holds no training run to resume (no train.json): it was not written by `lstmkit train`".into())
        })?;
        let field = |k: &str| train.get(k).cloned().unwrap_or(Value::Null);
        let experiment: Experiment = serde_json::from_value(field("experiment"))
            .map_err(|e| bad(format!("train.json 'experiment': {e}")))?;
        let resume = train.get("resume").ok_or_else(|| {
            bad(
                "train.json has no 'resume' section (written by an lstmkit that could not resume)"
                    .into(),
            )
        })?;
        let base_dir: PathBuf = serde_json::from_value(field("base_dir"))
            .map_err(|e| bad(format!("train.json 'base_dir': {e}")))?;
        let train_seconds = field("train_seconds").as_f64().unwrap_or(0.0);
        let history: History = match &extras.history {
            Some(h) => {
                serde_json::from_value(h.clone()).map_err(|e| bad(format!("history.json: {e}")))?
            }
            None => return Err(bad("the file holds no history.json".into())),
        };
        let pipeline = extras
            .pipeline()?
            .ok_or_else(|| bad("the file holds no data pipeline (data.json)".into()))?;
        if model.optimizer().is_none() || model.loss().is_none() {
            return Err(bad(
                "the model was saved without its optimiser state or loss".into(),
            ));
        }
        let tensor = |k: String| -> Result<Tensor> {
            extras
                .tensors
                .get(&k)
                .cloned()
                .ok_or_else(|| bad(format!("extra.safetensors lacks '{k}'")))
        };
        let count = |v: Option<&Value>, what: &str| -> Result<Option<usize>> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(n) => n
                    .as_u64()
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| bad(format!("train.json '{what}' is not a count"))),
            }
        };
        if let Some(n) = count(resume.get("last_weights"), "resume.last_weights")? {
            let w = (0..n)
                .map(|i| tensor(format!("resume/last_weights/{i}")))
                .collect::<Result<Vec<_>>>()?;
            model.set_weights(&w).map_err(|e| {
                bad(format!(
                    "the last epoch's weights do not fit the model: {}",
                    e.detail()
                ))
            })?;
        }
        let mut callbacks = BTreeMap::new();
        if let Some(cbs) = resume.get("callbacks").and_then(Value::as_object) {
            for (name, c) in cbs {
                let n = count(c.get("tensors"), "resume.callbacks.*.tensors")?.unwrap_or(0);
                let tensors = (0..n)
                    .map(|i| tensor(format!("resume/callbacks/{name}/{i}")))
                    .collect::<Result<Vec<_>>>()?;
                callbacks.insert(
                    name.clone(),
                    CallbackState {
                        values: c.get("values").cloned().unwrap_or(Value::Null),
                        tensors,
                    },
                );
            }
        }
        Ok(SavedRun {
            experiment,
            base_dir,
            pipeline,
            point: ResumePoint {
                model,
                history,
                callbacks,
                train_seconds,
            },
        })
    }
}
