//! Small helpers over the pure-Rust `hdf5-reader` crate: every failure becomes
//! an [`Error::Format`] naming the file and the object.

use std::path::Path;

use hdf5_reader::group::Group;
use hdf5_reader::{Datatype, Hdf5File};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Opens an HDF5 image held in memory; `path` names the file (or `file.keras:member`) in errors.
/// A file shorter than its superblock's end-of-file address is reported as truncated.
pub(crate) fn open(bytes: Vec<u8>, path: &Path, what: &str) -> Result<Hdf5File> {
    let len = bytes.len() as u64;
    let f = Hdf5File::from_vec(bytes)
        .map_err(|e| Error::format(path, format!("{what} is not a readable HDF5 file: {e}")))?;
    let sb = f.superblock();
    let end = sb.base_address.saturating_add(sb.eof_address);
    if end > len {
        return Err(Error::format(
            path,
            format!("{what} is truncated: its HDF5 header says {end} bytes, it has {len}"),
        ));
    }
    Ok(f)
}

/// The group at `gpath`.
pub(crate) fn group(f: &Hdf5File, gpath: &str, path: &Path) -> Result<Group> {
    f.group(gpath)
        .map_err(|e| Error::format(path, format!("cannot open HDF5 group '{gpath}': {e}")))
}

/// Whether `gpath` names a group.
pub(crate) fn has_group(f: &Hdf5File, gpath: &str) -> bool {
    f.group(gpath).is_ok()
}

/// A string attribute (fixed or variable length), `None` when absent.
pub(crate) fn attr_string(g: &Group, name: &str, path: &Path) -> Result<Option<String>> {
    let Ok(a) = g.attribute(name) else {
        return Ok(None);
    };
    if let Ok(s) = a.read_string() {
        return Ok(Some(s));
    }
    match a.read_strings() {
        Ok(v) if v.len() == 1 => Ok(Some(v[0].clone())),
        Ok(v) => Err(Error::format(
            path,
            format!("attribute '{name}' holds {} strings, expected one", v.len()),
        )),
        Err(e) => Err(Error::format(
            path,
            format!(
                "attribute '{name}' of group '{}' is not a string: {e}",
                g.name()
            ),
        )),
    }
}

/// A string-list attribute (e.g. `layer_names`, `weight_names`), `None` when absent.
pub(crate) fn attr_strings(g: &Group, name: &str, path: &Path) -> Result<Option<Vec<String>>> {
    let Ok(a) = g.attribute(name) else {
        return Ok(None);
    };
    if a.shape.first() == Some(&0) {
        return Ok(Some(Vec::new()));
    }
    let v = a
        .read_strings()
        .or_else(|_| a.read_string().map(|s| vec![s]))
        .map_err(|e| {
            Error::format(
                path,
                format!(
                    "attribute '{name}' of group '{}' is not a list of strings: {e}",
                    g.name()
                ),
            )
        })?;
    Ok(Some(v))
}

/// Reads a float dataset (f32, or f64 converted) as a tensor.
pub(crate) fn read_tensor(f: &Hdf5File, dpath: &str, path: &Path) -> Result<Tensor> {
    let ds = f
        .dataset(dpath)
        .map_err(|e| Error::format(path, format!("cannot open dataset '{dpath}': {e}")))?;
    crate::model::memory::check_array(
        &format!("{}: dataset '{dpath}'", path.display()),
        ds.shape(),
        4,
    )?;
    let shape: Vec<usize> = ds.shape().iter().map(|&d| d as usize).collect();
    let bad = |e: hdf5_reader::error::Error| {
        Error::format(path, format!("cannot read dataset '{dpath}': {e}"))
    };
    let data: Vec<f32> = match ds.dtype() {
        Datatype::FloatingPoint { size: 4, .. } => ds
            .read_array::<f32>()
            .map_err(bad)?
            .iter()
            .copied()
            .collect(),
        Datatype::FloatingPoint { size: 8, .. } => ds
            .read_array::<f64>()
            .map_err(bad)?
            .iter()
            .map(|&x| x as f32)
            .collect(),
        other => {
            return Err(Error::format(
                path,
                format!("dataset '{dpath}' has type {other:?}, expected float32"),
            ))
        }
    };
    Tensor::new(&shape, data).map_err(|e| Error::format(path, format!("dataset '{dpath}': {e}")))
}

/// The dataset names in a group.
pub(crate) fn dataset_names(g: &Group, path: &Path) -> Result<Vec<String>> {
    g.member_names()
        .map(|(_, d)| d)
        .map_err(|e| Error::format(path, format!("cannot list group '{}': {e}", g.name())))
}

/// The child group names of a group.
pub(crate) fn group_names(g: &Group, path: &Path) -> Result<Vec<String>> {
    g.member_names()
        .map(|(gs, _)| gs)
        .map_err(|e| Error::format(path, format!("cannot list group '{}': {e}", g.name())))
}
