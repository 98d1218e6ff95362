//! `lstmkit._core`: the Python extension module, a thin layer over the lstmkit
//! crate's public API. The Keras-shaped classes live in Python
//! (`python/lstmkit/keras/`); they describe a model as a Keras model config,
//! which [`Model::from_keras_config`] builds, so layer names, arguments and
//! defaults are Keras' and the Rust Keras importer is the one code path.
//!
//! Arrays cross as `(address, shape)` of a float32 C-contiguous NumPy buffer
//! that the Python side has checked and keeps alive for the call: inputs are
//! copied once into the engine's tensors, outputs once into an array NumPy
//! allocated. The GIL is released while the engine runs.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use lstmkit::train::{
    Callback, EarlyStopping, FitOptions, Loss, Mode, Optimizer, ReduceLROnPlateau,
};
use lstmkit::{Error, Model, Tensor};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use serde_json::Value;

/// A NumPy buffer as the Python side passes it: (data address, shape).
type ArrayRef = (usize, Vec<usize>);

create_exception!(
    _core,
    LstmkitError,
    PyException,
    "An error reported by lstmkit."
);

/// lstmkit's error as a Python exception with lstmkit's message: bad shapes,
/// configs and data are `ValueError`, a missing file `FileNotFoundError`,
/// anything else (corrupt files, training failures) `lstmkit.Error`.
fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match &e {
        Error::Shape(_) | Error::Config(_) | Error::Data(_) => PyValueError::new_err(msg),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        _ => LstmkitError::new_err(msg),
    }
}

