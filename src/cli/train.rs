//! `lstmkit train [--config EXP.toml] [--out DIR]`: data → model → fit →
//! metrics next to the baselines → files.
//!
//! Without `--config`, runs the seed's m1 (LSTM(50, relu) → Dense(1), Adam
//! 1e-3, EarlyStopping(10, restore best) + ReduceLROnPlateau(0.2, 5)) on the
//! bundled weekly CO₂ series. Writes, each atomically:
//! `DIR/model.json`, `DIR/model.lstmkit` (native file, see `docs/FORMAT.md`), `DIR/metrics.json`, `DIR/history.csv`,
//! `DIR/predictions.png`, `DIR/loss.png`.
//!
//! `lstmkit train --resume DIR --epochs N` continues the run saved in
//! `DIR/model.lstmkit` up to epoch N (Keras' `initial_epoch` / `epochs`): the
//! same data, optimiser state, shuffles, dropout streams and callback state,
//! so that 10 epochs and a resume to 20 give the bits of 20 epochs straight.
//! A run that `EarlyStopping` ended goes on as a new Keras `fit()` would:
//! patience counter reset, best value and best weights kept (see
//! [`crate::resume`]).

use std::path::{Path, PathBuf};

use crate::data::prepare;
use crate::error::{Error, Result};
use crate::eval::Evaluation;
use crate::experiment::{base_dir_of, Experiment, Outcome, Overrides, SavedModel};
use crate::io::atomic_write_bytes;
use crate::plot::{plot_history, plot_series_titled, Series};

/// The seed's m1 experiment (`examples/m1_co2.toml`), run by a bare `lstmkit train`.
pub const DEFAULT_EXPERIMENT: &str = include_str!("../../examples/m1_co2.toml");

/// Arguments of `lstmkit train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Experiment file (TOML). Default: the seed's m1 on the bundled CO₂ data.
    #[arg(long, conflicts_with = "resume")]
    pub config: Option<PathBuf>,
    /// Continue the run saved in DIR (its `model.lstmkit`) up to `--epochs`
    /// (the total, as Keras' `epochs` with `initial_epoch`).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Output folder (created if needed). Default: `lstmkit-out`, or the
    /// resumed folder with `--resume`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override fit.epochs (with `--resume`: the epoch to train up to).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Override fit.batch_size.
    #[arg(long, conflicts_with = "resume")]
    pub batch_size: Option<usize>,
    /// Override fit.seed.
    #[arg(long, conflicts_with = "resume")]
    pub seed: Option<u64>,
    /// Override compile.learning_rate.
    #[arg(long, conflicts_with = "resume")]
    pub learning_rate: Option<f32>,
    /// No progress output (summary and metrics are still printed).
    #[arg(long)]
    pub quiet: bool,
}

/// Loads the experiment named on the command line, or the default one.
pub fn load_experiment(config: Option<&Path>) -> Result<(Experiment, PathBuf)> {
    match config {
        Some(p) => Ok((Experiment::load(p)?, base_dir_of(p))),
        None => {
            let mut e = Experiment::from_toml_str(DEFAULT_EXPERIMENT, "built-in m1 experiment")?;
            e.data.path = PathBuf::from("bundled:co2");
            Ok((e, PathBuf::from(".")))
        }
    }
}

/// `model` vs `naive` on RMSE, in words.
pub fn versus_naive(ev: &Evaluation) -> String {
    let m = ev.test.overall.rmse;
    let n = ev.baselines.naive.overall.rmse;
    let unit = ev.targets.join(", ");
    if m == n {
        format!(
            "test RMSE {m:.4} vs naive {n:.4} ({unit}): the model ties with the naive (last value) forecast"
        )
    } else if n == 0.0 {
        format!(
            "test RMSE {m:.4} vs naive {n:.4} ({unit}): the naive (last value) forecast is exact on this test part"
        )
    } else if m < n {
        format!(
            "test RMSE {m:.4} vs naive {n:.4} ({unit}): the model beats the naive forecast by {:.1}%",
            (1.0 - m / n) * 100.0
        )
    } else {
        format!(
            "test RMSE {m:.4} vs naive {n:.4} ({unit}): the model LOSES to the naive (last value) forecast, {:.1}% worse",
            (m / n - 1.0) * 100.0
        )
    }
}

/// The metrics.json object.
pub fn metrics_json(o: &Outcome, model_file: &str) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(&o.evaluation)
        .map_err(|e| Error::Other(format!("cannot serialise the metrics: {e}")))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("epochs_run".into(), o.epochs_run.into());
        obj.insert("best_epoch".into(), o.best_epoch.into());
        obj.insert("train_seconds".into(), o.train_seconds.into());
        obj.insert("model_file".into(), model_file.into());
        obj.insert("n_train_windows".into(), o.prepared.train.len().into());
        obj.insert("n_val_windows".into(), o.prepared.val.len().into());
    }
    Ok(v)
}

