//! `lstmkit backtest --config EXP.toml [--out DIR]`: historical forecasts
//! of the experiment's model from many origins, next to the baselines
//! (see [`crate::backtest`] for the settings and their semantics).
//!
//! The settings come from the experiment's `[backtest]` table; each flag
//! overrides its key. Writes, each atomically: `DIR/backtest.csv`,
//! `DIR/backtest_metrics.json`, `DIR/backtest.png`, `DIR/backtest_steps.png`.
//! `--workers N` runs N trainings at once, as threads of this process.

use std::path::PathBuf;

use crate::backtest::{plot::write_plots, run_backtest, Backtest, BacktestSpec, SeriesData};
use crate::data::{Frame, Panel};
use crate::error::{Error, Result};
use crate::experiment::{base_dir_of, Experiment, Overrides};
use crate::io::atomic_write_bytes;

/// Arguments of `lstmkit backtest`.
#[derive(clap::Args, Debug)]
pub struct BacktestArgs {
    /// Experiment file (TOML); its `[backtest]` table gives the defaults.
    #[arg(long)]
    pub config: PathBuf,
    /// Output folder (created if needed). Default: `lstmkit-backtest`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// First origin: a fraction (0.8), a row position (304) or a time (2014-11-01).
    #[arg(long)]
    pub start: Option<String>,
    /// Steps per forecast (at most data.horizon).
    #[arg(long)]
    pub horizon: Option<usize>,
    /// Rows between origins.
    #[arg(long)]
    pub stride: Option<usize>,
    /// never, always, or N (every N origins).
    #[arg(long)]
    pub retrain: Option<String>,
    /// expanding, or N (the last N rows before each origin).
    #[arg(long)]
    pub window: Option<String>,
    /// Keep only the last step of each forecast.
    #[arg(long)]
    pub last_points_only: bool,
    /// Trainings run at once (threads).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Override fit.seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override fit.epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The experiment's `[backtest]` settings with the flags applied.
pub fn settings(exp: &Experiment, a: &BacktestArgs) -> Result<BacktestSpec> {
    let mut s = exp.backtest.clone().unwrap_or_default();
    if let Some(v) = &a.start {
        s.start = Some(v.parse()?);
    }
    if let Some(v) = a.horizon {
        s.horizon = Some(v);
    }
    if let Some(v) = a.stride {
        s.stride = v;
    }
    if let Some(v) = &a.retrain {
        s.retrain = v.parse()?;
    }
    if let Some(v) = &a.window {
        s.window = v.parse()?;
    }
    if a.last_points_only {
        s.last_points_only = true;
    }
    if let Some(v) = a.workers {
        s.workers = v;
    }
    s.validate()?;
    Ok(s)
}

/// The series to backtest: the one series of the file, or every series of
/// a panel (`data.id_column`), each a frame of its own that keeps its id.
pub fn series_of(exp: &Experiment, frame: Frame) -> Result<Vec<SeriesData>> {
    let Some(id_column) = &exp.data.id_column else {
        return Ok(vec![SeriesData {
            id: String::new(),
            frame,
        }]);
    };
    Panel::new(&frame)
        .series()
        .map(|s| {
            let own = s.to_frame();
            let n = own.n_rows();
            Ok(SeriesData {
                id: s.id.to_string(),
                frame: own.with_series(id_column, vec![(s.id.to_string(), 0..n)])?,
            })
        })
        .collect()
}

/// Runs the command.
pub fn run(a: BacktestArgs) -> Result<()> {
    let mut exp = Experiment::load(&a.config)?;
    let base = base_dir_of(&a.config);
    exp.apply(&Overrides {
        epochs: a.epochs,
        seed: a.seed,
        quiet: a.quiet,
        ..Default::default()
    })?;
    let spec = settings(&exp, &a)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("lstmkit-backtest"));
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    exp.data.validate()?;
    let frame = exp.data.load_frame(&base)?;
    for n in &frame.notes {
        eprintln!("note: {n}");
    }
    let series = series_of(&exp, frame)?;
    let bt = run_backtest(&exp, &spec, &series, &out, a.quiet)?;
    let mut metrics = bt.metrics()?;
    if let Some(o) = metrics.as_object_mut() {
        o.insert(
            "settings".into(),
            serde_json::to_value(&spec)
                .map_err(|e| Error::Other(format!("cannot serialise the settings: {e}")))?,
        );
        o.insert("config".into(), a.config.display().to_string().into());
    }
    let js = serde_json::to_string_pretty(&metrics)
        .map_err(|e| Error::Other(format!("cannot serialise the metrics: {e}")))?;
    atomic_write_bytes(out.join("backtest.csv"), bt.to_csv().as_bytes())?;
    atomic_write_bytes(out.join("backtest_metrics.json"), js.as_bytes())?;
    write_plots(&bt, &metrics, &out)?;
    for n in &bt.notes {
        println!("note: {n}");
    }
    for s in &bt.series {
        for n in &s.notes {
            println!("note: {}: {n}", s.label);
        }
    }
    println!(
        "backtest: {} origin(s), horizon {}{}, {} training(s) ({:.1} s of training), {:.2} s in all; season {}",
        bt.origins,
        bt.horizon,
        if bt.last_points_only {
            " (last points only)"
        } else {
            ""
        },
        bt.retrains,
        bt.train_seconds,
        bt.seconds,
        bt.series.first().map(|s| s.season).unwrap_or(1)
    );
    print!("{}", Backtest::table(&metrics));
    print!("{}", Backtest::interval_table(&metrics));
    println!(
        "wrote {}",
        [
            "backtest.csv",
            "backtest_metrics.json",
            "backtest.png",
            "backtest_steps.png"
        ]
        .map(|f| out.join(f).display().to_string())
        .join(", ")
    );
    Ok(())
}
