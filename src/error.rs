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
    /// The message without the variant's prefix (`shape mismatch: `,
    /// `invalid configuration: `, `data error: `, `training error: `), for
    /// quoting one error inside another's message. [`Error::Io`] and
    /// [`Error::Format`] keep their whole text: their prefix is the file.
    pub fn detail(&self) -> String {
        match self {
            Error::Shape(s)
            | Error::Config(s)
            | Error::Data(s)
            | Error::Training(s)
            | Error::Other(s) => s.clone(),
            Error::Io { .. } | Error::Format { .. } => self.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_drops_the_category_prefix_but_keeps_the_file() {
        let cases = [
            (Error::Shape("a: 1".into()), "shape mismatch: a: 1"),
            (Error::Config("b".into()), "invalid configuration: b"),
            (Error::Data("c".into()), "data error: c"),
            (Error::Training("d".into()), "training error: d"),
            (Error::Other("e".into()), "e"),
        ];
        let details = ["a: 1", "b", "c", "d", "e"];
        for ((e, full), detail) in cases.into_iter().zip(details) {
            assert_eq!(e.to_string(), full);
            assert_eq!(e.detail(), detail);
        }
        let f = Error::format("m.keras", "truncated");
        assert_eq!(f.detail(), "model file m.keras: truncated");
        let io = Error::io("x.npy", std::io::Error::other("gone"));
        assert_eq!(io.detail(), "x.npy: gone");
    }
}
