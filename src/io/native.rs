//! The native model file (`.lstmkit`): one file holding everything needed to
//! predict and to continue training — architecture, weights, optimiser state,
//! layer run-time state (stateful RNN states, dropout streams), the model's
//! random stream, the caller's data spec and fitted scalers, the training
//! history — with the library and format versions and a SHA-256 checksum.
//! `docs/FORMAT.md` describes the layout byte by byte.
//!
//! It is a standard zip archive (inspect it with `unzip -l`):
//! `manifest.json` (first, so a truncated file is still recognised),
//! `model.json`, `weights.safetensors`, and when present `optimizer.json` +
//! `optimizer.safetensors`, `data.json`, `history.json`, `train.json`. The zip
//! comment holds `lstmkit-sha256:` and the SHA-256 of every byte before the
//! digest, so a flipped bit anywhere in the file is caught, and a cut-short
//! file is recognised as such. Writes are atomic.
//!
//! ```
//! use lstmkit::io::native::{self, Extras};
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Dense, LSTM};
//! use lstmkit::train::{Loss, Optimizer};
//! use lstmkit::Tensor;
//!
//! let mut model = Sequential::new(&[5, 1]).add(LSTM::new(4)).add(Dense::new(1)).build(1).unwrap();
//! model.compile(Optimizer::adam(1e-2), Loss::Mse);
//! model.train_on_batch(&Tensor::zeros(&[2, 5, 1]), &Tensor::zeros(&[2, 1])).unwrap();
//! let path = std::env::temp_dir().join(format!("doc-{}.lstmkit", std::process::id()));
//! let extras = Extras { data: Some(serde_json::json!({"timesteps": 5})), ..Extras::default() };
//! native::save(&model, &path, &extras).unwrap();
//! let (mut back, extras_back) = native::load(&path).unwrap();
//! assert_eq!(back.get_weights(), model.get_weights());
//! assert_eq!(back.optimizer(), model.optimizer());
//! assert_eq!(extras_back.data, extras.data);
//! let x = Tensor::zeros(&[1, 5, 1]);
//! assert_eq!(back.predict(&x).unwrap(), model.predict(&x).unwrap());
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::data::{DataSpec, Pipeline};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::{Loss, Optimizer};

/// The format name written into every manifest.
pub const FORMAT: &str = "lstmkit-model";
/// The format version this library writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;
/// The zip comment's prefix; 64 hex digits of SHA-256 follow it.
pub const CHECKSUM_PREFIX: &str = "lstmkit-sha256:";
const DIGEST_HEX: usize = 64;
const EOCD_LEN: usize = 22;
const MANIFEST: &str = "manifest.json";

/// What a native file holds besides the model: opaque JSON blobs that the
/// caller owns (e.g. the `[data]` section and the fitted scalers, the history
/// of `fit`, the training configuration needed to resume).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extras {
    /// Data spec and fitted scalers (columns, timesteps, horizon, differencing, ...).
    pub data: Option<Value>,
    /// Training history (per-epoch losses, learning rates, ...).
    pub history: Option<Value>,
    /// Training configuration and progress (e.g. the experiment, epochs done).
    pub train: Option<Value>,
    /// Tensors that belong to the training state rather than the model (the
    /// weights at the end of the last epoch when the model holds restored best
    /// weights, callbacks' saved weights), by name; `extra.safetensors`.
    pub tensors: BTreeMap<String, Tensor>,
}

impl Extras {
    /// The `data.json` blob that `lstmkit train` stores and `lstmkit forecast`
    /// reads: `{"spec": <DataSpec>, "pipeline": <Pipeline>}` (the `[data]`
    /// section and the fitted scalers / window geometry / differencing).
    pub fn data_blob(spec: Option<&DataSpec>, pipeline: &Pipeline) -> Value {
        json!({"spec": spec, "pipeline": pipeline})
    }

    /// The fitted data pipeline stored by [`Extras::data_blob`], if any.
    pub fn pipeline(&self) -> Result<Option<Pipeline>> {
        self.data_entry("pipeline")
    }

