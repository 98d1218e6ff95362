//! The fit plan: everything an experiment says about *how* a model is
//! trained — the optimiser and loss of `[compile]`, `fit`'s arguments from
//! `[fit]` and the callbacks of `[callbacks.*]` — as one value.
//!
//! `lstmkit train` (fresh and `--resume`d runs, through
//! [`Experiment::run_from`]) and `lstmkit tune` trials
//! ([`crate::tune::objective::ExperimentObjective`]) both train through a
//! [`FitPlan`], so they cannot configure a fit differently. A plan is made
//! from the experiment alone ([`FitPlan::new`]) and applied to any compiled
//! model and data ([`FitPlan::fit`]), as often as wanted: each fit builds its
//! callbacks afresh.
//!
//! ```no_run
//! use std::path::Path;
//! use lstmkit::experiment::{Experiment, FitData, FitPlan};
//! let exp = Experiment::load(Path::new("examples/m1_co2.toml"))?;
//! let plan = FitPlan::new(&exp)?;
//! let prepared = lstmkit::data::prepare(&exp.data, Path::new("examples"))?;
//! let mut model = exp.build_model(&prepared.pipeline)?; // compiled by the plan
//! let fitted = plan.fit(&mut model, FitData::from(&prepared), Path::new("out"), None, &mut [])?;
//! println!("{} epochs", fitted.history.len());
//! # Ok::<(), lstmkit::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use super::spec::{CallbacksSpec, EarlyStoppingSpec, ReduceLrSpec};
use super::Experiment;
use crate::data::{Pipeline, Prepared};
use crate::error::Result;
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::{
    Callback, CallbackState, CsvLogger, EarlyStopping, FitOptions, History, Loss, ModelCheckpoint,
    Optimizer, ReduceLROnPlateau, TerminateOnNaN,
};

/// How an experiment fits a model (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
pub struct FitPlan {
    /// The optimiser a fresh model is compiled with (`[compile]`: rule,
    /// learning rate, momentum, clipping).
    pub optimizer: Optimizer,
    /// The loss (`compile.loss`).
    pub loss: Loss,
    /// `fit`'s arguments: `[fit]`'s epochs, batch_size, shuffle,
    /// reshuffle_each_epoch, seed and verbose, and `initial_epoch`. The
    /// validation data come from the data the plan is applied to.
    pub options: FitOptions,
    /// The callbacks (`[callbacks.*]`), built afresh for each fit.
    pub callbacks: CallbacksSpec,
    /// The experiment the plan was made from: what checkpoint files record.
    experiment: Experiment,
}

/// The data a plan fits on.
#[derive(Clone, Copy)]
pub struct FitData<'a> {
    /// Training inputs.
    pub x: &'a Tensor,
    /// Training targets.
    pub y: &'a Tensor,
    /// Validation inputs and targets (none: no `val_*` logs).
    pub val: Option<(&'a Tensor, &'a Tensor)>,
    /// The fitted data pipeline checkpoints store with the model.
    pub pipeline: &'a Pipeline,
}

impl<'a> From<&'a Prepared> for FitData<'a> {
    /// The training windows, and the validation windows when there are any.
    fn from(p: &'a Prepared) -> Self {
        FitData {
            x: &p.train.x,
            y: &p.train.y,
            val: (!p.val.is_empty()).then_some((&p.val.x, &p.val.y)),
            pipeline: &p.pipeline,
        }
    }
}

/// What [`FitPlan::fit`] returns besides the trained model.
pub struct Fitted {
    /// The epochs this fit ran.
    pub history: History,
    /// Seconds spent in the training loop.
    pub seconds: f64,
    /// The callbacks' state at the end (by `[callbacks.*]` name), for a resume.
    pub callback_states: BTreeMap<String, CallbackState>,
    /// The weights at the end of the last epoch when the model holds others
    /// (EarlyStopping put the best epoch's back): where a resume continues from.
    pub last_weights: Option<Vec<Tensor>>,
    /// The epoch (1-based) whose weights EarlyStopping restored, if it did.
    pub restored_best_epoch: Option<usize>,
}

impl Experiment {
    /// This experiment's [`FitPlan`].
    pub fn fit_plan(&self) -> Result<FitPlan> {
        FitPlan::new(self)
    }
}

impl FitPlan {
    /// The plan of `exp` (optimiser and loss checked), from epoch 0.
    pub fn new(exp: &Experiment) -> Result<FitPlan> {
        let f = &exp.fit;
        Ok(FitPlan {
            optimizer: exp.compile.optimizer()?,
            loss: exp.compile.loss()?,
            options: FitOptions::new()
                .epochs(f.epochs)
                .batch_size(f.batch_size)
                .shuffle(f.shuffle)
                .reshuffle_each_epoch(f.reshuffle_each_epoch)
                .seed(f.seed)
                .verbose(f.verbose),
            callbacks: exp.callbacks.clone(),
            experiment: exp.clone(),
        })
    }

