//! `lstmkit predict` end to end: the real binary on the Keras fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::fixtures;
use lstmkit::io::npy;
use lstmkit::Tensor;

fn tmpdir(tag: &str) -> PathBuf {
    let d = crate::common::tmp_root().join(format!("lstmkit-predict-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn predict(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lstmkit"))
        .arg("predict")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn predicts_keras_and_h5_models_like_keras() {
    let dir = tmpdir("ok");
    let Some(fx) = fixtures() else {
        return;
    };
    let case = fx.join("c_stacked_lstm");
    let want = npy::read(case.join("y.npy")).unwrap();
    for (file, bs) in [("model.keras", "64"), ("model.h5", "5")] {
        let out = dir.join(format!("{file}.npy"));
        let (code, err) = predict(&[
            "--model",
            s(&case.join(file)),
            "--input",
            s(&case.join("x.npy")),
            "--output",
            s(&out),
            "--batch-size",
            bs,
        ]);
        assert_eq!(code, 0, "{err}");
        let got = npy::read(&out).unwrap();
        assert_eq!(got.shape, want.shape);
        let d = got.max_abs_diff(&want);
        println!("predict {file} --batch-size {bs}: max |Δ| = {d:.3e}");
        assert!(d <= 1e-5);
    }
    // the same model re-saved in lstmkit's native format
    let native = dir.join("model.lstmkit");
    let m = lstmkit::io::load_model(case.join("model.keras")).unwrap();
    lstmkit::io::native::save(&m, &native, &Default::default()).unwrap();
    let out = dir.join("native.npy");
    let (code, err) = predict(&[
        "--model",
        s(&native),
        "--input",
        s(&case.join("x.npy")),
        "--output",
        s(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    let d = npy::read(&out).unwrap().max_abs_diff(&want);
    println!("predict model.lstmkit: max |Δ| = {d:.3e}");
    assert!(d <= 1e-5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_inputs_give_clear_errors_and_no_output() {
    let dir = tmpdir("bad");
    let Some(fx) = fixtures() else {
        return;
    };
    let case = fx.join("a_lstm_tanh");
    let model = case.join("model.keras");
    let x = case.join("x.npy");
    let out = dir.join("y.npy");
    // wrong feature count
    let wrong = dir.join("wrong.npy");
    npy::write(&wrong, &Tensor::zeros(&[4, 10, 3])).unwrap();
    // 2-D input
    let flat = dir.join("flat.npy");
    npy::write(&flat, &Tensor::zeros(&[4, 10])).unwrap();
    // integer dtype
    let ints = dir.join("ints.npy");
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let h = "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 10, 1), }\n";
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(&[0u8; 40]);
    std::fs::write(&ints, b).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let missing = dir.join("missing.npy");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&wrong),
                "--output",
                s(&out),
            ],
            1,
            "(4, 10, 3)",
        ),
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&flat),
                "--output",
                s(&out),
            ],
            1,
            "expects (samples, 10, 1)",
        ),
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&ints),
                "--output",
                s(&out),
            ],
            1,
            "<i4",
        ),
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&text),
                "--output",
                s(&out),
            ],
            1,
            "notes.txt",
        ),
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&missing),
                "--output",
                s(&out),
            ],
            1,
            "missing.npy",
        ),
        (
            vec!["--model", s(&text), "--input", s(&x), "--output", s(&out)],
            1,
            "not a model file",
        ),
        (
            vec![
                "--model",
                s(&missing),
                "--input",
                s(&x),
                "--output",
                s(&out),
            ],
            1,
            "missing.npy",
        ),
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&x),
                "--output",
                "/nonexistent-dir/y.npy",
            ],
            1,
            "/nonexistent-dir/y.npy",
        ),
        (vec!["--model", s(&model), "--input", s(&x)], 2, "--output"),
        (
            vec![
                "--model",
                s(&model),
                "--input",
                s(&x),
                "--output",
                s(&out),
                "--batch-size",
                "0",
            ],
            2,
            "batch-size",
        ),
    ];
    for (args, want_code, want_msg) in cases {
        let (code, err) = predict(&args);
        assert_eq!(code, want_code, "{args:?}: {err}");
        assert!(
            err.contains(want_msg),
            "{args:?}: message lacks '{want_msg}': {err}"
        );
        assert!(!out.exists(), "{args:?}: an output file was written");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind");
        if want_code == 1 {
            assert!(err.starts_with("error: "), "{err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
