//! The backtest loop: series by series, plan the folds, run the trainings
//! (on `workers` threads), forecast every origin of a training in one
//! batched call, forecast the baselines, collect the rows.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::folds::plan_folds;
use super::report::{Backtest, ForecastRow, SeriesSummary};
use super::BacktestSpec;
use crate::baselines::{forecast_folds, infer_season, Fold, NAMES};
use crate::data::{prepare_frame, Frame, Pipeline, Prepared};
use crate::error::{Error, Result};
use crate::experiment::{Experiment, FitData, FitPlan};
use crate::tensor::Tensor;

/// One series to backtest: its rows (targets, features and time column, as
/// `[data]` reads them). A panel (many series) is several of these.
#[derive(Clone, Debug)]
pub struct SeriesData {
    /// The series' id (empty for the one series of a plain file: rows are
    /// then labelled by the target's name).
    pub id: String,
    /// Its rows.
    pub frame: Frame,
}

impl SeriesData {
    fn label(&self, target: &str, n_targets: usize) -> String {
        match (self.id.is_empty(), n_targets) {
            (true, _) => target.to_string(),
            (false, 1) => self.id.clone(),
            (false, _) => format!("{}:{target}", self.id),
        }
    }
}

/// Rows `rows` of `frame`, as a frame of their own.
pub fn cut(frame: &Frame, rows: std::ops::Range<usize>) -> Frame {
    Frame {
        source: frame.source.clone(),
        time_column: frame.time_column.clone(),
        time: frame.time.as_ref().map(|t| t[rows.clone()].to_vec()),
        columns: frame.columns.clone(),
        data: frame
            .data
            .iter()
            .map(|c| c[rows.clone()].to_vec())
            .collect(),
        filled: frame.filled.clone(),
        notes: Vec::new(),
        id_column: frame.id_column.clone(),
        // a panel's series, clipped to the rows kept
        series: frame
            .series
            .iter()
            .filter_map(|(id, r)| {
                let (a, b) = (r.start.max(rows.start), r.end.min(rows.end));
                (a < b).then(|| (id.clone(), a - rows.start..b - rows.start))
            })
            .collect(),
    }
}

/// The fewest rows one training of `exp` can use.
fn min_train_rows(exp: &Experiment) -> usize {
    let d = &exp.data;
    let v = d.validation_split;
    // windows needed so that Keras' split leaves one on each side
    let nw = (1usize..)
        .find(|&nw| {
            let split = (nw as f64 * (1.0 - v)).floor() as usize;
            v <= 0.0 || (split >= 1 && split < nw)
        })
        .unwrap_or(1);
    d.difference + d.timesteps + d.horizon + (nw - 1) * d.stride.max(1)
}

/// The data one training prepares from rows `..` of a series: the rows
/// alone, no test part.
pub(crate) fn prepare_training(exp: &Experiment, rows: Frame) -> Result<Prepared> {
    let mut spec = exp.data.clone();
    spec.test_split = 0.0;
    prepare_frame(&spec, rows)
}

/// The model input windows ending just before each origin, scaled by `pipeline`.
pub(crate) fn origin_windows(
    pipeline: &Pipeline,
    frame: &Frame,
    origins: &[usize],
) -> Result<Tensor> {
    let need = pipeline.window.timesteps + pipeline.difference;
    let [ts, nf] = pipeline.input_shape();
    let mut x = Vec::with_capacity(origins.len() * ts * nf);
    for &o in origins {
        if o < need {
            return Err(Error::Data(format!(
                "{}: origin row {o} has fewer than the {need} rows before it one input window needs",
                frame.source
            )));
        }
        let w = pipeline.latest_windows(&cut(frame, o - need..o), 1)?;
        x.extend_from_slice(&w.x.data);
    }
    Tensor::new(&[origins.len(), ts, nf], x)
}

/// One training's result: the forecasts (levels) of its origins, and its time.
struct Trained {
    levels: Vec<f64>,
    seconds: f64,
}

