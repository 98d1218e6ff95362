//! Things a user notices around the crate rather than in it: test runs do
//! not litter the system's temporary folder, and the release binary ships
//! without debug info (a `profiling` profile keeps it for perf).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every test writes under cargo's `target/tmp` (`common::tmp_root`, the
/// crate's `test_tmp_root`): no source file builds a path in the system's
/// temporary folder.
#[test]
fn tests_write_under_target_not_the_system_temp_folder() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    let needle = ["std::env::temp_dir()", ".join("].concat();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f).unwrap().lines().any(|l| {
                let code = l.trim_start();
                // documentation examples run as their own crate and clean up
                !code.starts_with("//!") && !code.starts_with("///") && code.contains(&needle)
            })
        })
        .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "paths in the system temp folder: {offenders:?}"
    );
}

#[test]
fn release_is_stripped_and_profiling_keeps_debug_info() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let doc: toml::Value = toml::from_str(&text).unwrap();
    let profile = |name: &str| {
        doc["profile"]
            .get(name)
            .unwrap_or_else(|| panic!("no [profile.{name}]"))
    };
    let release = profile("release");
    assert_eq!(
        release.get("strip").and_then(|v| v.as_str()),
        Some("symbols")
    );
    assert!(
        matches!(
            release.get("debug"),
            None | Some(toml::Value::Boolean(false)) | Some(toml::Value::Integer(0))
        ),
        "{release:?}"
    );
    let prof = profile("profiling");
    assert_eq!(prof["inherits"].as_str(), Some("release"));
    assert!(matches!(
        prof.get("debug"),
        Some(toml::Value::Integer(1..)) | Some(toml::Value::Boolean(true))
    ));
    assert_eq!(prof.get("strip").and_then(|v| v.as_str()), Some("none"));
}
