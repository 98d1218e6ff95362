//! Keras 3 `.keras` files: a zip holding `config.json` (the model config),
//! `metadata.json` and `model.weights.h5` (the variables).
//!
//! Inside `model.weights.h5`, each layer's variables are under
//! `layers/<group>/.../vars/<i>`, where `<group>` is the snake_case class name
//! made unique in model order (NOT the user's layer name: see the fixtures'
//! FORMAT.md). We map groups to layers by the `name` attribute of
//! `layers/<group>/vars` when present, else by model order.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::Path;

use hdf5_reader::Hdf5File;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::io::{h5util, keras_config, registry, set_layer_weights};
use crate::model::{auto_name, Model};

/// Largest `config.json` we accept (a model config is a few KiB).
const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// Reads one zip member fully (at most `limit` bytes).
pub(crate) fn read_member<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
    path: &Path,
) -> Result<Option<Vec<u8>>> {
    let mut f = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(Error::format(
                path,
                format!("cannot open '{name}' in the zip: {e}"),
            ))
        }
    };
    if f.size() > limit {
        return Err(Error::format(
            path,
            format!(
                "'{name}' is {} bytes, more than the {limit} allowed",
                f.size()
            ),
        ));
    }
    crate::model::memory::check(
        &format!(
            "{}: the zip member '{name}' ({} bytes unpacked)",
            path.display(),
            f.size()
        ),
        f.size(),
    )?;
    // the declared size may lie (a zip bomb): preallocate little, stop past the limit
    let declared = f.size();
    let mut buf = Vec::with_capacity(declared.min(64 << 20) as usize);
    f.by_ref()
        .take(limit.min(declared).saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::format(path, format!("cannot read '{name}' from the zip: {e}")))?;
    if buf.len() as u64 > declared {
        return Err(Error::format(
            path,
            format!(
                "'{name}' unpacks to more than the {declared} bytes its zip entry declares \
                 (corrupt, or a zip bomb)"
            ),
        ));
    }
    Ok(Some(buf))
}

/// Whether a zip archive holds a Keras model (`config.json` + `model.weights.h5`).
pub fn is_keras_zip<R: Read + Seek>(zip: &zip::ZipArchive<R>) -> bool {
    let names: Vec<&str> = zip.file_names().collect();
    names.contains(&"config.json") && names.contains(&"model.weights.h5")
}