    /// The data spec stored by [`Extras::data_blob`], if any.
    pub fn data_spec(&self) -> Result<Option<DataSpec>> {
        self.data_entry("spec")
    }

    /// Entry `key` of `data.json`, if there (null counts as absent).
    fn data_entry<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.data.as_ref().and_then(|d| d.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(p) => serde_json::from_value(p.clone())
                .map(Some)
                .map_err(|e| Error::Config(format!("data.json '{key}': {e}"))),
        }
    }
}

/// The manifest: format identification and per-entry checksums.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version the file was written with.
    pub format_version: u32,
    /// The lstmkit version that wrote the file.
    pub library_version: String,
    /// Per entry: its size in bytes and SHA-256 (hex).
    pub entries: BTreeMap<String, EntryInfo>,
}

/// Size and checksum of one archive entry.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EntryInfo {
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A weight's key in `weights.safetensors`: `<layer>/<index>/<variable>`.
fn weight_key(layer: &str, idx: usize, name: &str) -> String {
    format!("{layer}/{idx}/{name}")
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    let mut b = Vec::with_capacity(v.len() * 4);
    for x in v {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b
}

fn safetensors_bytes(tensors: &[(String, Vec<usize>, Vec<u8>)]) -> Result<Vec<u8>> {
    let views = tensors
        .iter()
        .map(|(k, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (k.clone(), v))
                .map_err(|e| Error::Other(format!("safetensors: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::tensor::serialize(views, None)
        .map_err(|e| Error::Other(format!("safetensors: {e}")))
}

/// Serialises the model and extras into the bytes of a native file.
pub fn to_bytes(model: &Model, extras: &Extras) -> Result<Vec<u8>> {
    to_bytes_versioned(model, extras, FORMAT_VERSION)
}

fn to_bytes_versioned(model: &Model, extras: &Extras, version: u32) -> Result<Vec<u8>> {
    // weights
    let mut weights = Vec::new();
    let mut windex = Vec::new();
    for n in model.nodes() {
        for (i, p) in n.layer.params().into_iter().enumerate() {
            let key = weight_key(&n.name, i, &p.name);
            windex.push(json!({"key": key, "layer": n.name, "name": p.name,
                               "shape": p.value.shape, "trainable": p.trainable}));
            weights.push((key, p.value.shape.clone(), f32_bytes(&p.value.data)));
        }
    }
    let runtime: serde_json::Map<String, Value> = model
        .nodes()
        .iter()
        .map(|n| (n.name.clone(), n.layer.runtime_state()))
        .filter(|(_, v)| !v.is_null())
        .collect();
    let model_json = json!({
        "config": model.to_keras_config(),
        "weights": windex,
        "loss": model.loss(),
        "rng": model.rng(),
        "runtime_state": runtime,
    });
    let mut entries: Vec<(&str, Vec<u8>)> = vec![
        (
            "model.json",
            serde_json::to_vec_pretty(&model_json).map_err(json_err)?,
        ),
        ("weights.safetensors", safetensors_bytes(&weights)?),
    ];
    if let Some(opt) = model.optimizer() {
        let mut head = opt.clone();
        head.slots = Vec::new();
        let mut slots = Vec::new();
        for (v, ss) in opt.slots.iter().enumerate() {
            for (s, data) in ss.iter().enumerate() {
                slots.push((format!("{v}/{s}"), vec![data.len()], f32_bytes(data)));
            }
        }
        let shape: Vec<usize> = opt.slots.iter().map(|s| s.len()).collect();
        let oj = json!({"optimizer": head, "slots_per_variable": shape});
        entries.push((
            "optimizer.json",
            serde_json::to_vec_pretty(&oj).map_err(json_err)?,
        ));
        entries.push(("optimizer.safetensors", safetensors_bytes(&slots)?));
    }
    for (name, v) in [
        ("data.json", &extras.data),
        ("history.json", &extras.history),
        ("train.json", &extras.train),
    ] {
        if let Some(v) = v {
            entries.push((name, serde_json::to_vec_pretty(v).map_err(json_err)?));
        }
    }
    if !extras.tensors.is_empty() {
        let t: Vec<(String, Vec<usize>, Vec<u8>)> = extras
            .tensors
            .iter()
            .map(|(k, t)| (k.clone(), t.shape.clone(), f32_bytes(&t.data)))
            .collect();
        entries.push(("extra.safetensors", safetensors_bytes(&t)?));
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: version,
        library_version: env!("CARGO_PKG_VERSION").into(),
        entries: entries
            .iter()
            .map(|(n, b)| {
                (
                    n.to_string(),
                    EntryInfo {
                        size: b.len() as u64,
                        sha256: sha256_hex(b),
                    },
                )
            })
            .collect(),
    };
    let mbytes = serde_json::to_vec_pretty(&manifest).map_err(json_err)?;

    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let zerr = |e: zip::result::ZipError| Error::Other(format!("writing the model archive: {e}"));
    zw.start_file(MANIFEST, opts).map_err(zerr)?;
    zw.write_all(&mbytes)
        .map_err(|e| Error::Other(e.to_string()))?;
    for (name, b) in &entries {
        zw.start_file(*name, opts).map_err(zerr)?;
        zw.write_all(b).map_err(|e| Error::Other(e.to_string()))?;
    }
    zw.set_comment(format!("{CHECKSUM_PREFIX}{}", "0".repeat(DIGEST_HEX)));
    let mut bytes = zw.finish().map_err(zerr)?.into_inner();
    let n = bytes.len();
    let digest = sha256_hex(&bytes[..n - DIGEST_HEX]);
    bytes[n - DIGEST_HEX..].copy_from_slice(digest.as_bytes());
    Ok(bytes)
}

fn json_err(e: serde_json::Error) -> Error {
    Error::Other(format!("JSON encoding: {e}"))
}

/// Saves `model` (with its optimiser state, run-time state and random stream)
/// and `extras` to `path`, atomically: the previous file stays intact until
/// the new one is complete on disk.
pub fn save(model: &Model, path: impl AsRef<Path>, extras: &Extras) -> Result<()> {
    let bytes = to_bytes(model, extras)?;
    super::atomic_write(path, |w| w.write_all(&bytes))
}

/// True when `bytes` look like a native file (complete or cut short): a zip
/// whose first entry is `manifest.json`, or one closed by the lstmkit checksum.
pub fn is_native(bytes: &[u8]) -> bool {
    let first = bytes.len() >= 30 + MANIFEST.len()
        && bytes.starts_with(b"PK\x03\x04")
        && &bytes[30..30 + MANIFEST.len()] == MANIFEST.as_bytes();
    first || checksum_record(bytes).is_some()
}

/// The position of the digest if the file ends with the lstmkit end record.
fn checksum_record(bytes: &[u8]) -> Option<usize> {
    let clen = CHECKSUM_PREFIX.len() + DIGEST_HEX;
    let n = bytes.len();
    if n < EOCD_LEN + clen {
        return None;
    }
    let eocd = n - clen - EOCD_LEN;
    let ok = &bytes[eocd..eocd + 4] == b"PK\x05\x06"
        && u16::from_le_bytes([bytes[eocd + 20], bytes[eocd + 21]]) as usize == clen
        && &bytes[n - clen..n - DIGEST_HEX] == CHECKSUM_PREFIX.as_bytes();
    ok.then_some(n - DIGEST_HEX)
}

/// Loads a native file: the model (compiled with the saved optimiser state
/// and loss when it was compiled) and the extras.
pub fn load(path: impl AsRef<Path>) -> Result<(Model, Extras)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes, path)
}

/// [`load`] on bytes in memory; `path` names them in errors. Never panics:
/// a truncated, corrupt, foreign or newer-version file gives an
/// [`Error::Format`] that says which.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(Model, Extras)> {
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        from_bytes_inner(bytes, path)
    }));
    match res {
        Ok(r) => r,
        Err(_) => Err(Error::format(
            path,
            "the file is corrupt (a decoder failed on malformed data)",
        )),
    }
}