fn json_arg(s: &str, what: &str) -> PyResult<Value> {
    serde_json::from_str(s).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// Copies `n` float32 values at `addr` (a live, checked NumPy buffer) into a tensor.
fn tensor_at(addr: usize, shape: Vec<usize>) -> PyResult<Tensor> {
    let n: usize = shape.iter().product();
    if n > 0 && (addr == 0 || !addr.is_multiple_of(std::mem::align_of::<f32>())) {
        return Err(PyValueError::new_err(
            "array buffer is not an aligned float32 buffer",
        ));
    }
    let data = if n == 0 {
        Vec::new()
    } else {
        // SAFETY: the Python caller passes the data address of a C-contiguous
        // float32 ndarray of exactly `shape`, checked there, and holds a
        // reference to it for the whole call.
        unsafe { std::slice::from_raw_parts(addr as *const f32, n) }.to_vec()
    };
    Tensor::new(&shape, data).map_err(to_py)
}

/// Writes `t` into the float32 buffer at `addr` of `len` values.
fn write_at(t: &Tensor, addr: usize, len: usize) -> PyResult<()> {
    if t.data.len() != len {
        return Err(PyValueError::new_err(format!(
            "output buffer holds {len} values, the result {}",
            t.data.len()
        )));
    }
    if len > 0 {
        // SAFETY: as in tensor_at; the buffer is writable and `len` long.
        unsafe { std::slice::from_raw_parts_mut(addr as *mut f32, len) }.copy_from_slice(&t.data);
    }
    Ok(())
}

fn mode(s: &str) -> PyResult<Mode> {
    match s {
        "auto" => Ok(Mode::Auto),
        "min" => Ok(Mode::Min),
        "max" => Ok(Mode::Max),
        _ => Err(PyValueError::new_err(format!(
            "mode must be 'auto', 'min' or 'max', got '{s}'"
        ))),
    }
}

/// A Keras callback from its `{"class_name", "config"}` description.
fn callback(v: &Value) -> PyResult<Box<dyn Callback + Send>> {
    let c = &v["config"];
    let f = |k: &str, d: f64| c[k].as_f64().unwrap_or(d);
    let u = |k: &str, d: usize| c[k].as_u64().map(|x| x as usize).unwrap_or(d);
    let s = |k: &str, d: &str| c[k].as_str().unwrap_or(d).to_string();
    let b = |k: &str| c[k].as_bool().unwrap_or(false) || c[k].as_i64().unwrap_or(0) > 0;
    match v["class_name"].as_str().unwrap_or("") {
        "EarlyStopping" => {
            let mut e = EarlyStopping::new();
            e.monitor = s("monitor", "val_loss");
            e.min_delta = f("min_delta", 0.0);
            e.patience = u("patience", 0);
            e.mode = mode(&s("mode", "auto"))?;
            e.baseline = c["baseline"].as_f64();
            e.restore_best_weights = b("restore_best_weights");
            e.start_from_epoch = u("start_from_epoch", 0);
            e.verbose = b("verbose");
            Ok(Box::new(e))
        }
        "ReduceLROnPlateau" => {
            let mut r = ReduceLROnPlateau::new();
            r.monitor = s("monitor", "val_loss");
            r.factor = f("factor", 0.1);
            r.patience = u("patience", 10);
            r.mode = mode(&s("mode", "auto"))?;
            r.min_delta = f("min_delta", 1e-4);
            r.cooldown = u("cooldown", 0);
            r.min_lr = f("min_lr", 0.0);
            r.verbose = b("verbose");
            Ok(Box::new(r))
        }
        other => Err(PyValueError::new_err(format!(
            "callback '{other}' is not supported by lstmkit (EarlyStopping, ReduceLROnPlateau are)"
        ))),
    }
}

/// A built lstmkit model (the engine behind `lstmkit.keras.Model`).
#[pyclass(module = "lstmkit._core")]
struct CoreModel {
    inner: Mutex<Model>,
}

impl CoreModel {
    fn new(m: Model) -> Self {
        CoreModel {
            inner: Mutex::new(m),
        }
    }

    /// The model; a panic in another call cannot poison it for good (errors are values).
    fn get(&self) -> MutexGuard<'_, Model> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl CoreModel {
    /// Builds a model from a Keras model config (JSON text), weights drawn from `seed`.
    #[staticmethod]
    fn from_config(config: &str, seed: u64) -> PyResult<Self> {
        let v = json_arg(config, "model config")?;
        Ok(CoreModel::new(
            Model::from_keras_config(&v, seed).map_err(to_py)?,
        ))
    }

    /// Loads a model file (`.lstmkit`, `lstmkit train`'s model, `.keras`, `.h5`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let m = py
            .detach(|| lstmkit::io::load_model(&path))
            .map_err(to_py)?;
        Ok(CoreModel::new(m))
    }

    /// The model's Keras 3 functional config as JSON text.
    fn to_config(&self) -> String {
        self.get().to_keras_config().to_string()
    }

    /// Saves as `.keras` (Keras 3 zip), `.h5` (legacy Keras HDF5) or `.lstmkit` (native), atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "keras" => lstmkit::io::keras_zip::save(&self.get(), &path).map_err(to_py),
            "h5" | "hdf5" => lstmkit::io::h5_legacy::save(&self.get(), &path).map_err(to_py),
            "lstmkit" => {
                lstmkit::io::native::save(&self.get(), &path, &Default::default()).map_err(to_py)
            }
            _ => Err(PyValueError::new_err(format!(
                "{}: save writes '.keras', '.h5' or '.lstmkit' files",
                path.display()
            ))),
        }
    }

    fn input_shape(&self) -> Vec<usize> {
        self.get().input_shape().to_vec()
    }

    fn output_shape(&self) -> Vec<usize> {
        self.get().output_shape().to_vec()
    }

    fn count_params(&self) -> usize {
        self.get().count_params()
    }

    fn summary(&self) -> String {
        self.get().summary()
    }

    /// `compile`: optimizer `{"name", "learning_rate", "clipnorm", "global_clipnorm",
    /// "clipvalue"}` (JSON), loss by Keras name.
    fn compile(&mut self, optimizer: &str, loss: &str) -> PyResult<()> {
        let o = json_arg(optimizer, "optimizer")?;
        let name = o["name"].as_str().unwrap_or("adam");
        let lr = o["learning_rate"].as_f64().map(|v| v as f32);
        let mut opt = Optimizer::from_name(name, lr).map_err(to_py)?;
        if let Some(v) = o["clipnorm"].as_f64() {
            opt = opt.clipnorm(v as f32).map_err(to_py)?;
        }
        if let Some(v) = o["global_clipnorm"].as_f64() {
            opt = opt.global_clipnorm(v as f32).map_err(to_py)?;
        }
        if let Some(v) = o["clipvalue"].as_f64() {
            opt = opt.clipvalue(v as f32).map_err(to_py)?;
        }
        let loss = Loss::from_name(loss).map_err(to_py)?;
        self.get().compile(opt, loss);
        Ok(())
    }

    /// `fit` on `(address, shape)` arrays; `options` and `callbacks` are JSON.
    /// Returns the history as JSON text.
    #[pyo3(signature = (x, y, options, callbacks, validation=None))]
    fn fit(
        &mut self,
        py: Python<'_>,
        x: ArrayRef,
        y: ArrayRef,
        options: &str,
        callbacks: &str,
        validation: Option<(ArrayRef, ArrayRef)>,
    ) -> PyResult<String> {
        let o = json_arg(options, "fit options")?;
        let cbs = json_arg(callbacks, "callbacks")?;
        let mut boxed: Vec<Box<dyn Callback + Send>> = match cbs.as_array() {
            Some(a) => a.iter().map(callback).collect::<PyResult<_>>()?,
            None => Vec::new(),
        };
        let xt = tensor_at(x.0, x.1)?;
        let yt = tensor_at(y.0, y.1)?;
        let mut opts = FitOptions::new()
            .epochs(o["epochs"].as_u64().unwrap_or(1) as usize)
            .batch_size(o["batch_size"].as_u64().unwrap_or(32) as usize)
            .shuffle(o["shuffle"].as_bool().unwrap_or(true))
            .seed(o["seed"].as_u64().unwrap_or(0))
            .validation_split(o["validation_split"].as_f64().unwrap_or(0.0))
            .initial_epoch(o["initial_epoch"].as_u64().unwrap_or(0) as usize)
            .reshuffle_each_epoch(o["reshuffle_each_epoch"].as_bool().unwrap_or(true))
            .verbose(o["verbose"].as_u64().unwrap_or(0) as u8);
        if let Some((vx, vy)) = validation {
            opts = opts.validation_data(tensor_at(vx.0, vx.1)?, tensor_at(vy.0, vy.1)?);
        }
        let mut guard = self.get();
        let model = &mut *guard;
        let h = py
            .detach(|| {
                let mut refs: Vec<&mut dyn Callback> = boxed
                    .iter_mut()
                    .map(|b| b.as_mut() as &mut dyn Callback)
                    .collect();
                model.fit_with_callbacks(&xt, &yt, &opts, &mut refs)
            })
            .map_err(to_py)?;
        let val: Vec<Value> = h.val_loss.iter().map(|v| serde_json::json!(v)).collect();
        Ok(serde_json::json!({
            "epoch": h.epoch, "loss": h.loss, "val_loss": val,
            "learning_rate": h.learning_rate, "seconds": h.seconds,
        })
        .to_string())
    }

    /// `predict` of `x` into the float32 buffer `out` (`out_len` values).
    fn predict(
        &mut self,
        py: Python<'_>,
        x: ArrayRef,
        batch_size: usize,
        out: usize,
        out_len: usize,
    ) -> PyResult<()> {
        let xt = tensor_at(x.0, x.1)?;
        let mut guard = self.get();
        let model = &mut *guard;
        let y = py
            .detach(|| model.predict_batched(&xt, batch_size.max(1)))
            .map_err(to_py)?;
        write_at(&y, out, out_len)
    }

    /// `evaluate`: the loss over `(x, y)`.
    fn evaluate(
        &mut self,
        py: Python<'_>,
        x: ArrayRef,
        y: ArrayRef,
        batch_size: usize,
    ) -> PyResult<f64> {
        let xt = tensor_at(x.0, x.1)?;
        let yt = tensor_at(y.0, y.1)?;
        let mut guard = self.get();
        let model = &mut *guard;
        py.detach(|| model.evaluate(&xt, &yt, batch_size))
            .map_err(to_py)
    }

    /// Weights in Keras' `get_weights()` order, as `(shape, bytes)` pairs.
    fn get_weights(&self) -> Vec<(Vec<usize>, Vec<u8>)> {
        self.get()
            .get_weights()
            .iter()
            .map(|t| {
                let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
                (t.shape.clone(), bytes)
            })
            .collect()
    }

    /// Sets the weights from `(address, shape)` arrays (Keras' order).
    fn set_weights(&mut self, weights: Vec<(usize, Vec<usize>)>) -> PyResult<()> {
        let ts = weights
            .into_iter()
            .map(|(a, s)| tensor_at(a, s))
            .collect::<PyResult<Vec<_>>>()?;
        self.get().set_weights(&ts).map_err(to_py)
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CoreModel>()?;
    m.add("Error", m.py().get_type::<LstmkitError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
