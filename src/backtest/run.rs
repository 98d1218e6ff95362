//! The backtest loop: series by series, plan the folds, run the trainings
//! (on `workers` threads), forecast every origin of a training in one
//! batched call, forecast the baselines, collect the rows.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use std::ops::Range;

use super::folds::{plan_folds, FoldPlan};
use super::report::{Backtest, ForecastRow, SeriesSummary};
use super::{BacktestSpec, Retrain, Window};
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

/// The model input windows ending just before each origin of series `id`
/// (all rows of `frame`, one series), scaled by `pipeline` with that
/// series' scaler. The windows read the target and past covariates of rows
/// `..origin` only; future covariates and calendar features up to
/// `origin - 1 + data.horizon` (known ahead by definition).
pub(crate) fn origin_windows(
    pipeline: &Pipeline,
    frame: &Frame,
    id: &str,
    origins: &[usize],
) -> Result<Tensor> {
    let need = pipeline.window.timesteps + pipeline.difference;
    let [ts, nf] = pipeline.input_shape();
    let n = frame.n_rows();
    let mut x = Vec::with_capacity(origins.len() * ts * nf);
    if origins.is_empty() {
        return Tensor::new(&[0, ts, nf], x);
    }
    let view = pipeline.series_view(frame, id, 0..n)?;
    for &o in origins {
        if o < need {
            return Err(Error::Data(format!(
                "{}: origin row {o} has fewer than the {need} rows before it one input window needs",
                frame.source
            )));
        }
        if o - 1 + pipeline.window.horizon >= n && pipeline.known_width() > 0 {
            return Err(Error::Data(format!(
                "{}: origin row {o}: the future covariates and calendar features of the {} steps \
                 after it need rows up to {}, the series has {n}",
                frame.source,
                pipeline.window.horizon,
                o + pipeline.window.horizon
            )));
        }
        pipeline.push_window(&view, o - 1, &mut x);
    }
    Tensor::new(&[origins.len(), ts, nf], x)
}

/// One training's result: for each series, the forecasts (levels) of its
/// origins of this training; and the training's time.
struct Trained {
    levels: Vec<Vec<f64>>,
    seconds: f64,
}

/// The training frame of a global training: rows `parts[s]` of each series,
/// one after another (a panel when the experiment has an id column; the one
/// series' rows, cut as they are, otherwise).
pub(super) fn gather(
    exp: &Experiment,
    series: &[SeriesData],
    parts: &[Range<usize>],
) -> Result<Frame> {
    let Some(id_column) = &exp.data.id_column else {
        return Ok(cut(&series[0].frame, parts[0].clone()));
    };
    let mut frame: Option<Frame> = None;
    let mut ranges = Vec::with_capacity(series.len());
    for (s, rows) in series.iter().zip(parts) {
        if rows.is_empty() {
            continue;
        }
        let part = cut(&s.frame, rows.clone());
        let at = frame.as_ref().map_or(0, Frame::n_rows);
        ranges.push((s.id.clone(), at..at + part.n_rows()));
        match &mut frame {
            None => frame = Some(part),
            Some(f) => {
                for (c, col) in f.data.iter_mut().zip(part.data) {
                    c.extend(col);
                }
                if let (Some(t), Some(u)) = (&mut f.time, part.time) {
                    t.extend(u);
                }
            }
        }
    }
    let mut frame = frame.ok_or_else(|| Error::Data("backtest: no series to train on".into()))?;
    frame.series = Vec::new();
    frame.with_series(id_column, ranges)
}

/// Trains one global model on rows `parts[s]` of every series and forecasts
/// `origins[s]` of every series in one batched call.
fn train_and_forecast(
    exp: &Experiment,
    plan: &FitPlan,
    series: &[SeriesData],
    parts: &[Range<usize>],
    origins: &[Vec<usize>],
    out_dir: &Path,
) -> Result<Trained> {
    let prepared = prepare_training(exp, gather(exp, series, parts)?)?;
    let mut model = exp.build_model(&prepared.pipeline)?;
    let t0 = Instant::now();
    plan.fit(&mut model, FitData::from(&prepared), out_dir, None, &mut [])?;
    let seconds = t0.elapsed().as_secs_f64();
    let pipeline = &prepared.pipeline;
    let [ts, nf] = pipeline.input_shape();
    let mut x = Vec::new();
    for (s, o) in series.iter().zip(origins) {
        x.extend(origin_windows(pipeline, &s.frame, &s.id, o)?.data);
    }
    let total: usize = origins.iter().map(Vec::len).sum();
    let pred = model.predict(&Tensor::new(&[total, ts, nf], x)?)?;
    let w = pipeline.output_width();
    let mut levels = Vec::with_capacity(series.len());
    let mut at = 0;
    for (s, o) in series.iter().zip(origins) {
        let mine = Tensor::new(
            &[o.len(), w],
            pred.data[at * w..(at + o.len()) * w].to_vec(),
        )?;
        at += o.len();
        let anchors: Vec<usize> = o.iter().map(|o| o - 1).collect();
        levels.push(pipeline.to_levels(&s.frame, &anchors, &mine)?);
    }
    Ok(Trained { levels, seconds })
}

