//! What a run produces and writes: the [`Outcome`] of [`Experiment::run`],
//! the extras stored next to a model in its native file, and the JSON model
//! format of `lstmkit tune` ([`SavedModel`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::layers::{build_graph, LayerSpec};
use super::Experiment;
use crate::data::{DataSpec, Pipeline, Prepared};
use crate::error::{Error, Result};
use crate::eval::Evaluation;
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::{CallbackState, History};

/// What [`Experiment::run`] returns.
pub struct Outcome {
    /// The trained model (best weights restored when asked).
    pub model: Model,
    /// Per-epoch history.
    pub history: History,
    /// The prepared data.
    pub prepared: Prepared,
    /// Model outputs on the test windows (model space).
    pub test_pred: Tensor,
    /// Test metrics next to the baselines, original units.
    pub evaluation: Evaluation,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// Epoch (1-based) with the lowest monitored loss (`val_loss`, else `loss`).
    pub best_epoch: usize,
    /// Seconds spent in `fit` (all parts of a resumed run).
    pub train_seconds: f64,
    /// The weights at the end of the last epoch when the model holds others
    /// (best weights restored): where a resumed run continues from.
    pub last_weights: Option<Vec<Tensor>>,
    /// The callbacks' state at the end (by `[callbacks.*]` name), for a resume.
    pub callback_states: BTreeMap<String, CallbackState>,
    /// With `[intervals]` calibrated on the validation windows: the errors
    /// stored with the model for `lstmkit forecast`.
    pub calibration: Option<crate::intervals::StoredCalibration>,
}

/// A model as JSON: the layer specs, the weights and the fitted data
/// pipeline (used by `lstmkit tune`; `lstmkit train` writes the native format).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always `lstmkit-experiment-model`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Per-sample input shape.
    pub input_shape: Vec<usize>,
    /// The layers.
    pub layers: Vec<LayerSpec>,
    /// Weights in `Model::get_weights` order: (shape, values).
    pub weights: Vec<(Vec<usize>, Vec<f32>)>,
    /// The fitted data pipeline (scaler, windows, differencing).
    pub pipeline: Pipeline,
    /// The `[data]` section it was trained with, its path made absolute
    /// (see [`SavedModel::with_data`]): where `lstmkit evaluate` finds the
    /// data without `--config`. Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSpec>,
}

const SAVED_FORMAT: &str = "lstmkit-experiment-model";

impl SavedModel {
    /// Captures a model, its layer specs and pipeline.
    pub fn new(model: &Model, layers: &[LayerSpec], pipeline: &Pipeline) -> Self {
        SavedModel {
            format: SAVED_FORMAT.into(),
            version: 1,
            input_shape: model.input_shape().to_vec(),
            layers: layers.to_vec(),
            weights: model
                .get_weights()
                .into_iter()
                .map(|t| (t.shape, t.data))
                .collect(),
            pipeline: pipeline.clone(),
            data: None,
        }
    }

    /// Records the `[data]` section the model was trained with, its relative
    /// path resolved from `base_dir` (a bundled dataset's name is kept).
    pub fn with_data(mut self, spec: &DataSpec, base_dir: &Path) -> Self {
        let mut spec = spec.clone();
        let bundled = spec
            .path
            .to_str()
            .is_some_and(|p| p.starts_with("bundled:"));
        if !bundled {
            let p = spec.resolved_path(base_dir);
            spec.path = std::path::absolute(&p).unwrap_or(p);
        }
        self.data = Some(spec);
        self
    }

    /// Writes it as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let js = serde_json::to_vec(self)
            .map_err(|e| Error::Other(format!("{}: cannot serialise: {e}", path.display())))?;
        crate::io::atomic_write_bytes(path, &js)
    }

    /// Reads a saved model file.
    pub fn load(path: &Path) -> Result<SavedModel> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_slice(&bytes, path)
    }

    /// [`SavedModel::load`] on bytes in memory; `path` names them in errors.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<SavedModel> {
        let s: SavedModel = serde_json::from_slice(bytes)
            .map_err(|e| Error::format(path, format!("not an lstmkit model file: {e}")))?;
        if s.format != SAVED_FORMAT || s.version != 1 {
            return Err(Error::format(
                path,
                format!("unknown format '{}' version {}", s.format, s.version),
            ));
        }
        Ok(s)
    }

    /// Rebuilds the model with its weights.
    pub fn model(&self) -> Result<Model> {
        let mut m = build_graph(&self.layers, &self.input_shape, 0)?;
        let w: Vec<Tensor> = self
            .weights
            .iter()
            .map(|(s, d)| Tensor::new(s, d.clone()))
            .collect::<Result<_>>()?;
        m.set_weights(&w)?;
        Ok(m)
    }
}

impl Experiment {
    /// What the native model file stores besides the model: the `[data]`
    /// spec with the fitted pipeline, the history, and this experiment.
    pub fn extras(
        &self,
        pipeline: &Pipeline,
        history: Option<&History>,
    ) -> crate::io::native::Extras {
        crate::io::native::Extras {
            data: Some(crate::io::native::Extras::data_blob(
                Some(&self.data),
                pipeline,
            )),
            history: history.and_then(|h| serde_json::to_value(h).ok()),
            train: Some(serde_json::json!({ "experiment": serde_json::to_value(self).ok() })),
            tensors: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::data::DataSpec;
    use crate::experiment::Experiment;

    #[test]
    fn native_file_round_trip_with_pipeline() {
        let mut frame_y: Vec<f64> = (0..80).map(|i| (i as f64 * 0.4).sin()).collect();
        frame_y[0] = 0.0;
        let frame =
            crate::data::Frame::from_columns("inline", vec![("y".to_string(), frame_y)]).unwrap();
        let mut spec = DataSpec::new("inline", &["y"]);
        spec.timesteps = 5;
        let p = crate::data::prepare_frame(&spec, frame).unwrap();
        let text = "[data]\npath = \"inline\"\ntarget = \"y\"\ntimesteps = 5\n[[layers]]\ntype = \"lstm\"\nunits = 3\n[[layers]]\ntype = \"dense\"\nunits = 1\n";
        let e = Experiment::from_toml_str(text, "t.toml").unwrap();
        let mut m = e.build_model(&p.pipeline).unwrap();
        let dir = crate::test_tmp_root().join(format!("lstmkit-saved-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.lstmkit");
        crate::io::native::save(&m, &path, &e.extras(&p.pipeline, None)).unwrap();
        let (mut m2, extras) = crate::io::native::load(&path).unwrap();
        assert_eq!(
            m.predict(&p.test.x).unwrap(),
            m2.predict(&p.test.x).unwrap()
        );
        assert_eq!(extras.pipeline().unwrap().unwrap(), p.pipeline);
        std::fs::remove_dir_all(&dir).unwrap();
        // wrong output width is a clear error
        let wide = text.replace("units = 1", "units = 2");
        let e = Experiment::from_toml_str(&wide, "t.toml").unwrap();
        let msg = e.build_model(&p.pipeline).err().unwrap().to_string();
        assert!(msg.contains("1 value(s) per window"), "{msg}");
    }
}