/// Trains on `rows` of `series` and forecasts its `origins` in one call.
fn train_and_forecast(
    exp: &Experiment,
    plan: &FitPlan,
    frame: &Frame,
    rows: std::ops::Range<usize>,
    origins: &[usize],
    out_dir: &Path,
) -> Result<Trained> {
    let prepared = prepare_training(exp, cut(frame, rows))?;
    let mut model = exp.build_model(&prepared.pipeline)?;
    let t0 = Instant::now();
    plan.fit(&mut model, FitData::from(&prepared), out_dir, None, &mut [])?;
    let seconds = t0.elapsed().as_secs_f64();
    let x = origin_windows(&prepared.pipeline, frame, origins)?;
    let pred = model.predict(&x)?;
    let anchors: Vec<usize> = origins.iter().map(|o| o - 1).collect();
    let levels = prepared.pipeline.to_levels(frame, &anchors, &pred)?;
    Ok(Trained { levels, seconds })
}

fn progress(quiet: bool, len: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("backtest {bar:30} {pos}/{len} trainings, {msg} [{elapsed}]")
    {
        bar.set_style(style);
    }
    bar
}

/// Backtests `exp` by `spec` on each series (see the [module docs](super)).
/// Callback files of the trainings go to `out_dir/folds/NNN`.
pub fn run_backtest(
    exp: &Experiment,
    spec: &BacktestSpec,
    series: &[SeriesData],
    out_dir: &Path,
    quiet: bool,
) -> Result<Backtest> {
    spec.validate()?;
    if let Some(iv) = &exp.intervals {
        super::bands::check(iv)?;
    }
    let t_all = Instant::now();
    let mut fit_exp = exp.clone();
    fit_exp.fit.verbose = 0;
    let plan = FitPlan::new(&fit_exp)?;
    let model_h = exp.data.horizon;
    let h = spec.horizon.unwrap_or(model_h);
    if h > model_h {
        return Err(Error::Config(format!(
            "backtest.horizon = {h} exceeds the model's data.horizon = {model_h}: the model \
             forecasts its horizon directly; set data.horizon = {h}"
        )));
    }
    let min_rows = min_train_rows(exp);
    let nt = exp.data.target.len();
    let mut out = Backtest {
        rows: Vec::new(),
        series: Vec::new(),
        origins: 0,
        retrains: 0,
        horizon: h,
        last_points_only: spec.last_points_only,
        seconds: 0.0,
        train_seconds: 0.0,
        levels: Vec::new(),
    };
    // plan every series first: errors before any training
    let mut plans = Vec::new();
    for s in series {
        let n = s.frame.n_rows();
        let default_start = ((1.0 - exp.data.test_split) * n as f64).floor() as usize;
        let start = spec.start_row(&s.frame, default_start)?;
        let p = plan_folds(
            n,
            start,
            h,
            spec.stride,
            spec.retrain,
            spec.window,
            min_rows,
        )
        .map_err(|e| Error::Config(format!("{}: {}", s.frame.source, e.detail())))?;
        plans.push(p);
    }
    let jobs: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(si, p)| (0..p.trainings.len()).map(move |g| (si, g)))
        .collect();
    let total_origins: usize = plans.iter().map(|p| p.origins.len()).sum();
    let bar = progress(quiet, jobs.len());
    let done_origins = AtomicUsize::new(0);
    bar.set_message(format!("0/{total_origins} origins"));
    let needs_dir = exp.callbacks.csv_logger.is_some() || exp.callbacks.model_checkpoint.is_some();
    let results: Mutex<Vec<Option<Result<Trained>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let workers = spec.workers.min(jobs.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(si, g)) = jobs.get(j) else { break };
                let p = &plans[si];
                let origins: Vec<usize> = p
                    .origins
                    .iter()
                    .zip(&p.training_of)
                    .filter(|(_, t)| **t == g)
                    .map(|(o, _)| *o)
                    .collect();
                let dir = out_dir.join("folds").join(format!("{j:03}"));
                let made = if needs_dir {
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))
                } else {
                    Ok(())
                };
                let r = made.and_then(|_| {
                    train_and_forecast(
                        &fit_exp,
                        &plan,
                        &series[si].frame,
                        p.trainings[g].clone(),
                        &origins,
                        &dir,
                    )
                });
                let failed = r.is_err();
                if let Ok(mut v) = results.lock() {
                    v[j] = Some(r);
                }
                let k = done_origins.fetch_add(origins.len(), Ordering::SeqCst) + origins.len();
                bar.set_message(format!("{k}/{total_origins} origins"));
                bar.inc(1);
                if failed {
                    // the others stop at their next job
                    next.store(jobs.len(), Ordering::SeqCst);
                }
            });
        }
    });
    bar.finish_and_clear();
    let results = results
        .into_inner()
        .map_err(|_| Error::Other("backtest: a training thread panicked".into()))?;
    let mut trained: Vec<Vec<Trained>> = plans.iter().map(|_| Vec::new()).collect();
    for (r, &(si, _)) in results.into_iter().zip(&jobs) {
        let t = r.ok_or_else(|| Error::Other("backtest: a training did not run".into()))??;
        out.train_seconds += t.seconds;
        trained[si].push(t);
    }
    for (si, s) in series.iter().enumerate() {
        let p = &plans[si];
        let frame = &s.frame;
        let m = exp
            .data
            .season
            .or_else(|| frame.time.as_deref().and_then(infer_season))
            .unwrap_or(1);
        let folds: Vec<Fold> = p
            .origins
            .iter()
            .zip(&p.training_of)
            .map(|(&o, &g)| Fold {
                origin: o,
                fit: p.trainings[g].clone(),
            })
            .collect();
        // position of each origin within its training's batch
        let mut pos = vec![0usize; p.origins.len()];
        let mut seen = vec![0usize; p.trainings.len()];
        for (i, &g) in p.training_of.iter().enumerate() {
            pos[i] = seen[g];
            seen[g] += 1;
        }
        let label_of = |r: usize| match &frame.time {
            Some(t) => t[r].clone(),
            None => r.to_string(),
        };
        for (t, target) in exp.data.target.iter().enumerate() {
            let y = frame.require(target)?;
            let label = s.label(target, nt);
            let base = forecast_folds(y, &folds, h, m)?;
            let mut notes: Vec<String> = Vec::new();
            if let Some(from) = p.moved_from {
                notes.push(format!(
                    "start moved from row {from} to {} ({min_rows} rows must precede a training's origin)",
                    p.origins[0]
                ));
            }
            notes.extend(base.notes.iter().cloned());
            let steps = if spec.last_points_only {
                h - 1..h
            } else {
                0..h
            };
            for (i, &o) in p.origins.iter().enumerate() {
                let tr = &trained[si][p.training_of[i]];
                for k in steps.clone() {
                    let mut b = [None; 6];
                    for (bi, name) in NAMES.iter().enumerate() {
                        b[bi] = base.values.get(name).map(|v| v[i * h + k]);
                    }
                    out.rows.push(ForecastRow {
                        series: label.clone(),
                        origin: label_of(o),
                        time: label_of(o + k),
                        row: o + k,
                        step: k + 1,
                        actual: y[o + k],
                        model: tr.levels[pos[i] * model_h * nt + k * nt + t],
                        baselines: b,
                        intervals: Vec::new(),
                    });
                }
            }
            out.series.push(SeriesSummary {
                label,
                values: y.to_vec(),
                times: frame.time.clone(),
                first_origin: p.origins[0],
                season: m,
                mase_scale: Backtest::mase_scale(y, p.origins[0], m),
                notes,
            });
        }
        out.origins += p.origins.len();
        out.retrains += p.trainings.len();
    }
    if let Some(iv) = &exp.intervals {
        super::bands::add_intervals(&mut out, iv)?;
    }
    out.seconds = t_all.elapsed().as_secs_f64();
    Ok(out)
}