/// The origins of every series and the trainings of one global model,
/// aligned by time (Darts computes origins per series; one global model
/// must not see, for an origin at time `t`, any row at or after `t` of any
/// series). Each series plans its own origins ([`plan_folds`]); the
/// distinct origin times of all series, sorted, form one timeline, and a
/// training starts at timeline points `0, N, 2N, ...` (`retrain = N`; every
/// point with `"always"`, the first with `"never"`). Training `g`, starting
/// at time `c`, sees of each series the rows before `c` (the last `window`
/// of them) and forecasts every origin at or after `c` and before the next
/// training's time. Times are the parsed time column when every series has
/// one; row positions otherwise (and for one series: then this is
/// [`plan_folds`]' own schedule). A series with fewer than one training's
/// rows before `c` sits that training out, and its origins of that training
/// are dropped (a note says how many).
pub(super) struct GlobalPlan {
    /// Per series: its origins kept, `training_of` = the global training.
    pub(super) per_series: Vec<FoldPlan>,
    /// `parts[g][s]`: the rows of series `s` that training `g` sees.
    pub(super) parts: Vec<Vec<Range<usize>>>,
    /// Per series: a note when origins were dropped.
    pub(super) dropped: Vec<Option<String>>,
}

/// Comparable times of each row of each series: the parsed time column
/// when every series has one that parses, row positions otherwise.
pub(super) fn time_keys(series: &[SeriesData]) -> Vec<Vec<i128>> {
    let parsed: Option<Vec<Vec<i128>>> = series
        .iter()
        .map(|s| {
            let t = s.frame.time.as_deref()?;
            let k = crate::data::time::parse_time_column(t).ok()??;
            Some(k.into_iter().map(|k| k.0).collect())
        })
        .collect();
    parsed.unwrap_or_else(|| {
        series
            .iter()
            .map(|s| (0..s.frame.n_rows() as i128).collect())
            .collect()
    })
}