fn read_manifest<'a>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<(Manifest, zip::ZipArchive<Cursor<&'a [u8]>>)> {
    let fmt = |m: String| Error::format(path, m);
    if bytes.is_empty() {
        return Err(fmt("the file is empty".into()));
    }
    let Some(at) = checksum_record(bytes) else {
        if is_native(bytes) {
            return Err(fmt(format!(
                "truncated: the file ({} bytes) ends before its end record with the checksum; it was cut short (an interrupted copy or download?)",
                bytes.len()
            )));
        }
        return Err(fmt(format!(
            "not an lstmkit model file ({}); expected a zip archive starting with {MANIFEST} and ending with an lstmkit checksum",
            if bytes.starts_with(b"PK\x03\x04") {
                "a zip archive of another kind".to_string()
            } else {
                format!("it starts with {}", describe(bytes))
            }
        )));
    };
    let want = std::str::from_utf8(&bytes[at..]).unwrap_or("");
    let got = sha256_hex(&bytes[..at]);
    if want != got {
        return Err(fmt(format!(
            "corrupt: SHA-256 checksum mismatch (recorded {}, computed {got}); the file was damaged after it was written",
            String::from_utf8_lossy(&bytes[at..])
        )));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| fmt(format!("corrupt zip structure: {e}")))?;
    let mbytes = read_entry(&mut zip, MANIFEST, path)?.ok_or_else(|| {
        fmt(format!(
            "not an lstmkit model file: the archive has no {MANIFEST}"
        ))
    })?;
    let mv: Value = serde_json::from_slice(&mbytes)
        .map_err(|e| fmt(format!("{MANIFEST} is not valid JSON: {e}")))?;
    if mv.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(fmt(format!(
            "not an lstmkit model file: {MANIFEST} names format {}",
            mv.get("format").cloned().unwrap_or(Value::Null)
        )));
    }
    let version = mv
        .get("format_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if version == 0 || version > FORMAT_VERSION as u64 {
        let by = mv
            .get("library_version")
            .and_then(Value::as_str)
            .unwrap_or("an unknown version");
        return Err(fmt(format!(
            "wrong format version: the file has format version {version} (written by lstmkit {by}); this lstmkit ({}) reads version {FORMAT_VERSION}{}",
            env!("CARGO_PKG_VERSION"),
            if version > FORMAT_VERSION as u64 { " — upgrade lstmkit" } else { "" }
        )));
    }
    let manifest: Manifest =
        serde_json::from_value(mv).map_err(|e| fmt(format!("{MANIFEST} is malformed: {e}")))?;
    Ok((manifest, zip))
}