/// Loads a `.keras` model from its bytes (`path` names it in errors).
pub fn load_bytes(bytes: Vec<u8>, path: &Path) -> Result<Model> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| Error::format(path, format!("not a valid zip archive: {e}")))?;
    let config =
        read_member(&mut zip, "config.json", MAX_CONFIG_BYTES, path)?.ok_or_else(|| {
            Error::format(path, "the zip has no config.json: not a Keras .keras model")
        })?;
    let mut config: Value = serde_json::from_slice(&config)
        .map_err(|e| Error::format(path, format!("config.json is not valid JSON: {e}")))?;
    // tf.keras 2 (2.13+) writes .keras files too; its metadata names its version
    let metadata = read_member(&mut zip, "metadata.json", MAX_CONFIG_BYTES, path)?
        .and_then(|m| serde_json::from_slice::<Value>(&m).ok());
    let version = metadata
        .as_ref()
        .and_then(|m| m.get("keras_version"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if version.starts_with("2.") {
        keras_config::keras2_activations(&mut config);
    }
    let weights =
        read_member(&mut zip, "model.weights.h5", u64::MAX / 2, path)?.ok_or_else(|| {
            Error::format(
                path,
                "the zip has no model.weights.h5: not a Keras .keras model",
            )
        })?;
    let mut parsed = keras_config::parse(&config)
        .map_err(|e| Error::format(path, format!("config.json: {}", e.detail())))?;
    keras_config::weights_from_file(&mut parsed);
    let mut model = keras_config::build(&parsed, 0)
        .map_err(|e| Error::format(path, format!("config.json: {}", e.detail())))?;
    let wpath = format!("{}:model.weights.h5", path.display());
    let wpath = Path::new(&wpath);
    let h5 = h5util::open(weights, wpath, "model.weights.h5")?;
    load_weights(&mut model, &parsed, &h5, wpath)?;
    Ok(model)
}

/// Keras 3's group names under `layers/`: snake_case class names made unique in model order.
pub(crate) fn order_group_names(saving_order: &[(String, String)]) -> HashMap<String, String> {
    let mut taken: Vec<String> = Vec::new();
    let mut map = HashMap::new();
    for (name, class) in saving_order {
        let g = auto_name(class, &taken);
        taken.push(g.clone());
        map.insert(name.clone(), g);
    }
    map
}

/// Records, for every `<prefix><g>/vars` group carrying a `name` attribute,
/// `(prefix, name) → <prefix><g>`, walking into nested models' `layers/`.
fn groups_by_name(
    h5: &Hdf5File,
    prefix: &str,
    depth: usize,
    out: &mut HashMap<(String, String), String>,
    path: &Path,
) -> Result<()> {
    let dir = prefix.trim_end_matches('/');
    if depth > 16 || !h5util::has_group(h5, dir) {
        return Ok(());
    }
    let g = h5util::group(h5, dir, path)?;
    for name in h5util::group_names(&g, path)? {
        let full = format!("{prefix}{name}");
        let vpath = format!("{full}/vars");
        if h5util::has_group(h5, &vpath) {
            let vg = h5util::group(h5, &vpath, path)?;
            if let Some(n) = h5util::attr_string(&vg, "name", path)? {
                out.entry((prefix.to_string(), n)).or_insert(full.clone());
            }
        }
        let nested = format!("{full}/layers");
        if h5util::has_group(h5, &nested) {
            groups_by_name(h5, &format!("{nested}/"), depth + 1, out, path)?;
        }
    }
    Ok(())
}

/// Sets every layer's variables from a Keras 3 `model.weights.h5`.
fn load_weights(
    model: &mut Model,
    parsed: &keras_config::ParsedConfig,
    h5: &Hdf5File,
    path: &Path,
) -> Result<()> {
    let specs = parsed.by_name();
    // `<group>/vars` carries the user's layer name (Keras ≥ 3.x); prefer it
    // to the group name by order.
    let mut by_attr = HashMap::new();
    groups_by_name(h5, "layers/", 0, &mut by_attr, path)?;
    for i in 0..model.nodes().len() {
        let node = &model.nodes()[i];
        let n_params = node.layer.params().len();
        if n_params == 0 {
            continue;
        }
        let name = node.name.clone();
        let class = node.layer.class_name();
        let loc = specs
            .get(name.as_str())
            .map(|s| &s.loc)
            .ok_or_else(|| Error::format(path, format!("no weights for layer '{name}'")))?;
        let mut prefix = "layers/".to_string();
        for (mname, mgroup) in &loc.scope {
            let g = by_attr
                .get(&(prefix.clone(), mname.clone()))
                .cloned()
                .unwrap_or_else(|| format!("{prefix}{mgroup}"));
            prefix = format!("{g}/layers/");
        }
        let group = by_attr
            .get(&(prefix.clone(), loc.name.clone()))
            .cloned()
            .unwrap_or_else(|| format!("{prefix}{}", loc.group));
        let config = node.layer.config();
        let mut tensors = Vec::with_capacity(n_params);
        for (sub, _) in registry::keras_var_layout(class, &config, n_params) {
            let gpath = format!("{group}/{sub}");
            if !h5util::has_group(h5, &gpath) {
                return Err(Error::format(
                    path,
                    format!("layer '{name}' ({class}): group '{gpath}' is missing"),
                ));
            }
            let g = h5util::group(h5, &gpath, path)?;
            let mut idx: Vec<usize> = h5util::dataset_names(&g, path)?
                .iter()
                .filter_map(|d| d.parse().ok())
                .collect();
            idx.sort_unstable();
            for (want, got) in idx.iter().enumerate() {
                if *got != want {
                    return Err(Error::format(
                        path,
                        format!("layer '{name}': '{gpath}' has no variable {want}"),
                    ));
                }
            }
            for k in idx {
                tensors.push(h5util::read_tensor(h5, &format!("{gpath}/{k}"), path)?);
            }
        }
        set_layer_weights(model, i, tensors, path, &group)?;
    }
    Ok(())
}

/// The Keras version whose `.keras` layout [`save`] writes.
pub const KERAS_VERSION: &str = "3.15.1";

/// Saves a model as a Keras 3 `.keras` file that `keras.models.load_model`
/// reads (config.json, metadata.json, model.weights.h5 in Keras 3's layout).
/// The write is atomic. Optimizer state is not included (Keras loads the
/// model uncompiled).
pub fn save(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let bytes = to_bytes(model)?;
    super::atomic_write(path, |w| std::io::Write::write_all(w, &bytes))
}

/// The bytes of [`save`]'s `.keras` file.
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    use std::io::Write;
    // Keras 3 has no function for Keras 2's hard_sigmoid (clip(0.2·x + 0.5)):
    // a file naming it would not load, and "hard_sigmoid" would change the numbers
    for n in model.nodes() {
        if mentions(&n.layer.config(), "hard_sigmoid_keras2") {
            return Err(Error::Config(format!(
                "layer '{}' uses Keras 2's hard_sigmoid (clip(0.2·x + 0.5), read from a Keras 2 \
                 file), which Keras 3 cannot express: save it as an lstmkit model instead",
                n.name
            )));
        }
    }
    let config = serde_json::to_vec(&model.to_keras_config())
        .map_err(|e| Error::Other(format!("cannot serialise the model config: {e}")))?;
    let metadata = serde_json::to_vec(&serde_json::json!({
        "keras_version": KERAS_VERSION,
        "date_saved": date_saved(),
        "saved_by": format!("lstmkit {}", env!("CARGO_PKG_VERSION")),
    }))
    .map_err(|e| Error::Other(format!("cannot serialise metadata.json: {e}")))?;
    let weights = weights_h5(model, true)?;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in [
            ("metadata.json", &metadata),
            ("config.json", &config),
            ("model.weights.h5", &weights),
        ] {
            z.start_file(name, opts)
                .and_then(|_| z.write_all(data).map_err(Into::into))
                .map_err(|e| Error::Other(format!("cannot write {name} into the zip: {e}")))?;
        }
        z.finish()
            .map_err(|e| Error::Other(format!("cannot finish the zip: {e}")))?;
    }
    Ok(buf.into_inner())
}

