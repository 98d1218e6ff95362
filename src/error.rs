//! The crate's error type: every failure a user can cause is a value, never a panic.

use std::path::PathBuf;

/// Errors returned by lstmkit. Each variant's message names the file, line,
/// layer or shape involved, so the CLI can print it as is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a named file.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Tensor shapes that do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A layer or model configuration that is invalid or unsupported.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Bad input data (CSV, arrays): NaN, missing cells, too-short series.
    #[error("data error: {0}")]
    Data(String),
    /// A model file that cannot be read: corrupt, truncated, foreign or of an unknown version.
    #[error("model file {path}: {msg}")]
    Format { path: String, msg: String },
    /// Training diverged or was stopped.
    #[error("training error: {0}")]
    Training(String),
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an `std::io::Error` with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// A format error for the file at `path`.
    pub fn format(path: impl AsRef<std::path::Path>, msg: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().display().to_string(),
            msg: msg.into(),
        }
    }
}
