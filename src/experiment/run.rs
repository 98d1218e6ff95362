//! The run loop of `lstmkit train`: prepare the data, build (or resume) the
//! model, fit it with the experiment's callbacks, score it on the test
//! windows next to the baselines.

use std::collections::BTreeMap;
use std::path::Path;

use super::outcome::Outcome;
use super::resume::ResumePoint;
use super::spec::ReduceLrSpec;
use super::Experiment;
use crate::data::{prepare, Pipeline, Prepared};
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::{
    Callback, CsvLogger, EarlyStopping, FitOptions, History, ModelCheckpoint, ReduceLROnPlateau,
    TerminateOnNaN,
};

impl Experiment {
    pub(super) fn reduce_lr(&self, r: &ReduceLrSpec) -> ReduceLROnPlateau {
        ReduceLROnPlateau::new()
            .monitor(&r.monitor)
            .factor(r.factor)
            .patience(r.patience)
            .mode(r.mode)
            .min_delta(r.min_delta)
            .cooldown(r.cooldown)
            .min_lr(r.min_lr)
    }

    /// The callbacks of `[callbacks.*]` except `early_stopping`; files go to `out_dir`.
    pub fn callbacks(&self, out_dir: &Path, pipeline: &Pipeline) -> Vec<Box<dyn Callback>> {
        self.named_callbacks(out_dir, pipeline, false)
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    /// [`Experiment::callbacks`] with their `[callbacks.*]` names; `resuming`
    /// makes the CSV logger append to the earlier run's file.
    pub fn named_callbacks(
        &self,
        out_dir: &Path,
        pipeline: &Pipeline,
        resuming: bool,
    ) -> Vec<(&'static str, Box<dyn Callback>)> {
        let c = &self.callbacks;
        let mut v: Vec<(&'static str, Box<dyn Callback>)> = Vec::new();
        if let Some(t) = &c.terminate_on_nan {
            v.push((
                "terminate_on_nan",
                Box::new(TerminateOnNaN::new().raise_error(t.raise_error)),
            ));
        }
        if let Some(r) = &c.reduce_lr_on_plateau {
            v.push(("reduce_lr_on_plateau", Box::new(self.reduce_lr(r))));
        }
        if let Some(k) = &c.model_checkpoint {
            let extras = self.extras(pipeline, None);
            let pattern = out_dir.join(&k.filepath).to_string_lossy().to_string();
            v.push((
                "model_checkpoint",
                Box::new(
                    ModelCheckpoint::new(
                        &pattern,
                        Box::new(move |m: &Model, p: &Path| crate::io::native::save(m, p, &extras)),
                    )
                    .monitor(&k.monitor)
                    .save_best_only(k.save_best_only)
                    .mode(k.mode),
                ),
            ));
        }
        if let Some(l) = &c.csv_logger {
            v.push((
                "csv_logger",
                Box::new(
                    CsvLogger::new(out_dir.join(&l.filename))
                        .separator(l.separator)
                        .append(l.append || resuming),
                ),
            ));
        }
        v
    }

    /// The `[callbacks.early_stopping]` callback, if configured (kept apart from
    /// [`Experiment::callbacks`] so that callers can read its best epoch).
    pub fn early_stopping(&self) -> Option<EarlyStopping> {
        self.callbacks.early_stopping.as_ref().map(|e| {
            EarlyStopping::new()
                .monitor(&e.monitor)
                .min_delta(e.min_delta)
                .patience(e.patience)
                .mode(e.mode)
                .baseline(e.baseline)
                .restore_best_weights(e.restore_best_weights)
                .start_from_epoch(e.start_from_epoch)
        })
    }

    /// Prepares the data (relative paths from `base_dir`), builds, trains and
    /// scores the model. Callback files go to `out_dir`.
    pub fn run(&self, base_dir: &Path, out_dir: &Path) -> Result<Outcome> {
        let prepared = prepare(&self.data, base_dir)?;
        self.run_prepared(prepared, out_dir, |_| {})
    }

    /// [`Experiment::run`] on already prepared data; `before_fit` sees the
    /// built model (e.g. to print its summary).
    pub fn run_prepared(
        &self,
        prepared: Prepared,
        out_dir: &Path,
        before_fit: impl FnOnce(&Model),
    ) -> Result<Outcome> {
        self.run_from(prepared, out_dir, None, before_fit)
    }

    /// [`Experiment::run_prepared`], continuing from `resume` when given: its
    /// model (weights of the last epoch, optimiser state, random stream) trains
    /// on from epoch `resume.history.len()` to `fit.epochs`, the callbacks pick
    /// up their saved state, and the histories are joined — so a run cut in two
    /// ends with the same bits as one run straight through.
    pub fn run_from(
        &self,
        prepared: Prepared,
        out_dir: &Path,
        resume: Option<ResumePoint>,
        before_fit: impl FnOnce(&Model),
    ) -> Result<Outcome> {
        if prepared.test.is_empty() {
            return Err(Error::Config(
                "data.test_split = 0 leaves no test windows to score the model on".into(),
            ));
        }
        let resuming = resume.is_some();
        let (mut model, earlier, mut states, seconds_before) = match resume {
            Some(r) => (r.model, r.history, r.callbacks, r.train_seconds),
            None => (
                self.build_model(&prepared.pipeline)?,
                History::default(),
                BTreeMap::new(),
                0.0,
            ),
        };
        before_fit(&model);
        let mut opts = FitOptions::new()
            .epochs(self.fit.epochs)
            .batch_size(self.fit.batch_size)
            .shuffle(self.fit.shuffle)
            .reshuffle_each_epoch(self.fit.reshuffle_each_epoch)
            .seed(self.fit.seed)
            .initial_epoch(earlier.next_epoch())
            .verbose(self.fit.verbose);
        if !prepared.val.is_empty() {
            opts = opts.validation_data(prepared.val.x.clone(), prepared.val.y.clone());
        }
        let mut cbs = self.named_callbacks(out_dir, &prepared.pipeline, resuming);
        let mut es = self.early_stopping();
        for (name, cb) in cbs.iter_mut() {
            if let Some(st) = states.remove(*name) {
                cb.set_resume_state(st)?;
            }
        }
        if let Some(e) = es.as_mut() {
            if let Some(st) = states.remove("early_stopping") {
                e.set_resume_state(st)?;
            }
        }
        let mut last = LastWeights(None);
        let t0 = std::time::Instant::now();
        let new_history = {
            let mut refs: Vec<&mut dyn Callback> = Vec::new();
            for (_, b) in cbs.iter_mut() {
                refs.push(b.as_mut());
            }
            refs.push(&mut last);
            if let Some(e) = es.as_mut() {
                refs.push(e);
            }
            model.fit_with_callbacks(&prepared.train.x, &prepared.train.y, &opts, &mut refs)?
        };
        let train_seconds = seconds_before + t0.elapsed().as_secs_f64();
        let mut history = earlier;
        history.extend(&new_history);
        let mut callback_states = BTreeMap::new();
        for (name, cb) in cbs.iter() {
            if let Some(st) = cb.resume_state() {
                callback_states.insert(name.to_string(), st);
            }
        }
        if let Some(st) = es.as_ref().and_then(|e| e.resume_state()) {
            callback_states.insert("early_stopping".to_string(), st);
        }
        let key = if prepared.val.is_empty() {
            "loss"
        } else {
            "val_loss"
        };
        let best_epoch = match &es {
            Some(e) if e.restore_best_weights && e.best().is_some() => e.best_epoch() + 1,
            _ => history
                .best_epoch(key)
                .map(|e| e + 1)
                .unwrap_or(history.len()),
        };
        let test_pred = model.predict(&prepared.test.x)?;
        let evaluation = evaluate(&prepared, &test_pred)?;
        // the weights training continues from, when they are not the model's own
        let last_weights = last.0.filter(|w| *w != model.get_weights());
        Ok(Outcome {
            model,
            epochs_run: history.len(),
            history,
            prepared,
            test_pred,
            evaluation,
            best_epoch,
            train_seconds,
            last_weights,
            callback_states,
        })
    }
}

/// Records the weights at the end of training, before `EarlyStopping` puts the
/// best epoch's back: a resumed run continues from these.
struct LastWeights(Option<Vec<Tensor>>);

impl Callback for LastWeights {
    fn on_train_end(
        &mut self,
        _logs: &crate::train::Logs,
        ctl: &mut crate::train::Control,
    ) -> Result<()> {
        self.0 = Some(ctl.model.get_weights());
        Ok(())
    }
}
