//! What a model file is, decided in one place. [`load`] reads every model
//! file lstmkit knows, by its content whatever its extension:
//!
//! | format | recognised by | data pipeline |
//! |---|---|---|
//! | native `.lstmkit` ([`super::native`]) | zip whose first entry is `manifest.json`, or ending with the lstmkit checksum | when saved with one (`lstmkit train` does) |
//! | `lstmkit train`'s JSON model file | JSON object | always |
//! | Keras 3 `.keras` ([`super::keras_zip`]) | any other zip | none |
//! | legacy Keras `.h5` ([`super::h5_legacy`]) | HDF5 signature | none |
//!
//! A folder stands for the `model.lstmkit` in it (what `lstmkit train --out
//! DIR` writes). Every command that reads a model (`predict`, `evaluate`,
//! `forecast`, `export`) goes through [`load`]; a corrupt, truncated or
//! foreign file gives an [`Error::Format`] naming the file and the problem.

use std::path::{Path, PathBuf};

use crate::data::{DataSpec, Pipeline};
use crate::error::{Error, Result};
use crate::model::Model;

use super::native::{self, Extras};
use super::{h5_legacy, keras_zip};

/// The first bytes of a zip archive.
pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The HDF5 signature (at offset 0, 512, 1024, 2048, ... when a user block precedes it).
pub const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";
/// The model file in a folder written by `lstmkit train --out DIR`.
pub const FOLDER_MODEL: &str = "model.lstmkit";

/// What a file is, judged by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A zip archive (native `.lstmkit` or Keras `.keras`).
    Zip,
    /// An HDF5 file (legacy Keras `.h5`).
    Hdf5,
    /// A JSON object (`lstmkit train`'s JSON model file).
    Json,
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
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return FileKind::Json;
    }
    FileKind::Unknown
}

/// The format a model file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFormat {
    /// lstmkit's native file ([`super::native`]).
    Native,
    /// The JSON model file of `lstmkit train` ([`crate::experiment::SavedModel`]).
    Json,
    /// A Keras 3 `.keras` archive.
    Keras,
    /// A legacy Keras `.h5` file (Keras 3 or tf.keras 2).
    KerasH5,
}

impl ModelFormat {
    /// The format in words, for messages ("a Keras .keras file").
    pub fn describe(self) -> &'static str {
        match self {
            ModelFormat::Native => "an lstmkit native file",
            ModelFormat::Json => "an lstmkit JSON model file",
            ModelFormat::Keras => "a Keras .keras file",
            ModelFormat::KerasH5 => "a legacy Keras .h5 file",
        }
    }
}

/// A model file as [`load`] read it.
pub struct Loaded {
    /// The file read (`DIR/model.lstmkit` for a folder `DIR`).
    pub path: PathBuf,
    /// What the file was.
    pub format: ModelFormat,
    /// The model, compiled with its saved optimiser state when a native file holds one.
    pub model: Model,
    /// The fitted data pipeline (scalers, window geometry, differencing) when
    /// the file holds one: native files written with it, the JSON model file.
    pub pipeline: Option<Pipeline>,
    /// What the file holds besides the model: a native file's extras, the
    /// JSON model file's pipeline as a data blob; empty for Keras files.
    pub extras: Extras,
}

impl Loaded {
    /// Checks that `pipeline` (described by `source`, e.g. "the [data] section
    /// of exp.toml") makes the windows the model takes and needs as many
    /// values per window as the model outputs; the error names the file.
    pub fn check_pipeline(&self, pipeline: &Pipeline, source: &str) -> Result<()> {
        let want = self.model.input_shape();
        let got = pipeline.input_shape();
        let fits = want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| *w == 0 || w == g);
        if !fits {
            return Err(Error::format(
                &self.path,
                format!(
                    "the model takes windows of shape {want:?} (timesteps, features), but {source} makes {got:?}"
                ),
            ));
        }
        let out: usize = self.model.output_shape().iter().product();
        if out != pipeline.output_width() {
            return Err(Error::format(
                &self.path,
                format!(
                    "the model outputs {out} value(s) per window, but {source} needs {} (horizon {} x {} target(s))",
                    pipeline.output_width(),
                    pipeline.window.horizon,
                    pipeline.n_targets()
                ),
            ));
        }
        Ok(())
    }
}

impl Loaded {
    /// Where the data the model was trained on lives: the `[data]` section it
    /// was trained with and the folder its relative path is resolved from
    /// (native files written by `lstmkit train` or `lstmkit tune`, the JSON
    /// model file), or `None` when the file does not say (Keras files, a
    /// native file saved without it).
    pub fn data_source(&self) -> Result<Option<(DataSpec, PathBuf)>> {
        let spec = self
            .extras
            .data_spec()
            .map_err(|e| Error::format(&self.path, e.detail()))?;
        let Some(spec) = spec else {
            return Ok(None);
        };
        let base = self
            .extras
            .train
            .as_ref()
            .and_then(|t| t.get("base_dir"))
            .and_then(serde_json::Value::as_str)
            .map(PathBuf::from);
        let bundled = spec
            .path
            .to_str()
            .is_some_and(|p| p.starts_with("bundled:"));
        Ok(match base {
            Some(b) => Some((spec, b)),
            None if bundled || spec.path.is_absolute() => Some((spec, PathBuf::from("."))),
            None => None,
        })
    }
}

