//! Experiment files: one TOML file describing the data, the model, how to
//! compile and fit it and which callbacks to use; [`Experiment::run`] trains
//! and scores it next to the baselines.
//!
//! ```toml
//! [data]                      # lstmkit::data::DataSpec
//! path = "co2_weekly.csv"     # relative to the experiment file
//! target = "co2"
//! timesteps = 10
//! validation_split = 0.2
//!
//! [[layers]]                  # a functional graph: each layer takes the previous
//! type = "lstm"               # layer by default, or `inputs = ["name", ...]`
//! units = 50                  # ("input" = the model input)
//! activation = "relu"
//! kernel_regularizer = { l2 = 0.01 }
//!
//! [[layers]]
//! type = "dense"
//! units = 1
//!
//! [compile]                   # optimizer, learning_rate, loss, clipnorm | global_clipnorm | clipvalue
//! optimizer = "adam"
//! learning_rate = 0.001
//!
//! [fit]                       # epochs, batch_size, shuffle, seed, verbose
//! epochs = 100
//!
//! [callbacks.early_stopping]  # also reduce_lr_on_plateau, model_checkpoint, csv_logger, terminate_on_nan
//! patience = 10
//! restore_best_weights = true
//! ```
//!
//! Unknown keys are errors naming the key, its line and the file; values out
//! of range are errors naming the key and the allowed range. Defaults are
//! Keras' (e.g. `epochs = 1`, `batch_size = 32`, callbacks' own defaults).
//!
//! The module is split by concern: [`spec`] (the `[compile]`, `[fit]` and
//! `[callbacks.*]` sections), [`layers`] (the `[[layers]]` entries and the
//! graph built from them), [`plan`] (the [`FitPlan`] every fit of an
//! experiment goes through), `run` ([`Experiment::run`]), [`outcome`] (what a
//! run produces and writes) and [`resume`] (continuing a saved run).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{DataSpec, Pipeline};
use crate::error::{Error, Result};
use crate::model::Model;

pub mod layers;
pub mod outcome;
pub mod plan;
pub mod resume;
mod run;
pub mod spec;
mod toml_error;

pub use layers::{build_graph, LayerSpec};
pub use outcome::{Outcome, SavedModel};
pub use plan::{FitData, FitPlan, Fitted};
pub use resume::{ResumePoint, SavedRun};
pub use spec::{
    CallbacksSpec, CheckpointSpec, CompileSpec, CsvLoggerSpec, EarlyStoppingSpec, FitSpec,
    ReduceLrSpec, TerminateOnNanSpec,
};

/// A parsed experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The data pipeline (see [`DataSpec`]).
    pub data: DataSpec,
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
    /// Optimiser, loss, clipping.
    #[serde(default)]
    pub compile: CompileSpec,
    /// Training loop settings.
    #[serde(default)]
    pub fit: FitSpec,
    /// Callbacks.
    #[serde(default)]
    pub callbacks: CallbacksSpec,
    /// `lstmkit backtest` settings (see [`crate::backtest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backtest: Option<crate::backtest::BacktestSpec>,
    /// Prediction intervals (see [`crate::intervals`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<crate::intervals::IntervalSpec>,
}

/// Command-line overrides of an experiment's values.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `fit.epochs`.
    pub epochs: Option<usize>,
    /// `fit.batch_size`.
    pub batch_size: Option<usize>,
    /// `fit.seed`.
    pub seed: Option<u64>,
    /// `compile.learning_rate`.
    pub learning_rate: Option<f32>,
    /// Silence the progress output.
    pub quiet: bool,
}