pub(super) fn plan_global(
    plans: Vec<FoldPlan>,
    spec: &BacktestSpec,
    keys: &[Vec<i128>],
    min_rows: usize,
) -> GlobalPlan {
    let mut timeline: Vec<i128> = plans
        .iter()
        .zip(keys)
        .flat_map(|(p, k)| p.origins.iter().map(|&o| k[o]))
        .collect();
    timeline.sort_unstable();
    timeline.dedup();
    let cutoffs: Vec<i128> = timeline
        .iter()
        .enumerate()
        .filter(|(i, _)| match spec.retrain {
            Retrain::Never => *i == 0,
            Retrain::Always => true,
            Retrain::Every(k) => i % k.max(1) == 0,
        })
        .map(|(_, &t)| t)
        .collect();
    let parts: Vec<Vec<Range<usize>>> = cutoffs
        .iter()
        .map(|&c| {
            keys.iter()
                .map(|k| {
                    let cut = k.partition_point(|&t| t < c);
                    let from = match spec.window {
                        Window::Expanding => 0,
                        Window::Rows(w) => cut.saturating_sub(w),
                    };
                    if cut - from < min_rows {
                        0..0
                    } else {
                        from..cut
                    }
                })
                .collect()
        })
        .collect();
    let mut dropped = Vec::with_capacity(plans.len());
    let per_series = plans
        .into_iter()
        .zip(keys)
        .enumerate()
        .map(|(s, (p, k))| {
            let mut origins = Vec::new();
            let mut training_of = Vec::new();
            let mut lost = 0;
            for &o in &p.origins {
                // the last training starting at or before this origin's time
                let g = cutoffs.partition_point(|&c| c <= k[o]) - 1;
                if parts[g][s].is_empty() {
                    lost += 1;
                } else {
                    origins.push(o);
                    training_of.push(g);
                }
            }
            dropped.push((lost > 0).then(|| {
                format!(
                    "{lost} of {} origins dropped: the global training serving them starts                      before {min_rows} rows of this series",
                    p.origins.len()
                )
            }));
            FoldPlan {
                origins,
                training_of,
                trainings: parts.iter().map(|q| q[s].clone()).collect(),
                moved_from: p.moved_from,
            }
        })
        .collect();
    GlobalPlan {
        per_series,
        parts,
        dropped,
    }
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

/// Backtests `exp` by `spec` on each series (see the [module docs](super)):
/// one global model over all of them (one series: its own model).
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
    let panel = exp.data.id_column.is_some();
    if !panel && series.len() != 1 {
        return Err(Error::Config(format!(
            "backtest: {} series without data.id_column; a panel needs one",
            series.len()
        )));
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
        notes: Vec::new(),
    };
    // plan every series first: errors before any training; in a panel a
    // series without an origin is skipped with a note
    let mut plans = Vec::new();
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for s in series {
        let n = s.frame.n_rows();
        let default_start = ((1.0 - exp.data.test_split) * n as f64).floor() as usize;
        let planned = spec.start_row(&s.frame, default_start).and_then(|start| {
            plan_folds(
                n,
                start,
                h,
                spec.stride,
                spec.retrain,
                spec.window,
                min_rows,
            )
        });
        match planned {
            Ok(p) => {
                plans.push(p);
                kept.push(s.clone());
            }
            Err(e) if panel => skipped.push(format!("'{}' ({n} rows: {})", s.id, e.detail())),
            Err(e) => {
                return Err(Error::Config(format!("{}: {}", s.frame.source, e.detail())));
            }
        }
    }
    if !skipped.is_empty() {
        out.notes.push(format!(
            "{} of {} series skipped (too short for a training and one forecast): {}",
            skipped.len(),
            series.len(),
            skipped.join("; ")
        ));
    }
    if kept.is_empty() {
        return Err(Error::Config(format!(
            "backtest: no series is left: {}",
            out.notes.join("")
        )));
    }
    let keys = time_keys(&kept);
    let mut gp = plan_global(plans, spec, &keys, min_rows);
    // series whose every origin was dropped leave the panel (and its trainings)
    let keep: Vec<bool> = gp
        .per_series
        .iter()
        .map(|p| !p.origins.is_empty())
        .collect();
    for (s, k) in kept.iter().zip(&keep) {
        if !k {
            out.notes.push(format!(
                "series '{}' skipped: no training before its origins has {min_rows} rows of it",
                s.id
            ));
        }
    }
    if !keep.iter().any(|&k| k) {
        return Err(Error::Config(format!(
            "backtest: no series is left: {}",
            out.notes.join("; ")
        )));
    }
    fn pick<T>(v: &mut Vec<T>, keep: &[bool]) {
        let mut i = 0;
        v.retain(|_| (keep[i], i += 1).0);
    }
    pick(&mut kept, &keep);
    pick(&mut gp.per_series, &keep);
    pick(&mut gp.dropped, &keep);
    for part in &mut gp.parts {
        pick(part, &keep);
    }
    let series = &kept[..];
    let n_jobs = gp.parts.len();
    let total_origins: usize = gp.per_series.iter().map(|p| p.origins.len()).sum();
    let bar = progress(quiet, n_jobs);
    let done_origins = AtomicUsize::new(0);
    bar.set_message(format!("0/{total_origins} origins"));
    let needs_dir = exp.callbacks.csv_logger.is_some() || exp.callbacks.model_checkpoint.is_some();
    let results: Mutex<Vec<Option<Result<Trained>>>> =
        Mutex::new((0..n_jobs).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let workers = spec.workers.min(n_jobs).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let g = next.fetch_add(1, Ordering::SeqCst);
                if g >= n_jobs {
                    break;
                }
                let origins: Vec<Vec<usize>> = gp
                    .per_series
                    .iter()
                    .map(|p| {
                        p.origins
                            .iter()
                            .zip(&p.training_of)
                            .filter(|(_, t)| **t == g)
                            .map(|(o, _)| *o)
                            .collect()
                    })
                    .collect();
                let count: usize = origins.iter().map(Vec::len).sum();
                let dir = out_dir.join("folds").join(format!("{g:03}"));
                let made = if needs_dir {
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))
                } else {
                    Ok(())
                };
                let r = made.and_then(|_| {
                    train_and_forecast(&fit_exp, &plan, series, &gp.parts[g], &origins, &dir)
                });
                let failed = r.is_err();
                if let Ok(mut v) = results.lock() {
                    v[g] = Some(r);
                }
                let k = done_origins.fetch_add(count, Ordering::SeqCst) + count;
                bar.set_message(format!("{k}/{total_origins} origins"));
                bar.inc(1);
                if failed {
                    // the others stop at their next job
                    next.store(n_jobs, Ordering::SeqCst);
                }
            });
        }
    });
    bar.finish_and_clear();
    let results = results
        .into_inner()
        .map_err(|_| Error::Other("backtest: a training thread panicked".into()))?;
    let mut trained: Vec<Trained> = Vec::with_capacity(n_jobs);
    for r in results {
        let t = r.ok_or_else(|| Error::Other("backtest: a training did not run".into()))??;
        out.train_seconds += t.seconds;
        trained.push(t);
    }
    for (si, s) in series.iter().enumerate() {
        let p = &gp.per_series[si];
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
                fit: gp.parts[g][si].clone(),
            })
            .collect();
        // position of each origin within its training's batch of this series
        let mut pos = vec![0usize; p.origins.len()];
        let mut seen = vec![0usize; n_jobs];
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
            notes.extend(gp.dropped[si].iter().cloned());
            notes.extend(base.notes.iter().cloned());
            let steps = if spec.last_points_only {
                h - 1..h
            } else {
                0..h
            };
            for (i, &o) in p.origins.iter().enumerate() {
                let tr = &trained[p.training_of[i]].levels[si];
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
                        model: tr[pos[i] * model_h * nt + k * nt + t],
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
    }
    out.retrains = n_jobs;
    if let Some(iv) = &exp.intervals {
        super::bands::add_intervals(&mut out, iv)?;
    }
    out.seconds = t_all.elapsed().as_secs_f64();
    Ok(out)
}
