//! The objective of `lstmkit tune`: an experiment file whose values may be
//! search spaces. For a trial: substitute the sampled values, build the
//! experiment, train it (on the validation windows of `[data]`), and return
//! the best value over epochs of every logged metric (Keras Tuner's score:
//! the best epoch's `val_loss`). Each epoch's objective value is reported,
//! so pruners can stop a trial; Hyperband trials train for `tuner/epochs`
//! epochs and continue from their parent trial's saved model when it is on
//! this machine (else they train from scratch for all their epochs).
//! Every trial's model is saved as `OUT/trial-NNNN/model.lstmkit` (the
//! native model file, with the data pipeline, as `lstmkit forecast` reads it).

use super::study::{Metrics, TrialContext};
use super::toml_space::{self, TomlSpace};
use super::trial::Direction;
use crate::data::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::experiment::{Experiment, FitData, FitPlan};
use crate::io::native::{self, Extras};
use crate::train::{Callback, Control, Logs};
use crate::Tensor;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs trials of one experiment file.
pub struct ExperimentObjective {
    doc: toml::Value,
    space: TomlSpace,
    source: String,
    base_dir: PathBuf,
    out_dir: PathBuf,
    objective: String,
    direction: Direction,
    data_cache: Vec<(String, Prepared)>,
}

/// Reports each epoch's objective to the trial and stops training when the
/// trial is pruned or taken away; records every logged value.
struct Reporter<'a, 'b> {
    ctx: &'a mut TrialContext<'b>,
    key: String,
    logs: Vec<Logs>,
    error: Option<Error>,
}

impl Callback for Reporter<'_, '_> {
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.logs.push(logs.clone());
        if let Some(v) = logs.get(&self.key) {
            match self.ctx.report(epoch as i64, *v) {
                Ok(true) => ctl.stop_training = true,
                Ok(false) => {}
                Err(e) => {
                    self.error = Some(e);
                    ctl.stop_training = true;
                }
            }
        }
        Ok(())
    }
}

/// The file a trial's model is saved to.
pub fn trial_model_path(out_dir: &Path, number: i64) -> PathBuf {
    out_dir
        .join(format!("trial-{number:04}"))
        .join("model.lstmkit")
}

impl ExperimentObjective {
    /// Parses the experiment (`text`, read from `source`); relative data
    /// paths are resolved from `base_dir`; trial files go to `out_dir`.
    pub fn new(
        text: &str,
        source: &str,
        base_dir: &Path,
        out_dir: &Path,
        objective: &str,
        direction: Direction,
    ) -> Result<Self> {
        let doc: toml::Value =
            toml::from_str(text).map_err(|e| Error::Config(format!("{source}: {e}")))?;
        let space = toml_space::find(&doc).map_err(|e| Error::Config(format!("{source}: {e}")))?;
        let o = ExperimentObjective {
            doc,
            space,
            source: source.to_string(),
            base_dir: base_dir.to_path_buf(),
            out_dir: out_dir.to_path_buf(),
            objective: objective.to_string(),
            direction,
            data_cache: Vec::new(),
        };
        // The experiment must be valid at the defaults before any trial runs.
        o.experiment(&o.space.space.defaults(), "defaults")?;
        Ok(o)
    }

    /// The search space found in the file.
    pub fn space(&self) -> &TomlSpace {
        &self.space
    }

    /// The experiment with `values` substituted.
    pub fn experiment(&self, values: &super::Values, what: &str) -> Result<Experiment> {
        let doc = toml_space::substitute(&self.doc, &self.space, values)?;
        let text = toml::to_string(&doc).map_err(|e| {
            Error::Other(format!(
                "{}: cannot write the trial's experiment: {e}",
                self.source
            ))
        })?;
        Experiment::from_toml_str(&text, &format!("{} ({what})", self.source))
    }