    /// Trains up to epoch `epochs` (the total, as Keras' `epochs`).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.options.epochs = epochs;
        self
    }

    /// Starts at epoch `initial_epoch` (0-based: the epochs already done).
    pub fn initial_epoch(mut self, initial_epoch: usize) -> Self {
        self.options.initial_epoch = initial_epoch;
        self
    }

    /// Compiles a fresh `model` with the plan's optimiser and loss (a resumed
    /// model keeps its own, with their state).
    pub fn compile(&self, model: &mut Model) {
        model.compile(self.optimizer.clone(), self.loss);
    }

    /// The `[callbacks.early_stopping]` callback, if configured.
    pub fn early_stopping(&self) -> Option<EarlyStopping> {
        self.callbacks
            .early_stopping
            .as_ref()
            .map(EarlyStoppingSpec::build)
    }

    /// The other callbacks with their `[callbacks.*]` names, in the order
    /// they run; files go to `out_dir`, checkpoints store `pipeline`;
    /// `resuming` makes the CSV logger append to the earlier run's file.
    pub fn callbacks(
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
            v.push(("reduce_lr_on_plateau", Box::new(r.build())));
        }
        if let Some(k) = &c.model_checkpoint {
            let extras = self.experiment.extras(pipeline, None);
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

    /// Fits the compiled `model` on `data`: callback files go to `out_dir`;
    /// `resume` holds the callbacks' saved state when a run continues (its
    /// CSV log is then appended to); `extra` callbacks run after the plan's
    /// own (the plan's: `[callbacks.*]` but early_stopping, then
    /// early_stopping).
    pub fn fit(
        &self,
        model: &mut Model,
        data: FitData,
        out_dir: &Path,
        resume: Option<BTreeMap<String, CallbackState>>,
        extra: &mut [&mut dyn Callback],
    ) -> Result<Fitted> {
        let resuming = resume.is_some();
        let mut states = resume.unwrap_or_default();
        let mut opts = self.options.clone();
        if let Some((x, y)) = data.val {
            opts = opts.validation_data(x.clone(), y.clone());
        }
        let mut cbs = self.callbacks(out_dir, data.pipeline, resuming);
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
        let history = {
            let mut refs: Vec<&mut dyn Callback> = Vec::new();
            for (_, b) in cbs.iter_mut() {
                refs.push(b.as_mut());
            }
            refs.push(&mut last);
            if let Some(e) = es.as_mut() {
                refs.push(e);
            }
            for cb in extra.iter_mut() {
                refs.push(&mut **cb);
            }
            model.fit_with_callbacks(data.x, data.y, &opts, &mut refs)?
        };
        let seconds = t0.elapsed().as_secs_f64();
        let mut callback_states = BTreeMap::new();
        for (name, cb) in cbs.iter() {
            if let Some(st) = cb.resume_state() {
                callback_states.insert(name.to_string(), st);
            }
        }
        if let Some(st) = es.as_ref().and_then(|e| e.resume_state()) {
            callback_states.insert("early_stopping".to_string(), st);
        }
        let restored_best_epoch = match &es {
            Some(e) if e.restore_best_weights && e.best().is_some() => Some(e.best_epoch() + 1),
            _ => None,
        };
        // the weights training continues from, when they are not the model's own
        let last_weights = last.0.filter(|w| *w != model.get_weights());
        Ok(Fitted {
            history,
            seconds,
            callback_states,
            last_weights,
            restored_best_epoch,
        })
    }
}

impl EarlyStoppingSpec {
    /// The callback with these settings.
    pub fn build(&self) -> EarlyStopping {
        EarlyStopping::new()
            .monitor(&self.monitor)
            .min_delta(self.min_delta)
            .patience(self.patience)
            .mode(self.mode)
            .baseline(self.baseline)
            .restore_best_weights(self.restore_best_weights)
            .start_from_epoch(self.start_from_epoch)
    }
}

