//! Valid but absurd inputs are refused with a clear error before anything
//! large is allocated (src/model/memory.rs): a layer of 100000 units, a
//! `.npy` header claiming 10^12 values, a `.keras` zip member bigger than
//! the memory allowed, a legacy `.h5` model bigger than the memory allowed.
//! (An HDF5 dataset's declared shape is checked by `memory::check_array`
//! before it is read: src/io/h5util.rs.)
//! The children get `LSTMKIT_MEMORY_LIMIT` so the result does not depend on
//! the machine.

use std::process::Command;

use crate::common::{data, temp_dir};

fn lstmkit(args: &[&str], limit: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lstmkit"))
        .args(args)
        .env("LSTMKIT_MEMORY_LIMIT", limit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_layer_of_100000_units_is_refused_naming_the_layer() {
    let dir = temp_dir("mem-units");
    let csv = dir.join("s.csv");
    let mut text = String::from("y\n");
    for i in 0..60 {
        text.push_str(&format!("{}\n", (i as f64 * 0.3).sin()));
    }
    std::fs::write(&csv, text).unwrap();
    let exp = dir.join("big.toml");
    std::fs::write(
        &exp,
        "[data]\npath = \"s.csv\"\ntarget = \"y\"\ntimesteps = 5\n\n\
         [[layers]]\ntype = \"lstm\"\nunits = 100000\n\n[[layers]]\ntype = \"dense\"\nunits = 1\n",
    )
    .unwrap();
    let out = dir.join("out");
    let t = std::time::Instant::now();
    let (code, err) = lstmkit(
        &[
            "train",
            "--config",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "12G",
    );
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("layer 'lstm' (LSTM"), "{err}");
    assert!(err.contains("needs an estimated"), "{err}");
    assert!(err.contains("LSTMKIT_MEMORY_LIMIT"), "{err}");
    println!("refused in {:.2?}: {err}", t.elapsed());
}

#[test]
fn a_npy_header_claiming_10_to_the_12_values_is_refused() {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }";
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(&[0u8; 64]);
    let err = lstmkit::io::npy::from_bytes(&b, "huge.npy")
        .unwrap_err()
        .to_string();
    assert!(err.contains("huge.npy"), "{err}");
    assert!(err.contains("4000000000000"), "{err}");
}

#[test]
fn a_keras_member_bigger_than_the_memory_allowed_is_refused() {
    let dir = temp_dir("mem-keras");
    let out = dir.join("y.npy");
    let (code, err) = lstmkit(
        &[
            "predict",
            "--model",
            data("seq.keras").to_str().unwrap(),
            "--input",
            data("seq_x.npy").to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        "1K",
    );
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("seq.keras"), "{err}");
    assert!(err.contains("needs an estimated"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_legacy_h5_model_bigger_than_the_memory_allowed_is_refused() {
    let dir = temp_dir("mem-h5");
    let out = dir.join("y.npy");
    // the layer estimate (from model_config, before any weight is read) refuses it
    for limit in ["1", "1K"] {
        let (code, err) = lstmkit(
            &[
                "predict",
                "--model",
                data("seq.h5").to_str().unwrap(),
                "--input",
                data("seq_x.npy").to_str().unwrap(),
                "--output",
                out.to_str().unwrap(),
            ],
            limit,
        );
        assert_ne!(code, 0, "{err}");
        assert!(err.contains("seq.h5"), "{err}");
        assert!(err.contains("needs an estimated"), "{err}");
    }
    assert!(!out.exists());
}