/// One line of the predictions plot besides the truth: a name and its values
/// (original units, the layout of `Prepared::test_truth`).
pub struct Line<'a> {
    /// Legend label.
    pub name: &'a str,
    /// Values, `width` per test window.
    pub values: &'a [f64],
}

/// Writes the predictions-vs-truth plot of the first target, first horizon
/// step: the truth, the model and the best baseline; the axes titled with
/// the time column (or the window index) and the target's name.
pub fn write_prediction_plot(
    path: &Path,
    model: Line,
    baseline: Option<Line>,
    truth: &[f64],
    times: Option<(&str, &[String])>,
    width: usize,
    target: &str,
) -> Result<()> {
    let pick = |v: &[f64]| -> Vec<f64> { v.chunks(width.max(1)).map(|c| c[0]).collect() };
    let t = pick(truth);
    let p = pick(model.values);
    let b = baseline.as_ref().map(|b| pick(b.values));
    let mut series = vec![Series::new("truth", &t), Series::new(model.name, &p)];
    if let (Some(line), Some(v)) = (&baseline, &b) {
        series.push(Series::new(line.name, v));
    }
    let (x_title, labels) = match times {
        Some((name, l)) => (name.to_string(), Some(l)),
        None => ("test window".to_string(), None),
    };
    plot_series_titled(
        path,
        &format!("Test set: {target}, predictions vs truth"),
        &x_title,
        target,
        labels,
        &series,
    )
}

/// Runs the command. Ctrl-C stops training after the current batch; the run
/// is saved as usual (best weights restored by `EarlyStopping`), resumable
/// with `--resume`, and the process exits with 130.
pub fn run(a: TrainArgs) -> Result<()> {
    crate::train::interrupt::install();
    if let Some(dir) = a.resume.clone() {
        return run_resume(a, &dir);
    }
    let (mut exp, base) = load_experiment(a.config.as_deref())?;
    exp.apply(&Overrides {
        epochs: a.epochs,
        batch_size: a.batch_size,
        seed: a.seed,
        learning_rate: a.learning_rate,
        quiet: a.quiet,
    })?;
    let out = a.out.unwrap_or_else(|| PathBuf::from("lstmkit-out"));
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let prepared = prepare(&exp.data, &base)?;
    for n in &prepared.frame.notes {
        eprintln!("note: {n}");
    }
    println!("{}", prepared.describe());
    let o = exp.run_prepared(prepared, &out, |m| println!("{}", m.summary()))?;
    write_outputs(&exp, &o, &base, &out)
}

/// `--resume DIR`: reads `DIR/model.lstmkit`, prepares the same data, trains on.
fn run_resume(a: TrainArgs, dir: &Path) -> Result<()> {
    let file = if dir.is_file() {
        dir.to_path_buf()
    } else {
        dir.join("model.lstmkit")
    };
    if !file.exists() {
        return Err(Error::Config(format!(
            "--resume {}: no model.lstmkit there (the folder a finished `lstmkit train` wrote)",
            dir.display()
        )));
    }
    let mut run = crate::resume::SavedRun::load(&file)?;
    let mut exp = run.experiment;
    let done = run.point.history.next_epoch();
    let planned = exp.fit.epochs;
    let mut rearmed = None;
    let nan_stop = run
        .point
        .history
        .loss
        .last()
        .is_some_and(|l| !l.is_finite());
    if run.point.history.len() < planned {
        rearmed = run.point.rearm_early_stopping();
        // neither EarlyStopping nor a non-finite loss: Ctrl-C stopped it, go on
        if rearmed.is_none() && nan_stop {
            return Err(Error::Config(format!(
                "{}: that run was stopped after epoch {done} of {planned} by TerminateOnNaN \
                 (a non-finite loss): there is nothing to resume from — start a new run with \
                 --config (e.g. a lower learning rate)",
                file.display()
            )));
        }
    }
    let target = a.epochs.unwrap_or(planned);
    if target <= done {
        return Err(Error::Config(format!(
            "{}: {done} epoch(s) already done; pass --epochs N with N > {done} (the total to train up to)",
            file.display()
        )));
    }
    if let Some(at) = rearmed {
        println!(
            "EarlyStopping ended that run at epoch {at}: going on from its last epoch's weights with \
             the patience counter reset (as a new Keras fit() does); the best weights so far are kept"
        );
    }
    exp.fit.epochs = target;
    if a.quiet {
        exp.fit.verbose = 0;
    } else if exp.fit.verbose == 0 {
        exp.fit.verbose = 1;
    }
    exp.validate()?;
    let out = a.out.clone().unwrap_or_else(|| {
        if dir.is_file() {
            dir.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            dir.to_path_buf()
        }
    });
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let prepared = prepare(&exp.data, &run.base_dir)?;
    let same =
        serde_json::to_value(&prepared.pipeline).ok() == serde_json::to_value(&run.pipeline).ok();
    if !same {
        return Err(Error::Data(format!(
            "{}: the data at {} no longer gives the scalers and windows the model was trained with; \
             resuming would train on different data",
            file.display(),
            run.base_dir.join(&exp.data.path).display()
        )));
    }
    println!("{}", prepared.describe());
    println!(
        "resuming {} at epoch {} of {target}",
        file.display(),
        done + 1
    );
    let o = exp.run_from(prepared, &out, Some(run.point), |_| {})?;
    write_outputs(&exp, &o, &run.base_dir, &out)
}