    fn data(&mut self, exp: &Experiment) -> Result<Prepared> {
        let key = serde_json::to_string(&exp.data)
            .map_err(|e| Error::Other(format!("cannot serialise [data]: {e}")))?;
        if let Some((_, p)) = self.data_cache.iter().find(|(k, _)| *k == key) {
            return Ok(p.clone());
        }
        let p = prepare(&exp.data, &self.base_dir)?;
        if self.data_cache.len() >= 4 {
            self.data_cache.remove(0);
        }
        self.data_cache.push((key, p.clone()));
        Ok(p)
    }

    /// The experiment and fit plan of execution `execution` (0-based) of
    /// trial `number` with `values`: the file's own plan, silent, with the
    /// seed moved on by the execution number. Hyperband's `tuner/epochs`
    /// and a parent's epochs are set on it by [`ExperimentObjective::run`].
    pub fn trial_plan(
        &self,
        values: &super::Values,
        number: i64,
        execution: usize,
    ) -> Result<(Experiment, FitPlan)> {
        let mut exp = self.experiment(values, &format!("trial #{number}"))?;
        exp.fit.verbose = 0;
        exp.fit.seed = exp.fit.seed.wrapping_add(execution as u64);
        let plan = exp.fit_plan()?;
        Ok((exp, plan))
    }

    /// Runs one execution of a trial.
    pub fn run(&mut self, ctx: &mut TrialContext) -> Result<Metrics> {
        let values = ctx.values();
        let (exp, mut plan) = self.trial_plan(&values, ctx.number, ctx.execution)?;
        let prepared = self.data(&exp)?;
        if prepared.val.is_empty() && self.objective.starts_with("val_") {
            return Err(Error::Config(format!(
                "{}: objective '{}' needs validation windows: set data.validation_split > 0",
                self.source, self.objective
            )));
        }
        let mut model = exp.build_model(&prepared.pipeline)?;
        if let Some(epochs) = ctx.epochs() {
            plan = plan.epochs(epochs);
            if let Some(parent) = ctx.parent() {
                let p = trial_model_path(&self.out_dir, parent);
                if p.exists() {
                    let (parent_model, _) = native::load(&p)?;
                    let w: Vec<Tensor> = parent_model.get_weights();
                    model.set_weights(&w)?;
                    plan = plan.initial_epoch(ctx.initial_epoch().min(epochs));
                }
            }
        }
        let trial_dir = self.out_dir.join(format!("trial-{:04}", ctx.number));
        std::fs::create_dir_all(&trial_dir).map_err(|e| Error::io(&trial_dir, e))?;
        let mut rep = Reporter {
            ctx,
            key: self.objective.clone(),
            logs: Vec::new(),
            error: None,
        };
        plan.fit(
            &mut model,
            FitData::from(&prepared),
            &trial_dir,
            None,
            &mut [&mut rep],
        )?;
        if let Some(e) = rep.error.take() {
            return Err(e);
        }
        let extras = Extras {
            data: Some(Extras::data_blob(Some(&exp.data), &prepared.pipeline)),
            history: None,
            train: Some(serde_json::json!({
                "tune": {"trial": rep.ctx.number, "values": rep.ctx.values()},
                "base_dir": std::path::absolute(&self.base_dir).unwrap_or_else(|_| self.base_dir.clone()),
            })),
            ..Default::default()
        };
        native::save(
            &model,
            trial_model_path(&self.out_dir, rep.ctx.number),
            &extras,
        )?;
        // Best value over epochs of every logged metric.
        let mut best: BTreeMap<String, f64> = BTreeMap::new();
        for logs in &rep.logs {
            for (k, v) in logs {
                if k == "learning_rate" || k == "lr" || !v.is_finite() {
                    continue;
                }
                let dir = if *k == self.objective {
                    self.direction
                } else {
                    Direction::for_metric(k)
                };
                let e = best.entry(k.clone()).or_insert(*v);
                if dir.better(*v, *e) {
                    *e = *v;
                }
            }
        }
        Ok(best)
    }
}
