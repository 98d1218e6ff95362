//! Model files and arrays: Keras `.keras` / `.h5` import, the layer registry,
//! Keras model configs, NumPy `.npy` arrays, and the one atomic writer every
//! output file goes through ([`atomic_write`]).
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

/// The first bytes of a zip archive.
pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The HDF5 signature (at offset 0, 512, 1024, 2048, ... when a user block precedes it).
pub const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// What a model file is, judged by its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A zip archive (`.keras`).
    Zip,
    /// An HDF5 file (legacy Keras `.h5`).
    Hdf5,
    /// Anything else.
    Unknown,
}

/// Classifies a file by its first bytes.
pub fn sniff(bytes: &[u8]) -> FileKind {
    if bytes.starts_with(ZIP_MAGIC) {
        return FileKind::Zip;
    }
    let mut off = 0usize;
    while off + HDF5_MAGIC.len() <= bytes.len() {
        if &bytes[off..off + HDF5_MAGIC.len()] == HDF5_MAGIC {
            return FileKind::Hdf5;
        }
        off = if off == 0 { 512 } else { off * 2 };
    }
    FileKind::Unknown
}

/// Loads a model for inference or further training from an lstmkit native
/// file ([`native`], with its optimiser state), a Keras 3 `.keras` file or a
/// legacy Keras `.h5` file (Keras 3 or tf.keras 2), whatever its extension. A corrupt, truncated or foreign file gives an
/// [`Error::Format`] naming the file and the problem.
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    load_model_bytes(bytes, path)
}

/// [`load_model`] on bytes already in memory; `path` names them in errors.
pub fn load_model_bytes(bytes: Vec<u8>, path: &Path) -> Result<Model> {
    if bytes.is_empty() {
        return Err(Error::format(path, "the file is empty"));
    }
    let kind = sniff(&bytes);
    // The HDF5 decoder is hardened against malformed input; this is a last line
    // of defence so that a decoder bug still surfaces as an error, not a crash.
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match kind {
        FileKind::Zip if native::is_native(&bytes) => native::from_bytes(&bytes, path).map(|r| r.0),
        FileKind::Zip => keras_zip::load_bytes(bytes, path),
        FileKind::Hdf5 => h5_legacy::load_bytes(bytes, path),
        FileKind::Unknown => Err(Error::format(
            path,
            format!(
                "not a model file: expected an lstmkit model, a Keras .keras (zip) or .h5 (HDF5) file, \
                 the file starts with {}",
                describe_start(&bytes)
            ),
        )),
    }
    }));
    match res {
        Ok(r) => r,
        Err(_) => Err(Error::format(
            path,
            "the file is corrupt (the decoder failed on malformed data)",
        )),
    }
}

fn describe_start(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    let printable = head
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\n');
    if printable {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"PK\x03\x04rest"), FileKind::Zip);
        assert_eq!(sniff(b"\x89HDF\r\n\x1a\nrest"), FileKind::Hdf5);
        let mut ub = vec![0u8; 512];
        ub.extend_from_slice(HDF5_MAGIC);
        assert_eq!(sniff(&ub), FileKind::Hdf5);
        assert_eq!(sniff(b"hello world"), FileKind::Unknown);
        assert_eq!(sniff(b""), FileKind::Unknown);
    }
}