/// Writes the model files, metrics, history and plots of a finished run.
fn write_outputs(exp: &Experiment, o: &Outcome, base: &Path, out: &Path) -> Result<()> {
    let a_out = out;
    let model_path = a_out.join("model.json");
    SavedModel::new(&o.model, &exp.layers, &o.prepared.pipeline)
        .with_data(&exp.data, base)
        .save(&model_path)?;
    // the native file: weights, optimiser state, RNG, data pipeline, history,
    // experiment and what a resume needs
    let mut extras = crate::resume::extras_for(exp, o, base);
    // [intervals]: the validation errors `lstmkit forecast` calibrates on
    if let (Some(c), Some(serde_json::Value::Object(d))) = (&o.calibration, extras.data.as_mut()) {
        let v = serde_json::to_value(c)
            .map_err(|e| Error::Other(format!("cannot serialise the calibration: {e}")))?;
        d.insert("calibration".into(), v);
    }
    crate::io::native::save(&o.model, a_out.join("model.lstmkit"), &extras)?;
    let metrics = metrics_json(o, "model.lstmkit")?;
    let js = serde_json::to_string_pretty(&metrics)
        .map_err(|e| Error::Other(format!("cannot serialise the metrics: {e}")))?;
    atomic_write_bytes(a_out.join("metrics.json"), js.as_bytes())?;
    atomic_write_bytes(a_out.join("history.csv"), o.history.to_csv().as_bytes())?;
    let pred_levels = o.prepared.to_original_units(&o.test_pred)?;
    // the best baseline on RMSE beside the model: seasonal naive when a season
    // is set and it beats the naive forecast
    let ev = &o.evaluation;
    let seasonal = match (ev.season, &ev.baselines.seasonal_naive) {
        (Some(m), Some(r)) if r.overall.rmse < ev.baselines.naive.overall.rmse => Some(m),
        _ => None,
    };
    let (baseline, baseline_name) = match seasonal {
        Some(m) => (
            crate::eval::baselines::seasonal_naive_for(&o.prepared, m)?,
            format!("seasonal naive (m={m})"),
        ),
        None => (
            crate::eval::baselines::naive_for(&o.prepared)?,
            "naive (last value)".to_string(),
        ),
    };
    // a panel: the first series' test windows
    let w = o.prepared.pipeline.output_width();
    let (span, title) = match o.prepared.series.first() {
        Some(s) if o.prepared.is_panel() => (
            s.test.clone(),
            format!("{} (series '{}')", o.prepared.pipeline.targets[0], s.id),
        ),
        _ => (
            0..o.prepared.test.len(),
            o.prepared.pipeline.targets[0].clone(),
        ),
    };
    let cut = |v: &[f64]| v[span.start * w..span.end * w].to_vec();
    let test_times = o
        .prepared
        .test_times
        .as_ref()
        .map(|t| t[span.clone()].to_vec());
    let times = match (&o.prepared.pipeline.time_column, &test_times) {
        (Some(c), Some(t)) => Some((c.as_str(), t.as_slice())),
        _ => None,
    };
    let (pred_cut, baseline_cut) = (cut(&pred_levels), cut(&baseline));
    write_prediction_plot(
        &a_out.join("predictions.png"),
        Line {
            name: "model",
            values: &pred_cut,
        },
        Some(Line {
            name: &baseline_name,
            values: &baseline_cut,
        }),
        &cut(&o.prepared.test_truth),
        times,
        w,
        &title,
    )?;
    if !o.history.is_empty() {
        plot_history(
            &a_out.join("loss.png"),
            &o.history,
            "Training and validation loss",
        )?;
    }
    if crate::train::interrupt::requested() {
        println!(
            "\ninterrupted (Ctrl-C): stopped after {} complete epoch(s); saved with the best weights so far \
             — `lstmkit train --resume {} --epochs {}` goes on",
            o.epochs_run,
            a_out.display(),
            exp.fit.epochs
        );
    }
    println!(
        "\n{} epoch(s) in {:.1} s, best epoch {} (1-based)",
        o.epochs_run, o.train_seconds, o.best_epoch
    );
    if !o.evaluation.per_series.is_empty() {
        println!("\nper series (test MASE, each on its own scale):");
        print!("{}", o.evaluation.series_table());
    }
    println!("\n{}", o.evaluation.table());
    println!("{}", versus_naive(&o.evaluation));
    if let Some(iv) = &o.evaluation.intervals {
        print!("\n{}", crate::intervals::validation::table(iv));
    }
    println!(
        "\nwrote {}/{{model.lstmkit, model.json, metrics.json, history.csv, predictions.png, loss.png}}",
        a_out.display()
    );
    Ok(())
}