fn describe(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        let h: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", h.join(" "))
    }
}

fn read_entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<u8>>> {
    let mut f = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(Error::format(path, format!("entry {name}: {e}"))),
    };
    let mut out = Vec::with_capacity((f.size() as usize).min(1 << 30));
    f.read_to_end(&mut out)
        .map_err(|e| Error::format(path, format!("entry {name} cannot be read: {e}")))?;
    Ok(Some(out))
}

fn entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    m: &Manifest,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<u8>>> {
    let info = m.entries.get(name);
    let data = read_entry(zip, name, path)?;
    match (info, data) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::format(
            path,
            format!("the manifest lists {name} but the archive lacks it"),
        )),
        (None, Some(_)) => Err(Error::format(
            path,
            format!("the archive holds {name}, which the manifest does not list"),
        )),
        (Some(i), Some(d)) => {
            if d.len() as u64 != i.size || sha256_hex(&d) != i.sha256 {
                return Err(Error::format(
                    path,
                    format!("corrupt: entry {name} does not match its checksum in the manifest"),
                ));
            }
            Ok(Some(d))
        }
    }
}

fn json_entry(bytes: &[u8], name: &str, path: &Path) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::format(path, format!("{name} is not valid JSON: {e}")))
}

/// Reads the f32 tensors of a safetensors blob into a map.
fn read_tensors(bytes: &[u8], name: &str, path: &Path) -> Result<BTreeMap<String, Tensor>> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::format(path, format!("{name}: {e}")))?;
    let mut out = BTreeMap::new();
    for (k, v) in st.tensors() {
        if v.dtype() != safetensors::Dtype::F32 {
            return Err(Error::format(
                path,
                format!(
                    "{name}: tensor '{k}' has dtype {:?}, expected F32",
                    v.dtype()
                ),
            ));
        }
        let data: Vec<f32> = v
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let t = Tensor::new(v.shape(), data)
            .map_err(|e| Error::format(path, format!("{name}: tensor '{k}': {e}")))?;
        out.insert(k, t);
    }
    Ok(out)
}