impl Experiment {
    /// Parses an experiment from TOML text; `source` names it in errors.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Experiment> {
        let e: Experiment = toml::from_str(text)
            .map_err(|e| Error::Config(toml_error::describe(text, source, &e)))?;
        if let Err((i, err)) = e.validate_layers() {
            let msg = err.detail();
            let hint = layer_key_line(text, i, &msg)
                .map(|(k, l)| format!("\n(the key `{k}` is at line {l})"))
                .unwrap_or_default();
            return Err(Error::Config(format!("{source}: {msg}{hint}")));
        }
        e.validate()
            .map_err(|e| Error::Config(format!("{source}: {}", e.detail())))?;
        Ok(e)
    }

    /// Reads an experiment file.
    pub fn load(path: &Path) -> Result<Experiment> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks every value that does not need the data.
    pub fn validate(&self) -> Result<()> {
        self.data.validate()?;
        if self.layers.is_empty() {
            return Err(Error::Config(
                "layers: at least one [[layers]] entry".into(),
            ));
        }
        self.validate_layers().map_err(|(_, e)| e)?;
        self.compile.optimizer()?;
        self.compile.loss()?;
        if let Some(b) = &self.backtest {
            b.validate()?;
        }
        if let Some(i) = &self.intervals {
            i.validate()?;
        }
        if self.fit.epochs == 0 {
            return Err(Error::Config("fit.epochs must be at least 1".into()));
        }
        if self.fit.batch_size == 0 {
            return Err(Error::Config("fit.batch_size must be at least 1".into()));
        }
        if self.fit.verbose > 2 {
            return Err(Error::Config(format!(
                "fit.verbose must be 0, 1 or 2 (got {})",
                self.fit.verbose
            )));
        }
        if let Some(es) = &self.callbacks.early_stopping {
            if !es.min_delta.is_finite() {
                return Err(Error::Config(
                    "callbacks.early_stopping.min_delta must be finite".into(),
                ));
            }
        }
        if let Some(r) = &self.callbacks.reduce_lr_on_plateau {
            r.build().validate().map_err(|e| {
                Error::Config(format!("callbacks.reduce_lr_on_plateau: {}", e.detail()))
            })?;
        }
        Ok(())
    }

    /// Builds every layer once (options checked); the error comes with the layer's index.
    fn validate_layers(&self) -> std::result::Result<(), (usize, Error)> {
        for (i, l) in self.layers.iter().enumerate() {
            let label = l
                .name()
                .map(|s| s.to_string())
                .unwrap_or(format!("layers[{i}]"));
            l.build(&label).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Applies command-line overrides (checked).
    pub fn apply(&mut self, o: &Overrides) -> Result<()> {
        if let Some(e) = o.epochs {
            self.fit.epochs = e;
        }
        if let Some(b) = o.batch_size {
            self.fit.batch_size = b;
        }
        if let Some(s) = o.seed {
            self.fit.seed = s;
        }
        if let Some(lr) = o.learning_rate {
            self.compile.learning_rate = Some(lr);
        }
        if o.quiet {
            self.fit.verbose = 0;
        }
        self.validate()
    }

    /// Builds and compiles the model for the prepared data; checks that its
    /// output width matches `horizon × targets`.
    pub fn build_model(&self, pipeline: &Pipeline) -> Result<Model> {
        let mut m = build_graph(&self.layers, &pipeline.input_shape(), self.fit.seed)?;
        m.check_training_memory(self.fit.batch_size)?;
        let out: usize = m.output_shape().iter().product();
        let rank_ok = m.output_shape().len() == 1;
        if !rank_ok || out != pipeline.output_width() {
            return Err(Error::Config(format!(
                "the last layer outputs {} but the data needs {} value(s) per window \
                 (horizon {} x {} target(s)): end with a dense layer of {} unit(s){}",
                crate::nn::fmt_shape(&m.output_shape()),
                pipeline.output_width(),
                pipeline.window.horizon,
                pipeline.n_targets(),
                pipeline.output_width(),
                if rank_ok {
                    ""
                } else {
                    " on a non-sequence input (return_sequences = false on the last recurrent layer)"
                }
            )));
        }
        self.fit_plan()?.compile(&mut m);
        Ok(m)
    }
}

/// For an error about option 'k' of layer `i` (unknown, of the wrong type
/// or out of range): the key and its line, searched from that layer's
/// `[[layers]]` header on.
fn layer_key_line(text: &str, i: usize, msg: &str) -> Option<(String, usize)> {
    let start = msg.find("option '")? + "option '".len();
    let key = &msg[start..start + msg[start..].find('\'')?];
    let header = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[layers]]"))
        .nth(i)
        .map_or(0, |(n, _)| n);
    text.lines()
        .enumerate()
        .skip(header)
        .find(|(_, l)| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|(n, _)| (key.to_string(), n + 1))
}