/// `model.weights.h5` in Keras 3's layout: `layers/<group>/.../vars/<i>`,
/// `layers/<group>/vars` carrying the layer name, `vars` the model name.
/// `with_names = false` leaves out the `name` attributes, as older Keras 3 files do.
fn weights_h5(model: &Model, with_names: bool) -> Result<Vec<u8>> {
    use hdf5_writer::{AttributeBuilder, DatasetBuilder, Hdf5Builder, WriteOptions};
    let h5err =
        |e: hdf5_writer::Error| Error::Other(format!("cannot encode model.weights.h5: {e}"));
    let mut order = vec![(model.input_name.clone(), "InputLayer".to_string())];
    order.extend(
        model
            .nodes()
            .iter()
            .map(|n| (n.name.clone(), n.layer.class_name().to_string())),
    );
    let groups = order_group_names(&order);
    let mut b = Hdf5Builder::new()
        .group_attribute("vars", AttributeBuilder::fixed_string("name", &model.name));
    for (name, _) in order.iter().filter(|_| with_names) {
        b = b.group_attribute(
            format!("layers/{}/vars", groups[name]),
            AttributeBuilder::fixed_string("name", name),
        );
    }
    for n in model.nodes() {
        let params = n.layer.params();
        if params.is_empty() {
            continue;
        }
        let g = &groups[&n.name];
        for (sub, k, p) in registry::keras_vars(&n.name, &*n.layer)? {
            let shape: Vec<u64> = p.value.shape.iter().map(|&d| d as u64).collect();
            let path = format!("layers/{g}/{sub}/{k}");
            let data = DatasetBuilder::typed_data::<f32>(path, shape, &p.value.data);
            b = b.dataset(data.map_err(h5err)?);
        }
    }
    b.into_plan()
        .and_then(|p| p.encode(WriteOptions::default()))
        .map_err(h5err)
}