fn from_bytes_inner(bytes: &[u8], path: &Path) -> Result<(Model, Extras)> {
    let fmt = |m: String| Error::format(path, m);
    let (manifest, mut zip) = read_manifest(bytes, path)?;
    let need = |zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str| -> Result<Vec<u8>> {
        entry(zip, &manifest, name, path)?.ok_or_else(|| fmt(format!("the archive has no {name}")))
    };
    for name in manifest.entries.keys() {
        if zip.by_name(name).is_err() {
            return Err(fmt(format!(
                "the manifest lists {name} but the archive lacks it"
            )));
        }
    }
    let mj = json_entry(&need(&mut zip, "model.json")?, "model.json", path)?;
    let config = mj
        .get("config")
        .ok_or_else(|| fmt("model.json has no 'config'".into()))?;
    let mut model = Model::from_keras_config(config, 0).map_err(|e| {
        fmt(format!(
            "model.json: the architecture cannot be built: {}",
            e.detail()
        ))
    })?;

    // weights
    let weights = read_tensors(
        &need(&mut zip, "weights.safetensors")?,
        "weights.safetensors",
        path,
    )?;
    let index = mj
        .get("weights")
        .and_then(Value::as_array)
        .ok_or_else(|| fmt("model.json has no 'weights' index".into()))?;
    let mut expected = 0usize;
    for n in model.nodes_mut() {
        let lname = n.name.clone();
        for (i, p) in n.layer.params_mut().into_iter().enumerate() {
            let key = weight_key(&lname, i, &p.name);
            let t = weights.get(&key).ok_or_else(|| {
                fmt(format!(
                    "weights.safetensors lacks '{key}' (layer '{lname}')"
                ))
            })?;
            p.set(&lname, t).map_err(|e| fmt(e.detail()))?;
            let meta = index
                .iter()
                .find(|w| w.get("key").and_then(Value::as_str) == Some(key.as_str()))
                .ok_or_else(|| fmt(format!("model.json's weight index lacks '{key}'")))?;
            if let Some(tr) = meta.get("trainable").and_then(Value::as_bool) {
                p.trainable = tr;
            }
            expected += 1;
        }
    }
    if expected != weights.len() || expected != index.len() {
        return Err(fmt(format!(
            "the model has {expected} weight tensors but the file holds {} ({} indexed)",
            weights.len(),
            index.len()
        )));
    }
    // run-time state, random stream, loss
    if let Some(rs) = mj.get("runtime_state").and_then(Value::as_object) {
        for (lname, st) in rs {
            let node = model
                .nodes_mut()
                .iter_mut()
                .find(|n| &n.name == lname)
                .ok_or_else(|| fmt(format!("run-time state for unknown layer '{lname}'")))?;
            node.layer
                .set_runtime_state(st)
                .map_err(|e| fmt(format!("layer '{lname}' run-time state: {}", e.detail())))?;
        }
    }
    let rng: Rng = serde_json::from_value(mj.get("rng").cloned().unwrap_or(Value::Null))
        .map_err(|e| fmt(format!("model.json 'rng': {e}")))?;
    model.set_rng(rng);
    let loss: Option<Loss> = serde_json::from_value(mj.get("loss").cloned().unwrap_or(Value::Null))
        .map_err(|e| fmt(format!("model.json 'loss': {e}")))?;

    // optimiser
    let optimizer = match entry(&mut zip, &manifest, "optimizer.json", path)? {
        None => None,
        Some(b) => {
            let oj = json_entry(&b, "optimizer.json", path)?;
            let mut opt: Optimizer =
                serde_json::from_value(oj.get("optimizer").cloned().unwrap_or(Value::Null))
                    .map_err(|e| fmt(format!("optimizer.json: {e}")))?;
            let per: Vec<usize> = serde_json::from_value(
                oj.get("slots_per_variable").cloned().unwrap_or(Value::Null),
            )
            .map_err(|e| fmt(format!("optimizer.json 'slots_per_variable': {e}")))?;
            let mut slots_t = read_tensors(
                &need(&mut zip, "optimizer.safetensors")?,
                "optimizer.safetensors",
                path,
            )?;
            let trainable: Vec<usize> = model
                .params()
                .iter()
                .filter(|(_, p)| p.trainable)
                .map(|(_, p)| p.value.len())
                .collect();
            if !per.is_empty() && per.len() != trainable.len() {
                return Err(fmt(format!(
                    "the optimiser state covers {} variables but the model has {} trainable ones",
                    per.len(),
                    trainable.len()
                )));
            }
            let mut slots = Vec::with_capacity(per.len());
            for (v, &ns) in per.iter().enumerate() {
                let mut ss = Vec::with_capacity(ns);
                for s in 0..ns {
                    let t = slots_t
                        .remove(&format!("{v}/{s}"))
                        .ok_or_else(|| fmt(format!("optimizer.safetensors lacks slot {v}/{s}")))?;
                    if t.len() != trainable[v] {
                        return Err(fmt(format!(
                            "optimiser slot {v}/{s} has {} values, the variable {}",
                            t.len(),
                            trainable[v]
                        )));
                    }
                    ss.push(t.data);
                }
                slots.push(ss);
            }
            if !slots_t.is_empty() {
                return Err(fmt(format!(
                    "optimizer.safetensors holds {} tensors not listed in optimizer.json",
                    slots_t.len()
                )));
            }
            opt.slots = slots;
            Some(opt)
        }
    };
    match (optimizer, loss) {
        (Some(o), Some(l)) => model.compile(o, l),
        (None, None) => {}
        (Some(o), None) => model.optimizer = Some(o),
        (None, Some(l)) => model.loss = Some(l),
    }
    let mut extras = Extras::default();
    for (name, slot) in [
        ("data.json", &mut extras.data),
        ("history.json", &mut extras.history),
        ("train.json", &mut extras.train),
    ] {
        if let Some(b) = entry(&mut zip, &manifest, name, path)? {
            *slot = Some(json_entry(&b, name, path)?);
        }
    }
    if let Some(b) = entry(&mut zip, &manifest, "extra.safetensors", path)? {
        extras.tensors = read_tensors(&b, "extra.safetensors", path)?;
    }
    Ok((model, extras))
}

