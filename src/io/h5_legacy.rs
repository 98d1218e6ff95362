//! Legacy Keras HDF5 models (`model.save('model.h5')`), as written by Keras 3
//! and by tf.keras 2: the root attribute `model_config` holds the model
//! config; `model_weights/<layer name>/` holds each layer's variables, whose
//! order is given by the group's `weight_names` attribute (HDF5's own listing
//! is alphabetical, so it is not used). tf.keras 2's `:0` suffixes are accepted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use hdf5_reader::Hdf5File;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::io::{h5util, keras_config, set_layer_weights};
use crate::model::Model;

/// Loads a legacy `.h5` model from its bytes (`path` names it in errors).
pub fn load_bytes(bytes: Vec<u8>, path: &Path) -> Result<Model> {
    let h5 = h5util::open(bytes, path, "the file")?;
    let root = h5util::group(&h5, "/", path)?;
    let cfg = h5util::attr_string(&root, "model_config", path)?.ok_or_else(|| {
        Error::format(
            path,
            "no 'model_config' attribute: this HDF5 file holds no Keras model \
             (a weights-only file from save_weights cannot be loaded alone; save the whole model)",
        )
    })?;
    let mut cfg: Value = serde_json::from_str(&cfg)
        .map_err(|e| Error::format(path, format!("model_config is not valid JSON: {e}")))?;
    let version = h5util::attr_string(&root, "keras_version", path)?.unwrap_or_default();
    if version.starts_with("1.") {
        return Err(Error::format(
            path,
            format!("Keras {version} files are not supported (Keras 2 or 3 only)"),
        ));
    }
    if version.starts_with("2.") {
        keras_config::keras2_activations(&mut cfg);
    }
    let mut parsed = keras_config::parse(&cfg)
        .map_err(|e| Error::format(path, format!("model_config: {}", e.detail())))?;
    keras_config::weights_from_file(&mut parsed);
    let mut model = keras_config::build(&parsed, 0)
        .map_err(|e| Error::format(path, format!("model_config: {}", e.detail())))?;
    if !h5util::has_group(&h5, "model_weights") {
        return Err(Error::format(
            path,
            "no 'model_weights' group: the file holds no weights",
        ));
    }
    load_weights(&mut model, &parsed, &h5, path)?;
    Ok(model)
}

fn load_weights(
    model: &mut Model,
    parsed: &keras_config::ParsedConfig,
    h5: &Hdf5File,
    path: &Path,
) -> Result<()> {
    let specs = parsed.by_name();
    // the file names of the layers inlined from each nested model, by its top-level group
    let mut nested: HashMap<&str, HashSet<&str>> = HashMap::new();
    for s in &parsed.layers {
        if !s.loc.scope.is_empty() {
            nested
                .entry(s.loc.h5_group())
                .or_default()
                .insert(s.loc.name.as_str());
        }
    }
    for i in 0..model.nodes().len() {
        let node = &model.nodes()[i];
        if node.layer.params().is_empty() {
            continue;
        }
        let name = node.name.clone();
        let loc = specs
            .get(name.as_str())
            .map(|s| &s.loc)
            .ok_or_else(|| Error::format(path, format!("no weights for layer '{name}'")))?;
        let gpath = format!("model_weights/{}", loc.h5_group());
        if !h5util::has_group(h5, &gpath) {
            return Err(Error::format(
                path,
                format!("layer '{name}': no group '{gpath}' with its weights"),
            ));
        }
        let g = h5util::group(h5, &gpath, path)?;
        let mut names = h5util::attr_strings(&g, "weight_names", path)?.ok_or_else(|| {
            Error::format(
                path,
                format!("group '{gpath}' has no 'weight_names' attribute"),
            )
        })?;
        if let Some(inner) = nested.get(loc.h5_group()) {
            // a nested model's group lists the variables of all its layers
            // (trainable ones first): a variable belongs to the first layer
            // named in its path, e.g. `inner/lstm_3/lstm_cell/kernel`.
            names.retain(|wn| wn.split('/').find(|c| inner.contains(c)) == Some(loc.name.as_str()));
        }
        let mut tensors = Vec::with_capacity(names.len());
        for wn in &names {
            tensors.push(read_weight(h5, &gpath, wn, path)?);
        }
        set_layer_weights(model, i, tensors, path, &gpath)?;
    }
    Ok(())
}

/// Reads `<gpath>/<weight name>`, with or without tf.keras 2's `:0` suffix.
fn read_weight(h5: &Hdf5File, gpath: &str, wn: &str, path: &Path) -> Result<crate::Tensor> {
    let mut candidates = vec![wn.to_string()];
    match wn.strip_suffix(":0") {
        Some(s) => candidates.push(s.to_string()),
        None => candidates.push(format!("{wn}:0")),
    }
    for c in &candidates {
        let dpath = format!("{gpath}/{c}");
        if h5.dataset(&dpath).is_ok() {
            return h5util::read_tensor(h5, &dpath, path);
        }
    }
    Err(Error::format(
        path,
        format!("weight '{wn}' listed in '{gpath}' weight_names is missing"),
    ))
}

/// Saves `model` as a legacy Keras HDF5 file (`model.save('model.h5')`'s
/// layout: the `model_config` attribute, `model_weights/<layer>/` with its
/// `weight_names`), atomically. [`load_bytes`] reads it back.
pub fn save(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let bytes = to_bytes(model)?;
    crate::io::atomic_write_bytes(path, &bytes)
}

/// The legacy `.h5` bytes of `model` (see [`save`]).
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    use hdf5_writer::{AttributeBuilder, DatasetBuilder, Hdf5Builder, WriteOptions};
    let h5err = |e: hdf5_writer::Error| Error::Other(format!("cannot encode the .h5 file: {e}"));
    let config = serde_json::to_string(&model.to_keras_config())
        .map_err(|e| Error::Other(format!("cannot serialise the model config: {e}")))?;
    let mut b = Hdf5Builder::new()
        .attribute(AttributeBuilder::fixed_string("model_config", &config))
        .attribute(AttributeBuilder::fixed_string(
            "keras_version",
            crate::io::keras_zip::KERAS_VERSION,
        ))
        .attribute(AttributeBuilder::fixed_string("backend", "tensorflow"));
    let mut layer_names = Vec::new();
    for n in model.nodes() {
        let params = n.layer.params();
        if params.is_empty() {
            continue;
        }
        let mut names = Vec::with_capacity(params.len());
        for (sub, k, p) in crate::io::registry::keras_vars(&n.name, &*n.layer)? {
            let wn = format!("{}/{sub}/{k}", n.name);
            let shape: Vec<u64> = p.value.shape.iter().map(|&d| d as u64).collect();
            let path = format!("model_weights/{}/{wn}", n.name);
            let data = DatasetBuilder::typed_data::<f32>(path, shape, &p.value.data);
            b = b.dataset(data.map_err(h5err)?);
            names.push(wn);
        }
        b = b.group_attribute(
            format!("model_weights/{}", n.name),
            AttributeBuilder::fixed_string_vector("weight_names", &names).map_err(h5err)?,
        );
        layer_names.push(n.name.clone());
    }
    if layer_names.is_empty() {
        return Err(Error::Config(
            "the model has no weights to write to an .h5 file".into(),
        ));
    }
    b = b.group_attribute(
        "model_weights",
        AttributeBuilder::fixed_string_vector("layer_names", &layer_names).map_err(h5err)?,
    );
    b.into_plan()
        .and_then(|p| p.encode(WriteOptions::default()))
        .map_err(h5err)
}