/// The folder relative data paths are resolved from: the experiment file's folder.
pub fn base_dir_of(config: &Path) -> PathBuf {
    config
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/m1_co2.toml");

    #[test]
    fn the_issue_example_parses_with_keras_defaults() {
        let e = Experiment::from_toml_str(EXAMPLE, "m1_co2.toml").unwrap();
        assert_eq!(e.data.timesteps, 10);
        assert_eq!(e.layers.len(), 2);
        assert_eq!(e.fit.epochs, 100);
        let es = e.callbacks.early_stopping.as_ref().unwrap();
        assert_eq!((es.patience, es.restore_best_weights), (10, true));
        assert_eq!(es.min_delta, 0.0);
        let r = e.callbacks.reduce_lr_on_plateau.as_ref().unwrap();
        assert_eq!(
            (r.factor, r.patience, r.min_delta, r.cooldown),
            (0.2, 5, 1e-4, 0)
        );
        let o = e.compile.optimizer().unwrap();
        assert_eq!(o.learning_rate, 1e-3);
    }

    fn err(text: &str) -> String {
        Experiment::from_toml_str(text, "exp.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let bad = EXAMPLE.replace("units = 50", "units = 50\nunits_typo = 3");
        let e = err(&bad);
        assert!(
            e.contains("exp.toml") && e.contains("units_typo") && e.contains("line"),
            "{e}"
        );
        // (text in EXAMPLE, what replaces it, what the error must name)
        let cases: [(&str, &str, &[&str]); 12] = [
            ("[fit]", "[fit]\nepoch = 3", &["epoch", "line"]),
            (
                "patience = 10",
                "patience = 10\npatiense = 1",
                &["patiense"],
            ),
            ("factor = 0.2", "factor = 1.5", &["factor", "1.5"]),
            (
                "learning_rate = 0.001",
                "learning_rate = -1.0",
                &["learning_rate"],
            ),
            ("units = 50", "units = 0", &["units"]),
            (
                "activation = \"relu\"",
                "activation = \"relux\"",
                &["relux"],
            ),
            ("type = \"lstm\"", "type = \"lstmm\"", &["lstmm"]),
            ("optimizer = \"adam\"", "optimizer = \"adamm\"", &["adamm"]),
            ("loss = \"mse\"", "loss = \"msee\"", &["msee"]),
            ("epochs = 100", "epochs = 0", &["epochs"]),
            (
                "loss = \"mse\"",
                "loss = \"mse\"\nclipnorm = 1.0\nclipvalue = 1.0",
                &["only one"],
            ),
            (
                "units = 50",
                "units = 50\nkernel_regularizer = {l3 = 1}",
                &["l3", "line"],
            ),
        ];
        for (from, to, words) in cases {
            assert!(EXAMPLE.contains(from), "EXAMPLE has no '{from}'");
            let e = err(&EXAMPLE.replace(from, to));
            for w in words {
                assert!(e.contains(w), "{to}: '{w}' not in: {e}");
            }
        }
    }

    #[test]
    fn type_errors_name_the_key_its_line_and_the_type() {
        let line_of =
            |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        // a layer option: the layer, the key, its line
        let bad = EXAMPLE.replace("units = 50", "units = \"eight\"");
        let e = err(&bad);
        let l = line_of(&bad, "\"eight\"");
        assert!(
            e.contains("option 'units'")
                && e.contains("integer")
                && e.contains(&format!("the key `units` is at line {l}")),
            "{e}"
        );
        // a data key: no serde enum names, what is expected instead
        let bad = EXAMPLE.replace("target = \"co2\"", "target = 5");
        let e = err(&bad);
        let l = line_of(&bad, "target = 5");
        assert!(
            e.contains(&format!("line {l}: `data.target`: expected a column name or a list of column names, got the whole number 5")),
            "{e}"
        );
        assert!(!e.contains("untagged") && !e.contains("OneOrMany"), "{e}");
        let e = err(&EXAMPLE.replace("epochs = 100", "epochs = 1.5"));
        assert!(
            e.contains("`fit.epochs`: expected a whole number (0 or more), got the number 1.5"),
            "{e}"
        );
        // a search file given where an experiment is needed
        let tune = include_str!("../../examples/tune_m1_co2.toml");
        let e = err(tune);
        let l = line_of(tune, "learning_rate = {");
        assert!(
            e.contains(&format!(
                "line {l}: `compile.learning_rate`: expected a number, got a table"
            )) && e.contains("only `lstmkit tune`"),
            "{e}"
        );
    }

    #[test]
    fn functional_graph_names_and_inputs() {
        let text = r#"
[data]
path = "x.csv"
target = "y"
[[layers]]
type = "lstm"
name = "enc"
units = 4
return_sequences = true
kernel_regularizer = { l2 = 0.01 }
[[layers]]
type = "lstm"
units = 3
[[layers]]
type = "dense"
units = 1
inputs = ["lstm"]
"#;
        let e = Experiment::from_toml_str(text, "g.toml").unwrap();
        let m = build_graph(&e.layers, &[10, 1], 1).unwrap();
        let names: Vec<&str> = m.nodes().iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, vec!["enc", "lstm", "dense"]);
        assert!(m.regularization_loss() > 0.0);
        let bad = text.replace("inputs = [\"lstm\"]", "inputs = [\"nope\"]");
        let e = Experiment::from_toml_str(&bad, "g.toml").unwrap();
        let msg = build_graph(&e.layers, &[10, 1], 1)
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains("nope") && msg.contains("enc"), "{msg}");
        // an input that is the model input works too
        let skip = text.replace("inputs = [\"lstm\"]", "inputs = [\"input\"]");
        let e = Experiment::from_toml_str(&skip, "g.toml").unwrap();
        let m = build_graph(&e.layers, &[10, 1], 1).unwrap();
        assert_eq!(m.output_shape(), vec![10, 1]);
    }
}
