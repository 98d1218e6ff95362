//! `lstmkit bench train --model m1|m2|m3|m4|big [--json]`: training-step speed;
//! `lstmkit bench predict --model m1 [--json]`: single-window inference latency
//! ([`Model::predict_one`]).

use crate::error::{Error, Result};
use crate::model::{Graph, Model, Sequential};
use crate::nn::{
    Activation, Attention, Bidirectional, Dense, GlobalAveragePooling1D, MergeMode, LSTM,
};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::{Loss, Optimizer};

/// Arguments of `lstmkit bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// What to measure: `train` (forward + backward + Adam step) or `predict`
    /// (one window through `Model::predict_one`, µs per call).
    pub what: String,
    /// m1 | m2 | m3 | m4 | big (the seed's models: m3 = Bidirectional(LSTM(50)),
    /// m4 = LSTM(64) → Attention([h, h]) → GlobalAveragePooling1D → Dense(1)).
    #[arg(long, default_value = "m1")]
    pub model: String,
    /// Steady-state steps measured.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Builds one of the benchmark models; returns (model, timesteps, features, batch).
pub fn bench_model(name: &str) -> Result<(Model, usize, usize, usize)> {
    Ok(match name {
        "m1" => (
            Sequential::new(&[10, 1])
                .add(LSTM::new(50).activation(Activation::Relu))
                .add(Dense::new(1))
                .build(42)?,
            10,
            1,
            32,
        ),
        "m2" => (
            Sequential::new(&[10, 3])
                .add(
                    LSTM::new(100)
                        .activation(Activation::Relu)
                        .return_sequences(true),
                )
                .add(LSTM::new(50).activation(Activation::Relu))
                .add(Dense::new(1))
                .build(42)?,
            10,
            3,
            32,
        ),
        "m3" => (
            Sequential::new(&[10, 1])
                .add(Bidirectional::new(LSTM::new(50), MergeMode::Concat))
                .add(Dense::new(1))
                .build(42)?,
            10,
            1,
            32,
        ),
        "m4" => {
            let mut g = Graph::new(&[10, 1]);
            let x = g.input();
            let h = g.add(LSTM::new(64).return_sequences(true), &[x]);
            let a = g.add(Attention::new(), &[h, h]);
            let p = g.add(GlobalAveragePooling1D::new(), &[a]);
            let y = g.add(Dense::new(1), &[p]);
            (g.build(y, 42)?, 10, 1, 32)
        }
        "big" => (
            Sequential::new(&[50, 8])
                .add(LSTM::new(128))
                .add(Dense::new(1))
                .build(42)?,
            50,
            8,
            64,
        ),
        other => {
            return Err(Error::Config(format!(
                "unknown benchmark model '{other}' (m1, m2, m3, m4, big)"
            )))
        }
    })
}

/// Runs the benchmark.
pub fn run(a: BenchArgs) -> Result<()> {
    if a.what == "predict" {
        return run_predict(&a);
    }
    if a.what != "train" {
        return Err(Error::Config(format!(
            "unknown benchmark '{}' (train, predict)",
            a.what
        )));
    }
    let (mut model, t, f, b) = bench_model(&a.model)?;
    model.compile(Optimizer::adam(1e-3), Loss::Mse);
    let mut rng = Rng::new(1);
    let nb = 8;
    let xs: Vec<Tensor> = (0..nb)
        .map(|_| {
            Tensor::new(
                &[b, t, f],
                (0..b * t * f)
                    .map(|_| rng.uniform(0.0, 1.0) as f32)
                    .collect(),
            )
        })
        .collect::<Result<_>>()?;
    let ys: Vec<Tensor> = (0..nb)
        .map(|_| {
            Tensor::new(
                &[b, 1],
                (0..b).map(|_| rng.uniform(0.0, 1.0) as f32).collect(),
            )
        })
        .collect::<Result<_>>()?;
    let warm = (a.steps / 10).max(10);
    for k in 0..warm {
        model.train_on_batch(&xs[k % nb], &ys[k % nb])?;
    }
    let mut times = Vec::with_capacity(a.steps);
    for k in 0..a.steps {
        let t0 = std::time::Instant::now();
        model.train_on_batch(&xs[k % nb], &ys[k % nb])?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|x, y| x.total_cmp(y));
    let med = times[times.len() / 2];
    let p10 = times[times.len() / 10];
    let out = serde_json::json!({
        "bench": "train",
        "model": a.model,
        "batch": b,
        "timesteps": t,
        "features": f,
        "steps": a.steps,
        "ms_per_step": med,
        "ms_per_step_p10": p10,
        "ms_per_step_min": times[0],
        "samples_per_s": b as f64 / (med / 1e3),
        "threads": rayon::current_num_threads(),
        "gemm": format!("{:?}", crate::nn::gemm::backend()),
        "simd": format!("{:?}", crate::nn::activation::simd_level()),
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{}: {:.3} ms/step (median of {}), {:.0} samples/s",
            a.model,
            med,
            a.steps,
            b as f64 / (med / 1e3)
        );
    }
    Ok(())
}

/// Single-window latency: `steps` × 100 timed calls of `predict_one` on 8
/// rotating random windows, after a warm-up.
fn run_predict(a: &BenchArgs) -> Result<()> {
    let (mut model, t, f, _) = bench_model(&a.model)?;
    let mut rng = Rng::new(1);
    let windows: Vec<Vec<f32>> = (0..8)
        .map(|_| (0..t * f).map(|_| rng.uniform(0.0, 1.0) as f32).collect())
        .collect();
    let mut sink = 0.0f32;
    for k in 0..2000 {
        sink += model.predict_one(&windows[k % 8])?[0];
    }
    // per-call times from batches of 100 calls (the clock's own cost stays negligible)
    let reps = a.steps.max(10);
    let mut per_call = Vec::with_capacity(reps);
    for r in 0..reps {
        let t0 = std::time::Instant::now();
        for k in 0..100 {
            sink += model.predict_one(&windows[(r + k) % 8])?[0];
        }
        per_call.push(t0.elapsed().as_secs_f64() * 1e6 / 100.0);
    }
    per_call.sort_by(|x, y| x.total_cmp(y));
    let med = per_call[per_call.len() / 2];
    let p10 = per_call[per_call.len() / 10];
    let out = serde_json::json!({
        "bench": "predict",
        "model": a.model,
        "batch": 1,
        "timesteps": t,
        "features": f,
        "calls": reps * 100,
        "us_per_window": med,
        "us_per_window_p10": p10,
        "windows_per_s": 1e6 / med,
        "threads": rayon::current_num_threads(),
        "simd": format!("{:?}", crate::nn::activation::simd_level()),
        "checksum": sink,
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{}: {:.2} µs per window (median of {} batches of 100 calls), {:.0} windows/s",
            a.model,
            med,
            reps,
            1e6 / med
        );
    }
    Ok(())
}
