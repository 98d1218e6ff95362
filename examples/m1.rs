//! The seed's univariate model m1 with the library API:
//! `LSTM(50, relu) → Dense(1)` on the bundled weekly CO₂ series, windows of
//! 10, MinMax scaling fitted on the training rows, Adam(1e-3), MSE,
//! 100 epochs max, batch 32, validation_split 0.2,
//! EarlyStopping(patience 10, restore best) + ReduceLROnPlateau(0.2, 5);
//! test metrics in ppm next to the naive forecast.
//!
//! ```text
//! cargo run --release --example m1 -- [--seed N] [--difference] [--quiet]
//! ```
//! `--difference` trains on weekly changes and reports levels.

use std::path::Path;

use lstmkit::data::{prepare, DataSpec};
use lstmkit::eval::evaluate;
use lstmkit::model::Sequential;
use lstmkit::nn::{Activation, Dense, LSTM};
use lstmkit::train::{EarlyStopping, FitOptions, Loss, Optimizer, ReduceLROnPlateau};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> lstmkit::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = match args.iter().position(|a| a == "--seed") {
        Some(i) => args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| lstmkit::Error::Config("--seed needs an integer".into()))?,
        None => 42,
    };
    let difference = args.iter().any(|a| a == "--difference");
    let quiet = args.iter().any(|a| a == "--quiet");

    let mut spec = DataSpec::new("bundled:co2", &["co2"]);
    spec.time_column = Some("date".into());
    spec.timesteps = 10;
    spec.test_split = 0.2;
    spec.validation_split = 0.2;
    spec.difference = usize::from(difference);
    let p = prepare(&spec, Path::new("."))?;
    println!("{}", p.describe());

    let mut model = Sequential::new(&p.pipeline.input_shape())
        .add(LSTM::new(50).activation(Activation::Relu))
        .add(Dense::new(1))
        .build(seed)?;
    model.compile(Optimizer::adam(1e-3), Loss::Mse);
    println!("{}", model.summary());

    let opts = FitOptions::new()
        .epochs(100)
        .batch_size(32)
        .seed(seed)
        // one shuffle reused every epoch, as Keras 3 on TensorFlow does after set_random_seed
        .reshuffle_each_epoch(false)
        .validation_data(p.val.x.clone(), p.val.y.clone())
        .verbose(if quiet { 0 } else { 1 });
    let mut es = EarlyStopping::new().patience(10).restore_best_weights(true);
    let mut rl = ReduceLROnPlateau::new().factor(0.2).patience(5);
    let t0 = std::time::Instant::now();
    let h = model.fit_with_callbacks(&p.train.x, &p.train.y, &opts, &mut [&mut es, &mut rl])?;
    println!(
        "{} epochs in {:.1} s, best epoch {}",
        h.len(),
        t0.elapsed().as_secs_f64(),
        es.best_epoch() + 1
    );

    let pred = model.predict(&p.test.x)?;
    let ev = evaluate(&p, &pred)?;
    println!("{}", ev.table());
    println!(
        "m1 seed {seed}{}: test RMSE {:.4} ppm, naive {:.4} ppm",
        if difference { " (difference = 1)" } else { "" },
        ev.test.overall.rmse,
        ev.baselines.naive.overall.rmse
    );
    Ok(())
}
