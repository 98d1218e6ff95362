//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared/fixtures/keras` (or `LSTMKIT_FIXTURES`): Keras' saved models,
/// inputs and outputs. Absent (a clone without `../shared` beside it), the
/// tests that need them skip with a printed reason — except in CI
/// (`CI` set), where the fixtures are part of the set-up and their absence
/// is a failure.
pub fn fixtures() -> Option<PathBuf> {
    let p = match std::env::var_os("LSTMKIT_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => {
            let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            here.ancestors()
                .map(|a| a.join("shared/fixtures/keras"))
                .find(|p| p.exists())
                .unwrap_or_else(|| here.join("../shared/fixtures/keras"))
        }
    };
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the Keras fixtures are missing at {} (CI must have ../shared beside the repository)",
        p.display()
    );
    eprintln!(
        "skipped: no Keras fixtures at {} (clone the repository beside ../shared, or set LSTMKIT_FIXTURES)",
        p.display()
    );
    None
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

/// Where the tests write their files: cargo's `target/tmp`
/// (`CARGO_TARGET_TMPDIR`), never the system's temporary folder, which a test
/// run must not litter (`tests/it/hygiene.rs` checks).
pub fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A fresh, empty temporary folder for test `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = crate::common::tmp_root().join(format!("lstmkit-e2e-{tag}-{}", std::process::id()));
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
