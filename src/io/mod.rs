//! Model files and arrays: the one model-file reader ([`load`], see
//! [`dispatch`] for the formats), Keras `.keras` / `.h5` import, the
//! layer registry, Keras model configs, NumPy `.npy` arrays, and the one
//! atomic writer every output file goes through ([`atomic_write`]).
//!
//! [`load_model`] looks at a file's content (not its extension) and picks the
//! reader:
//!
//! ```no_run
//! let mut model = lstmkit::io::load_model("model.keras").unwrap();
//! let x = lstmkit::io::npy::read("x.npy").unwrap();
//! let y = model.predict(&x).unwrap();
//! lstmkit::io::npy::write("y.npy", &y).unwrap();
//! ```

mod atomic;
pub mod dispatch;
pub mod h5_legacy;
mod h5util;
pub mod keras_config;
pub mod keras_zip;
pub mod native;
pub mod npy;
pub mod registry;

use std::path::Path;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::tensor::Tensor;

pub use atomic::{atomic_write, atomic_write_bytes};
pub use dispatch::{
    load, load_bytes, load_model, load_model_bytes, model_file, sniff, FileKind, Loaded,
    ModelFormat, HDF5_MAGIC, ZIP_MAGIC,
};

/// Sets node `i`'s variables from `tensors` (Keras' `get_weights()` order),
/// checking their count and shapes; `where_` names their place in the file.
pub(crate) fn set_layer_weights(
    model: &mut Model,
    i: usize,
    tensors: Vec<Tensor>,
    path: &Path,
    where_: &str,
) -> Result<()> {
    let node = &mut model.nodes_mut()[i];
    let name = node.name.clone();
    let class = node.layer.class_name();
    let mut params = node.layer.params_mut();
    if params.len() != tensors.len() {
        return Err(Error::format(
            path,
            format!(
                "layer '{name}' ({class}) has {} weight tensors but '{where_}' holds {}",
                params.len(),
                tensors.len()
            ),
        ));
    }
    for (p, t) in params.iter_mut().zip(&tensors) {
        if p.value.shape != t.shape {
            return Err(Error::format(
                path,
                format!(
                    "layer '{name}' ({class}): weight '{}' should have shape {:?}, '{where_}' holds {:?}",
                    p.name, p.value.shape, t.shape
                ),
            ));
        }
        if t.has_non_finite() {
            return Err(Error::format(
                path,
                format!(
                    "layer '{name}': weight '{}' contains NaN or infinite values",
                    p.name
                ),
            ));
        }
        p.value.data.copy_from_slice(&t.data);
    }
    Ok(())
}
