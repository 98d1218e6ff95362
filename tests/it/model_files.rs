//! Keras model files beyond the fixtures: Sequential models, layer outputs by
//! index and `initial_state`, the tf.keras 2 `.h5` layout, and corrupt,
//! truncated or foreign files (errors, never panics).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{data, fixtures};
use lstmkit::io::{load_model, load_model_bytes, npy};
use lstmkit::{Error, Model};

fn parity(model_path: &Path, x: &Path, y: &Path) -> f32 {
    let mut m = load_model(model_path).unwrap_or_else(|e| panic!("{}: {e}", model_path.display()));
    let x = npy::read(x).unwrap();
    let y = npy::read(y).unwrap();
    let p = m.predict(&x).unwrap();
    assert_eq!(p.shape, y.shape);
    let d = p.max_abs_diff(&y);
    println!("{}: max |Δ| = {d:.3e}", model_path.display());
    d
}

#[test]
fn keras3_sequential_both_formats() {
    for f in ["seq.keras", "seq.h5"] {
        let d = parity(&data(f), &data("seq_x.npy"), &data("seq_y.npy"));
        assert!(d <= 1e-5, "{f}: {d}");
    }
    let m = load_model(data("seq.keras")).unwrap();
    assert_eq!(m.name, "seq");
    assert_eq!(m.input_shape(), &[6, 2]);
}

#[test]
fn return_state_initial_state_frozen_layer_both_formats() {
    for f in ["states.keras", "states.h5"] {
        let d = parity(&data(f), &data("states_x.npy"), &data("states_y.npy"));
        assert!(d <= 1e-5, "{f}: {d}");
        let m = load_model(data(f)).unwrap();
        assert_eq!(m.input_name, "series");
        let last = m.nodes().iter().find(|n| n.name == "last").unwrap();
        assert!(last.layer.params().iter().all(|p| !p.trainable), "{f}");
        let dec = m.nodes().iter().find(|n| n.name == "dec").unwrap();
        assert_eq!(dec.inputs.len(), 3);
        assert!(dec.layer.params()[0].regularizer.is_some());
    }
}

#[test]
fn tf_keras2_h5_layout_with_colon_suffixes() {
    let Some(fx) = fixtures() else {
        return;
    };
    let a = fx.join("a_lstm_tanh");
    let d = parity(
        &data("tfkeras2_lstm.h5"),
        &a.join("x.npy"),
        &a.join("y.npy"),
    );
    assert!(d <= 1e-5, "{d}");
}

#[test]
fn to_keras_config_round_trips_imported_models() {
    let Some(root) = fixtures() else {
        return;
    };
    let mut files = vec![
        data("seq.keras"),
        data("states.keras"),
        data("tfkeras2_lstm.h5"),
        data("layers_mix.keras"),
    ];
    for case in [
        "a_lstm_tanh",
        "b_lstm_relu",
        "c_stacked_lstm",
        "d_bilstm_concat",
        "e_lstm_attention",
        "f_gru",
        "g_lstm_dropout_bn_dense4",
        "h_train_trajectory",
    ] {
        files.push(root.join(case).join("model.keras"));
    }
    for f in files {
        let m = load_model(&f).unwrap();
        let cfg = m.to_keras_config();
        let mut m2 = Model::from_keras_config(&cfg, 5).unwrap();
        assert_eq!(m2.to_keras_config(), cfg, "{}", f.display());
        m2.set_weights(&m.get_weights()).unwrap();
        assert_eq!(m2.get_weights(), m.get_weights());
    }
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn expect_format_error(bytes: Vec<u8>, what: &str) -> String {
    let name = format!("/tmp/{what}");
    match load_model_bytes(bytes, Path::new(&name)) {
        Ok(_) => panic!("{what}: loaded without error"),
        Err(e @ Error::Format { .. }) => {
            let s = e.to_string();
            assert!(
                s.contains(&name),
                "{what}: the message does not name the file: {s}"
            );
            s
        }
        Err(e) => panic!("{what}: expected a format error, got {e}"),
    }
}

#[test]
fn corrupt_truncated_and_foreign_files_are_errors_not_panics() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        prev(info);
    }));
    let Some(fx) = fixtures() else {
        return;
    };
    let a = fx.join("a_lstm_tanh");
    for file in ["model.keras", "model.h5"] {
        let bytes = std::fs::read(a.join(file)).unwrap();
        let n = bytes.len();
        // truncation at every 1/16 of the length (and a few bytes short of the end)
        for k in 0..16 {
            let cut = n * k / 16;
            expect_format_error(bytes[..cut].to_vec(), &format!("{file}@{cut}of{n}"));
        }
        for short in [1, 7, 100] {
            expect_format_error(
                bytes[..n - short].to_vec(),
                &format!("{file}@{}of{n}", n - short),
            );
        }
        // flipped bytes: an error, or (for a flip that lands in bytes no reader
        // depends on, or in raw .h5 weight data, which HDF5 does not checksum) a
        // model that still loads; never a panic
        let mut errors = 0;
        let mut total = 0;
        for k in 0..97 {
            let pos = (n - 1) * k / 96;
            let mut b = bytes.clone();
            b[pos] ^= 0xA5;
            total += 1;
            if load_model_bytes(b, Path::new(file)).is_err() {
                errors += 1;
            }
        }
        println!("{file}: {errors} of {total} byte flips detected as errors");
        if file.ends_with(".keras") {
            // the zip's CRC-32 covers config.json and model.weights.h5
            assert!(
                errors * 10 >= total * 8,
                "{file}: only {errors}/{total} flips detected"
            );
        }
    }
    // foreign files
    let e = expect_format_error(b"timestamp,value\n1,2\n".to_vec(), "data.csv");
    assert!(e.contains("not a model file"), "{e}");
    expect_format_error(Vec::new(), "empty.keras");
    expect_format_error(std::fs::read(a.join("x.npy")).unwrap(), "x.npy");
    // a zip that is not a Keras model
    let mut zbuf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut zbuf);
        z.start_file("hello.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, b"hi").unwrap();
        z.finish().unwrap();
    }
    let e = expect_format_error(zbuf.into_inner(), "other.zip");
    assert!(e.contains("config.json"), "{e}");
    // an HDF5 file that is not a Keras model (a .keras weights file alone)
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(a.join("model.keras")).unwrap()).unwrap();
    let mut w = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("model.weights.h5").unwrap(), &mut w).unwrap();
    let e = expect_format_error(w, "weights.h5");
    assert!(e.contains("model_config"), "{e}");
    // missing file, directory
    assert!(matches!(
        load_model("/nonexistent/m.keras"),
        Err(Error::Io { .. })
    ));
    assert!(load_model(std::env::temp_dir()).is_err());
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a loader panicked");
}
