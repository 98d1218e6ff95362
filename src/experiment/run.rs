//! The run loop of `lstmkit train`: prepare the data, build (or resume) the
//! model, fit it by the experiment's [`FitPlan`], score it on the test
//! windows next to the baselines.

use std::path::Path;

use super::outcome::Outcome;
use super::plan::{FitData, FitPlan};
use super::resume::ResumePoint;
use super::Experiment;
use crate::data::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::model::Model;
use crate::train::History;

impl Experiment {
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
        let (mut model, earlier, states, seconds_before) = match resume {
            Some(r) => (r.model, r.history, Some(r.callbacks), r.train_seconds),
            None => (
                self.build_model(&prepared.pipeline)?,
                History::default(),
                None,
                0.0,
            ),
        };
        before_fit(&model);
        let plan = self.train_plan(&earlier)?;
        let fitted = plan.fit(
            &mut model,
            FitData::from(&prepared),
            out_dir,
            states,
            &mut [],
        )?;
        let train_seconds = seconds_before + fitted.seconds;
        let mut history = earlier;
        history.extend(&fitted.history);
        let key = if prepared.val.is_empty() {
            "loss"
        } else {
            "val_loss"
        };
        let best_epoch = fitted.restored_best_epoch.unwrap_or_else(|| {
            history
                .best_epoch(key)
                .map(|e| e + 1)
                .unwrap_or(history.len())
        });
        let test_pred = model.predict(&prepared.test.x)?;
        let mut evaluation = evaluate(&prepared, &test_pred)?;
        let calibration = crate::intervals::validation::for_run(
            self.intervals.as_ref(),
            &mut model,
            &prepared,
            &test_pred,
            &mut evaluation,
        )?;
        Ok(Outcome {
            model,
            epochs_run: history.len(),
            history,
            prepared,
            test_pred,
            evaluation,
            best_epoch,
            train_seconds,
            last_weights: fitted.last_weights,
            callback_states: fitted.callback_states,
            calibration,
        })
    }

    /// The plan `lstmkit train` fits by: the experiment's, from the epoch
    /// after those `done` (none for a fresh run).
    pub fn train_plan(&self, done: &History) -> Result<FitPlan> {
        Ok(self.fit_plan()?.initial_epoch(done.next_epoch()))
    }
}
