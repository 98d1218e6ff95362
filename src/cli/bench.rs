//! `lstmkit bench train --model m1|m2|m3|m4|big [--loss mse|quantile|compare] [--json]`:
//! training-step speed (`compare`: MSE and quantile heads interleaved, with their ratio);
//! `lstmkit bench predict --model m1 [--batch N] [--json]`: single-window
//! inference latency ([`Model::predict_one`]) and, with `--batch`, windows per
//! second through batched inference.
//!
//! Every report says what the CPU ran (`simd`, `gemm`, `threads`), the FLOPs
//! of a step counted from the model's shapes ([`Model::flops_per_sample`]; a
//! training step counts three forward passes), the GFLOP/s reached, the FMA
//! peak measured at start-up on the same ISA and thread count
//! ([`crate::nn::peak`]) and the share of it, and the process's peak RSS.

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
    /// Windows per batch for `predict` (1: single-window latency only).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Loss of `train`: `mse`, `quantile` (pinball at 0.1, 0.5, 0.9 through the
    /// monotone head; the output layer gets 3 units) or `compare` (both models,
    /// steps interleaved in one run; reports each median and the ratio).
    #[arg(long, default_value = "mse")]
    pub loss: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The machine facts every report carries: ISA, GEMM backend, threads, the
/// measured peak (1 thread and all threads) and the peak RSS so far.
fn machine(out: &mut serde_json::Value, flops_per_s: f64) {
    let threads = rayon::current_num_threads();
    let target = std::time::Duration::from_millis(15);
    let one = crate::nn::peak::measure(1, target);
    let all = crate::nn::peak::measure(threads, target);
    out["threads"] = threads.into();
    out["gemm"] = format!("{:?}", crate::nn::gemm::backend()).into();
    out["simd"] = format!("{:?}", crate::nn::activation::simd_level()).into();
    out["gflops"] = (flops_per_s / 1e9).into();
    out["peak_isa"] = one.isa.into();
    out["peak_gflops_1thread"] = one.gflops.into();
    out["peak_gflops"] = all.gflops.into();
    out["peak_share"] = (flops_per_s / 1e9 / all.gflops).into();
    out["peak_rss_mb"] = peak_rss_mb().map_or(serde_json::Value::Null, Into::into);
}

/// The process's peak resident set (`VmHWM`, Linux), in MiB.
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The median and the 10th percentile of `times`.
fn median_p10(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(|x, y| x.total_cmp(y));
    (times[times.len() / 2], times[times.len() / 10])
}

/// Builds one of the benchmark models; returns (model, timesteps, features, batch).
pub fn bench_model(name: &str) -> Result<(Model, usize, usize, usize)> {
    bench_model_with_outputs(name, 1)
}

