//! Every command line of the README, run as written, in order, on a temporary
//! copy of the repository's `examples/` and `data/`: the first set-up line
//! (`cargo run --release -- train`, run as `lstmkit train`) and each line of
//! the "Command line" section, so that each command works on the outputs of
//! the ones before it (the README's resume line on the README's own run).
//! The one file the README takes as given, `x.npy` (windows of CO₂ values in
//! ppm, shape (n, 10, 1)), is written here.

use std::path::{Path, PathBuf};

use crate::common::{bin, run, temp_dir};
use lstmkit::io::npy;
use lstmkit::Tensor;

/// The README's command lines: `lstmkit ...` argument lists, in order.
fn readme_commands(readme: &str) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let section = |title: &str| -> Vec<&str> {
        let Some(at) = readme.find(title) else {
            panic!("the README has no '{title}'");
        };
        let rest = &readme[at + title.len()..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        rest[..end]
            .lines()
            .filter(|l| l.starts_with("    "))
            .map(str::trim)
            .collect()
    };
    let first_block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("    "))
        .take_while(|l| l.starts_with("    "))
        .map(str::trim)
        .collect();
    let lines = first_block
        .into_iter()
        .filter_map(|l| {
            l.strip_prefix("cargo run --release -- ")
                .map(|r| format!("lstmkit {r}"))
        })
        .chain(section("## Command line\n").into_iter().map(String::from));
    for line in lines {
        // a comment starts at " # " (no argument here holds one)
        let code = line.split(" # ").next().unwrap_or(&line).trim();
        for part in code.split(" && ") {
            let words: Vec<String> = part.split_whitespace().map(String::from).collect();
            assert_eq!(words[0], "lstmkit", "not an lstmkit command: {line}");
            cmds.push(words[1..].to_vec());
        }
    }
    cmds
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn history_rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("history.csv"))
        .unwrap()
        .lines()
        .count()
        - 1
}

#[test]
fn every_readme_command_runs_as_written() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cmds = readme_commands(&readme);
    assert!(cmds.len() >= 12, "{cmds:?}");
    let dir = temp_dir("readme");
    for d in ["examples", "data"] {
        copy_dir(&root.join(d), &dir.join(d));
    }
    // x.npy: the last 4 windows of 10 weekly CO₂ values, in ppm
    let co2: Vec<f32> = std::fs::read_to_string(root.join("data/co2_weekly.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1)?.trim().parse().ok())
        .collect();
    let n = co2.len();
    let x: Vec<f32> = (0..4)
        .flat_map(|i| co2[n - 13 + i..n - 3 + i].to_vec())
        .collect();
    npy::write(dir.join("x.npy"), &Tensor::new(&[4, 10, 1], x).unwrap()).unwrap();

    let mut epochs_before_resume = None;
    for args in &cmds {
        let line = format!("lstmkit {}", args.join(" "));
        if args[0] == "train" && args.iter().any(|a| a == "--resume") {
            epochs_before_resume = Some(history_rows(&dir.join("runs/m1")));
        }
        let out = run(bin().args(args).current_dir(&dir));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{line}: {err}");
        assert!(out.status.success(), "{line} failed: {err}");
        // what the README says each line does
        if args[0] == "predict" {
            let y = npy::read(dir.join("y.npy")).unwrap();
            assert_eq!(y.shape, vec![4, 1], "{line}");
            assert!(
                y.data.iter().all(|v| (300.0..500.0).contains(v)),
                "{line}: not in ppm: {:?} ({err})",
                y.data
            );
        }
    }
    let before = epochs_before_resume.expect("the README resumes a run");
    let after = history_rows(&dir.join("runs/m1"));
    assert!(
        after > before,
        "the resume trained no epoch ({before} → {after})"
    );
    for f in ["lstmkit-out/model.lstmkit", "m1.keras", "lstmkit-tune/s1"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn readme_commands_are_read_with_their_chains_and_without_comments() {
    let text = "# t\n\n    cargo run --release -- train   # c\n    bash x.sh\n\n## Command line\n\n    lstmkit a --b c && lstmkit d   # e # f\n    lstmkit g\n\nprose\n\n## Next\n\n    lstmkit never\n";
    let got = readme_commands(text);
    assert_eq!(
        got,
        vec![vec!["train"], vec!["a", "--b", "c"], vec!["d"], vec!["g"]]
    );
}