/// Whether any string in the JSON equals `s`.
fn mentions(v: &Value, s: &str) -> bool {
    match v {
        Value::String(x) => x == s,
        Value::Array(a) => a.iter().any(|x| mentions(x, s)),
        Value::Object(o) => o.values().any(|x| mentions(x, s)),
        _ => false,
    }
}

/// Keras' `date_saved` format: `2026-01-31@12:34:56` (UTC).
fn date_saved() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}@{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sequential;
    use crate::nn::{Dense, LSTM};

    fn stacked() -> Model {
        // user names that differ from Keras' group names, as in fixture c:
        // 'lstm_1' is stored as layers/lstm, 'lstm_2' as layers/lstm_1
        Sequential::new(&[5, 2])
            .add_named("lstm_1", LSTM::new(3).return_sequences(true))
            .add_named("lstm_2", LSTM::new(4))
            .add_named("lstm", Dense::new(1))
            .build(3)
            .unwrap()
    }

    #[test]
    fn group_names_follow_class_and_model_order() {
        let m = stacked();
        let mut order = vec![(m.input_name.clone(), "InputLayer".to_string())];
        order.extend(
            m.nodes()
                .iter()
                .map(|n| (n.name.clone(), n.layer.class_name().to_string())),
        );
        let g = order_group_names(&order);
        assert_eq!(g["lstm_1"], "lstm");
        assert_eq!(g["lstm_2"], "lstm_1");
        assert_eq!(g["lstm"], "dense");
        assert_eq!(g["input_layer"], "input_layer");
    }

    #[test]
    fn loads_by_name_attribute_and_by_order_without_it() {
        let m = stacked();
        for with_names in [true, false] {
            let h5 = weights_h5(&m, with_names).unwrap();
            let mut bytes = std::io::Cursor::new(Vec::new());
            {
                use std::io::Write;
                let mut z = zip::ZipWriter::new(&mut bytes);
                let o = zip::write::SimpleFileOptions::default();
                z.start_file("config.json", o).unwrap();
                z.write_all(&serde_json::to_vec(&m.to_keras_config()).unwrap())
                    .unwrap();
                z.start_file("model.weights.h5", o).unwrap();
                z.write_all(&h5).unwrap();
                z.finish().unwrap();
            }
            let back = load_bytes(bytes.into_inner(), Path::new("mem.keras")).unwrap();
            assert_eq!(
                back.get_weights(),
                m.get_weights(),
                "with_names={with_names}"
            );
        }
    }

    #[test]
    fn keras2_hard_sigmoid_is_not_exported() {
        use crate::nn::Activation;
        let m = Sequential::new(&[5, 2])
            .add_named(
                "gates2",
                LSTM::new(3).recurrent_activation(Activation::HardSigmoidKeras2),
            )
            .add(Dense::new(1))
            .build(3)
            .unwrap();
        let e = to_bytes(&m).err().unwrap().to_string();
        assert!(e.contains("'gates2'") && e.contains("hard_sigmoid"), "{e}");
    }

    #[test]
    fn date_saved_has_keras_format() {
        let d = date_saved();
        assert_eq!(d.len(), 19, "{d}");
        assert_eq!(&d[10..11], "@");
        assert!(d.starts_with("20"), "{d}");
    }
}