/// [`bench_model`] with `out` units in the output layer (a quantile head's width).
pub fn bench_model_with_outputs(name: &str, out: usize) -> Result<(Model, usize, usize, usize)> {
    Ok(match name {
        "m1" => (
            Sequential::new(&[10, 1])
                .add(LSTM::new(50).activation(Activation::Relu))
                .add(Dense::new(out))
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
                .add(Dense::new(out))
                .build(42)?,
            10,
            3,
            32,
        ),
        "m3" => (
            Sequential::new(&[10, 1])
                .add(Bidirectional::new(LSTM::new(50), MergeMode::Concat))
                .add(Dense::new(out))
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
            let y = g.add(Dense::new(out), &[p]);
            (g.build(y, 42)?, 10, 1, 32)
        }
        "big" => (
            Sequential::new(&[50, 8])
                .add(LSTM::new(128))
                .add(Dense::new(out))
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
    let quantile = Loss::quantile(&[0.1, 0.5, 0.9])?;
    let loss = match a.loss.as_str() {
        "mse" => Loss::Mse,
        "quantile" => quantile,
        "compare" => return run_compare(&a, quantile),
        other => {
            return Err(Error::Config(format!(
                "unknown --loss '{other}' (mse, quantile, compare)"
            )))
        }
    };
    let (mut model, t, f, b) = bench_model_with_outputs(&a.model, loss.outputs_per_target())?;
    model.compile(Optimizer::adam(1e-3), loss);
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
    let (med, p10) = median_p10(&mut times);
    let flops_per_step = 3 * model.flops_per_sample() * b as u64;
    let mut out = serde_json::json!({
        "bench": "train",
        "model": a.model,
        "loss": loss.name(),
        "batch": b,
        "timesteps": t,
        "features": f,
        "steps": a.steps,
        "ms_per_step": med,
        "ms_per_step_p10": p10,
        "ms_per_step_min": times[0],
        "samples_per_s": b as f64 / (med / 1e3),
        "flops_per_step": flops_per_step,
    });
    machine(&mut out, flops_per_step as f64 / (med / 1e3));
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{}: {:.3} ms/step (median of {}), {:.0} samples/s, {:.1} GFLOP/s = {:.0}% of the {:.1} GFLOP/s {} peak on {} threads",
            a.model,
            med,
            a.steps,
            b as f64 / (med / 1e3),
            out["gflops"].as_f64().unwrap_or(0.0),
            100.0 * out["peak_share"].as_f64().unwrap_or(0.0),
            out["peak_gflops"].as_f64().unwrap_or(0.0),
            out["peak_isa"].as_str().unwrap_or("?"),
            out["threads"],
        );
    }
    Ok(())
}

/// `--loss compare`: the MSE model and the quantile model (same layers, a
/// 3-unit head) trained on the same batches, one step of each in turn, so both
/// medians come from the same run and machine state.
fn run_compare(a: &BenchArgs, quantile: Loss) -> Result<()> {
    let (mut mse, t, f, b) = bench_model_with_outputs(&a.model, 1)?;
    let (mut qm, _, _, _) = bench_model_with_outputs(&a.model, quantile.outputs_per_target())?;
    mse.compile(Optimizer::adam(1e-3), Loss::Mse);
    qm.compile(Optimizer::adam(1e-3), quantile);
    let mut rng = Rng::new(1);
    let nb = 8;
    let mut batches = Vec::with_capacity(nb);
    for _ in 0..nb {
        let x = Tensor::new(
            &[b, t, f],
            (0..b * t * f)
                .map(|_| rng.uniform(0.0, 1.0) as f32)
                .collect(),
        )?;
        let y = Tensor::new(
            &[b, 1],
            (0..b).map(|_| rng.uniform(0.0, 1.0) as f32).collect(),
        )?;
        batches.push((x, y));
    }
    let warm = (a.steps / 10).max(10);
    for k in 0..warm {
        let (x, y) = &batches[k % nb];
        mse.train_on_batch(x, y)?;
        qm.train_on_batch(x, y)?;
    }
    let (mut tm, mut tq) = (Vec::with_capacity(a.steps), Vec::with_capacity(a.steps));
    for k in 0..a.steps {
        let (x, y) = &batches[k % nb];
        // alternate which model goes first so neither always runs on a warmer cache
        let order = [k % 2 == 0, k % 2 != 0];
        for first_mse in order {
            let t0 = std::time::Instant::now();
            if first_mse {
                mse.train_on_batch(x, y)?;
                tm.push(t0.elapsed().as_secs_f64() * 1e3);
            } else {
                qm.train_on_batch(x, y)?;
                tq.push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let (med_m, p10_m) = median_p10(&mut tm);
    let (med_q, p10_q) = median_p10(&mut tq);
    let flops_per_step = 3 * qm.flops_per_sample() * b as u64;
    let mut out = serde_json::json!({
        "bench": "train_loss_compare",
        "model": a.model,
        "batch": b,
        "timesteps": t,
        "features": f,
        "steps": a.steps,
        "quantiles": [0.1, 0.5, 0.9],
        "ms_per_step_mse": med_m,
        "ms_per_step_mse_p10": p10_m,
        "ms_per_step_quantile": med_q,
        "ms_per_step_quantile_p10": p10_q,
        "ratio_quantile_over_mse": med_q / med_m,
    });
    machine(&mut out, flops_per_step as f64 / (med_q / 1e3));
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{}: mse {:.3} ms/step, quantile {:.3} ms/step (medians of {} interleaved steps): ratio {:.3} (simd {}, gemm {})",
            a.model,
            med_m,
            med_q,
            a.steps,
            med_q / med_m,
            out["simd"].as_str().unwrap_or("?"),
            out["gemm"].as_str().unwrap_or("?"),
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
    let (med, p10) = median_p10(&mut per_call);
    let mut out = serde_json::json!({
        "bench": "predict",
        "model": a.model,
        "batch": 1,
        "timesteps": t,
        "features": f,
        "calls": reps * 100,
        "us_per_window": med,
        "us_per_window_p10": p10,
        "windows_per_s": 1e6 / med,
        "checksum": sink,
    });
    let flops = model.flops_per_sample() as f64;
    let mut rate = flops / (med / 1e6);
    if a.batch > 1 {
        let (ms, p10) = batched(&mut model, a.batch, t, f, a.steps)?;
        out["batch"] = a.batch.into();
        out["batch_ms"] = ms.into();
        out["batch_ms_p10"] = p10.into();
        out["batch_windows_per_s"] = (a.batch as f64 / (ms / 1e3)).into();
        rate = flops * a.batch as f64 / (ms / 1e3);
    }
    out["flops_per_window"] = flops.into();
    machine(&mut out, rate);
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
        if let Some(w) = out["batch_windows_per_s"].as_f64() {
            println!(
                "{}: {:.0} windows/s in batches of {} ({:.1} GFLOP/s, {:.0}% of the {} peak)",
                a.model,
                w,
                a.batch,
                out["gflops"].as_f64().unwrap_or(0.0),
                100.0 * out["peak_share"].as_f64().unwrap_or(0.0),
                out["peak_isa"].as_str().unwrap_or("?"),
            );
        }
    }
    Ok(())
}

/// Batched inference: (median, p10) ms of `steps` forward passes over `batch`
/// random windows, after a warm-up.
fn batched(
    model: &mut Model,
    batch: usize,
    t: usize,
    f: usize,
    steps: usize,
) -> Result<(f64, f64)> {
    let mut rng = Rng::new(2);
    let x = Tensor::new(
        &[batch, t, f],
        (0..batch * t * f)
            .map(|_| rng.uniform(0.0, 1.0) as f32)
            .collect(),
    )?;
    for _ in 0..3 {
        model.forward(&x, false)?;
    }
    let mut times = Vec::with_capacity(steps.max(10));
    for _ in 0..steps.max(10) {
        let t0 = std::time::Instant::now();
        model.forward(&x, false)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median_p10(&mut times))
}