/// The file that `path` names: `path` itself, or `path/model.lstmkit` for a folder.
pub fn model_file(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let file = path.join(FOLDER_MODEL);
    if file.is_file() {
        Ok(file)
    } else {
        Err(Error::format(
            path,
            format!(
                "a folder, not a model file, and it holds no {FOLDER_MODEL} (the file `lstmkit train` writes in its --out folder)"
            ),
        ))
    }
}

/// Reads the model file at `path` (or the `model.lstmkit` of the folder
/// `path`), whatever its format (see the module documentation).
pub fn load(path: impl AsRef<Path>) -> Result<Loaded> {
    let path = model_file(path.as_ref())?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    load_bytes(bytes, &path)
}

/// [`load`] on bytes already in memory; `path` names them in errors.
pub fn load_bytes(bytes: Vec<u8>, path: &Path) -> Result<Loaded> {
    if bytes.is_empty() {
        return Err(Error::format(path, "the file is empty"));
    }
    // The decoders are hardened against malformed input; this is a last line
    // of defence so that a decoder bug still surfaces as an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(bytes, path))).unwrap_or_else(
        |_| {
            Err(Error::format(
                path,
                "the file is corrupt (the decoder failed on malformed data)",
            ))
        },
    )
}

fn dispatch(bytes: Vec<u8>, path: &Path) -> Result<Loaded> {
    let loaded = |format, model, pipeline, extras| Loaded {
        path: path.to_path_buf(),
        format,
        model,
        pipeline,
        extras,
    };
    match sniff(&bytes) {
        FileKind::Zip if native::is_native(&bytes) => {
            let (model, extras) = native::from_bytes(&bytes, path)?;
            let pipeline = extras
                .pipeline()
                .map_err(|e| Error::format(path, e.detail()))?;
            Ok(loaded(ModelFormat::Native, model, pipeline, extras))
        }
        FileKind::Zip => {
            let model = keras_zip::load_bytes(bytes, path)?;
            Ok(loaded(ModelFormat::Keras, model, None, Extras::default()))
        }
        FileKind::Hdf5 => {
            let model = h5_legacy::load_bytes(bytes, path)?;
            Ok(loaded(ModelFormat::KerasH5, model, None, Extras::default()))
        }
        FileKind::Json => {
            let saved = crate::experiment::SavedModel::from_slice(&bytes, path)?;
            let model = saved.model().map_err(|e| {
                Error::format(path, format!("the model cannot be rebuilt: {}", e.detail()))
            })?;
            let extras = Extras {
                data: Some(Extras::data_blob(saved.data.as_ref(), &saved.pipeline)),
                ..Extras::default()
            };
            Ok(loaded(ModelFormat::Json, model, Some(saved.pipeline), extras))
        }
        FileKind::Unknown => Err(Error::format(
            path,
            format!(
                "not a model file: expected an lstmkit model (native or JSON), a Keras .keras (zip) \
                 or .h5 (HDF5) file, the file starts with {}",
                describe_start(&bytes)
            ),
        )),
    }
}

/// [`load`]'s model alone: for inference or further training.
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    load(path).map(|l| l.model)
}

/// [`load_bytes`]'s model alone.
pub fn load_model_bytes(bytes: Vec<u8>, path: &Path) -> Result<Model> {
    load_bytes(bytes, path).map(|l| l.model)
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
        assert_eq!(sniff(b" \n{\"format\": 1}"), FileKind::Json);
        assert_eq!(sniff(b"[1, 2]"), FileKind::Unknown);
        assert_eq!(sniff(b"hello world"), FileKind::Unknown);
        assert_eq!(sniff(b""), FileKind::Unknown);
    }

    fn err(r: Result<Loaded>) -> Error {
        match r {
            Ok(l) => panic!("{} loaded as {:?}", l.path.display(), l.format),
            Err(e) => e,
        }
    }

    #[test]
    fn foreign_json_and_folders_are_format_errors_naming_the_path() {
        let p = Path::new("cfg.json");
        let e = err(load_bytes(b"{\"a\": 1}".to_vec(), p));
        assert!(matches!(e, Error::Format { .. }), "{e}");
        assert!(
            e.to_string().contains("cfg.json")
                && e.to_string().contains("not an lstmkit model file"),
            "{e}"
        );
        let e = err(load_bytes(b"{\"format\": ".to_vec(), p));
        assert!(e.to_string().contains("cfg.json"), "{e}");
        let dir = crate::test_tmp_root().join(format!("lstmkit-load-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = err(load(&dir));
        assert!(
            e.to_string().contains(FOLDER_MODEL) && e.to_string().contains("folder"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