/// Reads only the manifest (format and library versions, entries) of a native file.
pub fn read_manifest_file(path: impl AsRef<Path>) -> Result<Manifest> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(read_manifest(&bytes, path)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sequential;
    use crate::nn::{Dense, LSTM};

    fn small() -> Model {
        let mut m = Sequential::new(&[3, 2])
            .add(LSTM::new(3))
            .add(Dense::new(1))
            .build(4)
            .unwrap();
        m.compile(Optimizer::adam(0.01), Loss::Mse);
        m.train_on_batch(&Tensor::zeros(&[2, 3, 2]), &Tensor::zeros(&[2, 1]))
            .unwrap();
        m
    }

    #[test]
    fn newer_and_zero_versions_are_refused_by_name() {
        let p = Path::new("v.lstmkit");
        for v in [2, 99, 0] {
            let b = to_bytes_versioned(&small(), &Extras::default(), v).unwrap();
            let e = match from_bytes(&b, p) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("version {v} loaded"),
            };
            assert!(
                e.contains("wrong format version") && e.contains(&format!("version {v}")),
                "{e}"
            );
        }
        let b = to_bytes_versioned(&small(), &Extras::default(), FORMAT_VERSION).unwrap();
        assert!(from_bytes(&b, p).is_ok());
    }

    #[test]
    fn the_output_is_deterministic() {
        let m = small();
        assert_eq!(
            to_bytes(&m, &Extras::default()).unwrap(),
            to_bytes(&m, &Extras::default()).unwrap()
        );
    }
}
