//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared/fixtures/keras` (or `LSTMKIT_FIXTURES`): Keras' saved models,
/// inputs and outputs.
pub fn fixtures() -> PathBuf {
    if let Some(p) = std::env::var_os("LSTMKIT_FIXTURES") {
        return PathBuf::from(p);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/fixtures/keras"))
        .find(|p| p.exists())
        .unwrap_or_else(|| here.join("../shared/fixtures/keras"))
}

/// A file of `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The built `lstmkit` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lstmkit"))
}

/// A fresh, empty temporary folder for test `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lstmkit-e2e-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `cmd`, printing its output when it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the lstmkit binary runs");
    if !out.status.success() {
        eprintln!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}