impl ReduceLrSpec {
    /// The callback with these settings.
    pub fn build(&self) -> ReduceLROnPlateau {
        ReduceLROnPlateau::new()
            .monitor(&self.monitor)
            .factor(self.factor)
            .patience(self.patience)
            .mode(self.mode)
            .min_delta(self.min_delta)
            .cooldown(self.cooldown)
            .min_lr(self.min_lr)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Overrides;
    use crate::train::optimizer::Kind;
    use crate::tune::objective::ExperimentObjective;
    use crate::tune::Direction;

    /// Every `[compile]`, `[fit]` and `[callbacks.*]` value away from its default.
    const TEXT: &str = r#"
layers = [{ type = "lstm", units = 3 }, { type = "dense", units = 1 }]
[data]
path = "x.csv"
target = "y"
timesteps = 4
validation_split = 0.2
[compile]
optimizer = "rmsprop"
learning_rate = 0.005
momentum = 0.5
clipnorm = 2.0
loss = "mae"
[fit]
epochs = 7
batch_size = 16
shuffle = true
reshuffle_each_epoch = false
seed = 9
verbose = 2
[callbacks.early_stopping]
patience = 3
min_delta = 0.01
restore_best_weights = true
start_from_epoch = 1
[callbacks.reduce_lr_on_plateau]
factor = 0.5
patience = 2
cooldown = 1
min_lr = 1e-5
[callbacks.terminate_on_nan]
[callbacks.csv_logger]
filename = "log.csv"
"#;

    fn tmp(name: &str) -> std::path::PathBuf {
        crate::test_tmp_root().join(format!("lstmkit-plan-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_tune_trial_and_a_train_run_of_one_experiment_get_the_same_plan() {
        // `lstmkit train --quiet` (trials are silent)
        let mut train = Experiment::from_toml_str(TEXT, "exp.toml").unwrap();
        train
            .apply(&Overrides {
                quiet: true,
                ..Default::default()
            })
            .unwrap();
        let train_plan = train.train_plan(&History::default()).unwrap();
        // a trial of the file with a search space whose default is the value above
        let searched = TEXT.replace("units = 3", "units = { int = [2, 4], default = 3 }");
        let out = tmp("trial");
        let obj = ExperimentObjective::new(
            &searched,
            "exp.toml",
            Path::new("."),
            &out,
            "val_loss",
            Direction::Min,
        )
        .unwrap();
        let defaults = obj.space().space.defaults();
        let (trial, trial_plan) = obj.trial_plan(&defaults, 0, 0).unwrap();
        assert_eq!(trial, train);
        assert_eq!(trial_plan, train_plan);
        // ... and that plan is the file's
        let p = &train_plan;
        assert!(
            matches!(p.optimizer.kind, Kind::RmsProp { momentum, .. } if momentum == 0.5),
            "{:?}",
            p.optimizer.kind
        );
        assert_eq!(
            (p.optimizer.learning_rate, p.optimizer.clipnorm, p.loss),
            (0.005, Some(2.0), Loss::Mae)
        );
        let o = &p.options;
        assert_eq!(
            (o.epochs, o.batch_size, o.shuffle, o.reshuffle_each_epoch),
            (7, 16, true, false)
        );
        assert_eq!((o.seed, o.verbose, o.initial_epoch), (9, 0, 0));
        assert!(o.validation_data.is_none());
        let (es, trial_es) = (p.early_stopping().unwrap(), trial_plan.early_stopping());
        assert_eq!(format!("{es:?}"), format!("{:?}", trial_es.unwrap()));
        assert_eq!(
            (
                es.patience,
                es.min_delta,
                es.restore_best_weights,
                es.start_from_epoch
            ),
            (3, 0.01, true, 1)
        );
        let r = p.callbacks.reduce_lr_on_plateau.as_ref().unwrap().build();
        assert_eq!(
            (r.factor, r.patience, r.cooldown, r.min_lr, r.min_delta),
            (0.5, 2, 1, 1e-5, 1e-4)
        );
        // a second execution of the trial differs in the seed only
        let (_, second) = obj.trial_plan(&defaults, 0, 1).unwrap();
        assert_eq!(second.options.seed, 10);
        let mut reseeded = second.clone();
        reseeded.options.seed = 9;
        assert_ne!(second, train_plan);
        assert_eq!(reseeded.options, train_plan.options);
        // a resumed train run goes on after the epochs done
        let mut done = History::default();
        for e in 0..3 {
            done.push(e, 1.0, Some(1.0), 0.005, 0.1);
        }
        let resumed = train.train_plan(&done).unwrap();
        assert_eq!(resumed.options.initial_epoch, 3);
        assert_eq!(resumed.initial_epoch(0), train_plan);
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn one_plan_fits_fresh_models_alike() {
        let y: Vec<f64> = (0..60).map(|i| (i as f64 * 0.3).sin()).collect();
        let frame = crate::data::Frame::from_columns("inline", vec![("y".to_string(), y)]).unwrap();
        let text = TEXT
            .replace("x.csv", "inline")
            .replace("epochs = 7", "epochs = 3")
            .replace("verbose = 2", "verbose = 0");
        let exp = Experiment::from_toml_str(&text, "exp.toml").unwrap();
        let prepared = crate::data::prepare_frame(&exp.data, frame).unwrap();
        let plan = FitPlan::new(&exp).unwrap();
        let out = tmp("fit");
        std::fs::create_dir_all(&out).unwrap();
        let names: Vec<&str> = plan
            .callbacks(&out, &prepared.pipeline, false)
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            names,
            ["terminate_on_nan", "reduce_lr_on_plateau", "csv_logger"]
        );
        let mut fits = Vec::new();
        for _ in 0..2 {
            let mut model = exp.build_model(&prepared.pipeline).unwrap();
            assert_eq!(model.optimizer(), Some(&plan.optimizer));
            let f = plan
                .fit(&mut model, FitData::from(&prepared), &out, None, &mut [])
                .unwrap();
            assert_eq!(f.history.len(), 3);
            assert!(f.history.val_loss.iter().all(|v| v.is_some()));
            assert!(f.callback_states.contains_key("early_stopping"));
            fits.push((f.history.loss.clone(), model.get_weights()));
        }
        assert_eq!(fits[0], fits[1]);
        let log = std::fs::read_to_string(out.join("log.csv")).unwrap();
        assert_eq!(log.lines().count(), 4, "{log}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}
