//! Memory and speed of a large panel: `N` synthetic series × `T` steps (default
//! 10,000 × 500) in one long frame, prepared with per-series scalers and
//! trained as one global LSTM for a few epochs. Prints the data's f32 size,
//! the windows' size, the model's, and seconds per epoch; measure the peak
//! RSS with `/usr/bin/time -v`:
//!
//! ```text
//! cargo build --release --example panel_memory
//! /usr/bin/time -v target/release/examples/panel_memory [--series N] [--steps T] [--epochs E] [--materialised]
//! ```
//!
//! By default the training windows are views into the series' rows
//! ([`prepare_frame_views`], [`Model::fit_source`](lstmkit::model::Model::fit_source));
//! `--materialised` builds the window tensors instead ([`prepare_frame`], `fit`),
//! for comparison.

use lstmkit::data::{prepare_frame, prepare_frame_views, DataSpec, Frame};
use lstmkit::model::Sequential;
use lstmkit::nn::{Dense, LSTM};
use lstmkit::train::{FitOptions, Loss, Optimizer};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> lstmkit::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (n_series, steps, epochs) = (
        arg(&args, "--series", 10_000),
        arg(&args, "--steps", 500),
        arg(&args, "--epochs", 2),
    );
    let mut y = Vec::with_capacity(n_series * steps);
    let mut ranges = Vec::with_capacity(n_series);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for s in 0..n_series {
        let start = y.len();
        let (level, amp, phase) = (
            10.0 + (s % 97) as f64,
            1.0 + (s % 13) as f64 * 0.3,
            s as f64 * 0.1,
        );
        for t in 0..steps {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            y.push(level + amp * ((t as f64) * 0.26 + phase).sin() + 0.2 * noise);
        }
        ranges.push((format!("s{s}"), start..y.len()));
    }
    let rows = y.len();
    let frame =
        Frame::from_columns("synthetic", vec![("y".into(), y)])?.with_series("id", ranges)?;
    let mut spec = DataSpec::new("synthetic", &["y"]);
    spec.id_column = Some("id".into());
    spec.timesteps = 10;
    spec.test_split = 0.2;
    let materialised = args.iter().any(|a| a == "--materialised");
    let t0 = std::time::Instant::now();
    let (p, views) = if materialised {
        (prepare_frame(&spec, frame)?, None)
    } else {
        let (p, v) = prepare_frame_views(&spec, frame)?;
        (p, Some(v))
    };
    let prep_s = t0.elapsed().as_secs_f64();
    let mut model = Sequential::new(&[10, 1])
        .add(LSTM::new(16))
        .add(Dense::new(1))
        .build(7)?;
    model.compile(Optimizer::adam(1e-3), Loss::Mse);
    let params: usize = model.get_weights().iter().map(|w| w.data.len()).sum();
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!(
        "{n_series} series x {steps} steps = {rows} rows; data f32 {:.1} MB; frame f64 {:.1} MB",
        mb(rows * 4),
        mb(rows * 8)
    );
    let (n_train, train_mb) = match &views {
        Some(v) => (v.train.len(), mb(v.bytes())),
        None => (
            p.train.len(),
            mb((p.train.x.data.len() + p.train.y.data.len()) * 4),
        ),
    };
    println!(
        "windows ({}): {n_train} train ({train_mb:.1} MB), {} test ({:.1} MB); model {params} parameters ({:.2} MB); prepared in {prep_s:.1} s",
        if materialised { "materialised" } else { "views" },
        p.test.len(),
        mb(p.test.x.data.len() * 4),
        mb(params * 4)
    );
    let opts = FitOptions::new().epochs(epochs).batch_size(1024).verbose(0);
    let h = match &views {
        Some(v) => model.fit_source(&v.train_set(), None, &opts, &mut [])?,
        None => model.fit(&p.train.x, &p.train.y, &opts)?,
    };
    let secs: Vec<String> = h.seconds.iter().map(|s| format!("{s:.1}")).collect();
    println!("seconds per epoch: {} (loss {:?})", secs.join(", "), h.loss);
    Ok(())
}
