//! The forecasting loop (see the [module docs](super)): one series at a
//! time, each window built by the pipeline exactly as in training.

use std::borrow::Cow;

use super::{continue_times, Exog, Forecast, ForecastOptions, Method};
use crate::data::{Frame, Panel, Pipeline, Scaler, SeriesRef};
use crate::error::{Error, Result};
use crate::model::Model;

/// Forecasts `opts.steps` steps after the history in `frame` (one series; see
/// the module docs), with the fitted `pipeline` the model was trained with.
pub fn forecast(
    model: &mut Model,
    pipeline: &Pipeline,
    frame: &Frame,
    opts: &ForecastOptions,
) -> Result<Forecast> {
    let panel = Panel::new(frame);
    if panel.len() > 1 {
        return Err(Error::Config(format!(
            "{}: {} series; forecast them with forecast_panel (or pick one with --series)",
            frame.source,
            panel.len()
        )));
    }
    let s = panel
        .series()
        .next()
        .ok_or_else(|| Error::Data(format!("{}: no rows", frame.source)))?;
    forecast_series(model, pipeline, &s, opts)
}

/// Forecasts every series of a panel (or only `only`), in row order.
pub fn forecast_panel(
    model: &mut Model,
    pipeline: &Pipeline,
    frame: &Frame,
    opts: &ForecastOptions,
    only: Option<&str>,
) -> Result<Vec<Forecast>> {
    let panel = Panel::new(frame);
    let chosen: Vec<SeriesRef> = match only {
        Some(id) => vec![panel.get(id).ok_or_else(|| {
            let ids = panel.ids();
            Error::Data(format!(
                "{}: no series '{id}' (the {} series: {}{})",
                frame.source,
                ids.len(),
                ids.iter().take(10).copied().collect::<Vec<_>>().join(", "),
                if ids.len() > 10 { ", ..." } else { "" }
            ))
        })?],
        None => panel.series().collect(),
    };
    chosen
        .iter()
        .map(|s| forecast_series(model, pipeline, s, opts))
        .collect()
}

/// The scaler of a series: its own from training, or for a series the
/// model has not seen (per-series scaling), one fitted on its history.
fn history_scaler<'p>(
    pipeline: &'p Pipeline,
    s: &SeriesRef,
    cols: &[Vec<f64>],
) -> Result<Cow<'p, Scaler>> {
    if let Some(sc) = pipeline.scaler_for(s.id) {
        return Ok(Cow::Borrowed(sc));
    }
    let data: Vec<Vec<f64>> = cols
        .iter()
        .enumerate()
        .map(|(c, col)| {
            if pipeline.is_differenced(c) {
                (1..col.len()).map(|r| col[r] - col[r - 1]).collect()
            } else {
                col[pipeline.difference..].to_vec()
            }
        })
        .collect();
    let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
    Scaler::fit(pipeline.scaler.kind, &pipeline.scaler.columns, &refs).map(Cow::Owned)
}

/// Forecasts one series (see the module docs).
pub fn forecast_series(
    model: &mut Model,
    pipeline: &Pipeline,
    s: &SeriesRef,
    opts: &ForecastOptions,
) -> Result<Forecast> {
    let frame = s.to_frame();
    let source = frame.source.clone();
    let nf = pipeline.n_features();
    let nt = pipeline.n_targets();
    let h = pipeline.window.horizon;
    let ts = pipeline.window.timesteps;
    let d = pipeline.difference;
    let steps = opts.steps;
    if steps == 0 {
        return Err(Error::Config("forecast: steps must be at least 1".into()));
    }
    // the model must be the pipeline's
    let ins = model.input_shape();
    if ins.len() != 2 || (ins[0] != 0 && ins[0] != ts) || ins[1] != nf {
        return Err(Error::Shape(format!(
            "the model takes inputs {:?} but the data spec gives windows of {ts} rows × {nf} features",
            ins
        )));
    }
    let out: usize = model.output_shape().iter().product();
    if out != h * nt {
        return Err(Error::Shape(format!(
            "the model gives {out} outputs but the data spec expects horizon {h} × {nt} target(s) = {}",
            h * nt
        )));
    }
    let columns = &pipeline.scaler.columns;
    // which scaler columns are targets (fed back) and which are past exogenous inputs
    let target_of: Vec<Option<usize>> = columns
        .iter()
        .map(|c| pipeline.targets.iter().position(|t| t == c))
        .collect();
    let exog_inputs: Vec<&String> = pipeline
        .features
        .iter()
        .filter(|f| !pipeline.targets.contains(f))
        .collect();
    let exog = if exog_inputs.is_empty() {
        None
    } else {
        match opts.exog {
            Some(e) => Some(e),
            None => {
                return Err(Error::Config(format!(
                    "the model's inputs include {} that {} not predicted ({}): say how {} continue{} — \
                     known (future values from the last {steps} rows of the data) or hold (last value held)",
                    if exog_inputs.len() == 1 { "a feature" } else { "features" },
                    if exog_inputs.len() == 1 { "is" } else { "are" },
                    exog_inputs.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                    if exog_inputs.len() == 1 { "it" } else { "they" },
                    if exog_inputs.len() == 1 { "s" } else { "" },
                )))
            }
        }
    };
    let n = frame.n_rows();
    let has_future = !pipeline.future_covariates.is_empty();
    let history_rows = if has_future {
        // the history ends at the last row holding every target
        let targets: Vec<&[f64]> = pipeline
            .targets
            .iter()
            .map(|t| frame.require(t))
            .collect::<Result<_>>()?;
        (0..n)
            .rev()
            .find(|&r| targets.iter().all(|t| t[r].is_finite()))
            .map_or(0, |r| r + 1)
    } else if exog == Some(Exog::Known) {
        n.saturating_sub(steps)
    } else {
        n
    };
    if history_rows < ts + d {
        return Err(Error::Data(format!(
            "{source}: {} history row(s){}, but a window of {ts} rows{} needs {}",
            history_rows,
            if exog == Some(Exog::Known) && !has_future {
                format!(" ({n} rows minus the {steps} rows of known future inputs)")
            } else {
                String::new()
            },
            if d == 1 { " of differences" } else { "" },
            ts + d
        )));
    }
    if exog == Some(Exog::Known) && has_future && n < history_rows + steps {
        return Err(Error::Data(format!(
            "{source}: the known future values of {} need {steps} row(s) after the history \
             (which ends at row {history_rows}), but there are {}",
            exog_inputs
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            n - history_rows
        )));
    }
    // rows of known-ahead channels the windows read: whole blocks of `h` steps
    let future_rows = steps.div_ceil(h) * h;
    let future_needed = if pipeline.known_width() > 0 {
        future_rows
    } else {
        0
    };
    // original-unit series of every scaler column over the history
    let mut series: Vec<Vec<f64>> = Vec::with_capacity(columns.len());
    for c in columns {
        let col = frame.require(c)?;
        let mut v = Vec::with_capacity(history_rows + future_rows);
        v.extend_from_slice(&col[..history_rows]);
        series.push(v);
    }
    for (c, name) in columns.iter().enumerate() {
        if let Some(r) = series[c].iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "{source}: column '{name}', history row {}: no value",
                r + 1
            )));
        }
    }
    let scaler = history_scaler(pipeline, s, &series)?;
    // future covariates of the forecast rows, from the rows after the history
    let mut missing: Vec<String> = Vec::new();
    let mut future_cov: Vec<Vec<f64>> = Vec::new();
    for name in &pipeline.future_covariates {
        let col = frame.require(name)?;
        let avail = &col[history_rows.min(n)..n.min(history_rows + future_needed)];
        let gone: Vec<usize> = (0..future_needed)
            .filter(|&k| avail.get(k).is_none_or(|v| !v.is_finite()))
            .collect();
        if !gone.is_empty() {
            missing.push(format!("{name} ({})", step_list(&gone)));
        }
        let mut v = col[..history_rows].to_vec();
        v.extend(avail.iter().copied());
        future_cov.push(v);
    }
    if !missing.is_empty() {
        return Err(Error::Data(format!(
            "{source}: future covariates missing for the forecast: {}; the {} row(s) after the \
             history (which ends at row {history_rows}, the last with every target) must hold them \
             for {future_needed} step(s) ({steps} forecast{})",
            missing.join(", "),
            n - history_rows,
            if future_needed > steps {
                format!(", in whole blocks of the horizon {h}")
            } else {
                String::new()
            }
        )));
    }
    // time cells of history and forecast rows: the file's, or the history's spacing continued
    let times: Option<Vec<String>> = match &frame.time {
        Some(t) => {
            let want = future_rows.max(steps);
            let after = &t[history_rows..n.min(history_rows + want)];
            let future = if after.len() == want {
                Some(after.to_vec())
            } else {
                continue_times(&t[..history_rows], want)
            };
            future.map(|f| t[..history_rows].iter().cloned().chain(f).collect())
        }
        None => None,
    };
    let mut known: Vec<Vec<f64>> = Vec::with_capacity(pipeline.known_width());
    for (name, v) in pipeline.future_covariates.iter().zip(future_cov) {
        let c = scaler
            .column_index(name)
            .ok_or_else(|| Error::Data(format!("the scaler has no column '{name}'")))?;
        known.push(v.iter().map(|&x| scaler.transform(c, x)).collect());
    }
    if !pipeline.calendar.is_empty() {
        let cells = times.as_deref().ok_or_else(|| {
            Error::Data(format!(
                "{source}: calendar features need the times of the forecast rows: give them in \
                 rows after the history, or a regular time column to continue"
            ))
        })?;
        let values = pipeline
            .time_values(Some(cells), &source)?
            .unwrap_or_default();
        known.extend(pipeline.calendar_channels(&values, &source)?);
    }
    let statics = pipeline
        .static_covariates
        .iter()
        .map(|c| Ok(frame.require(c)?[0]))
        .collect::<Result<Vec<_>>>()?;
    let mut view = crate::data::SeriesView {
        cols: series,
        known,
        constant: pipeline.constant_channels(s.id, &statics)?,
        scaler,
    };
    let past_future: Vec<Option<&[f64]>> = columns
        .iter()
        .zip(&target_of)
        .map(|(c, t)| match (t, exog) {
            (None, Some(Exog::Known)) if pipeline.features.contains(c) => frame.column(c),
            _ => None,
        })
        .collect();
    let mut window = Vec::with_capacity(ts * nf);
    let mut level = vec![0.0f64; nt];
    if model.is_stateful() {
        model.reset_states();
    }
    let mut produced = 0;
    while produced < steps {
        let len = view.cols[0].len();
        window.clear();
        pipeline.push_window(&view, len - 1, &mut window);
        let y = model.predict_one(&window)?;
        for (t, l) in level.iter_mut().enumerate() {
            *l = *view.cols[pipeline.target_scaler_column(t)]
                .last()
                .unwrap_or(&0.0);
        }
        let take = h.min(steps - produced);
        for k in 0..take {
            for t in 0..nt {
                let v = view
                    .scaler
                    .inverse_transform(pipeline.target_scaler_column(t), y[k * nt + t] as f64);
                level[t] = if d == 1 { level[t] + v } else { v };
            }
            if level.iter().any(|v| !v.is_finite()) {
                return Err(Error::Data(format!(
                    "the forecast became non-finite at step {}",
                    produced + k + 1
                )));
            }
            let row = history_rows + produced + k;
            for (c, col) in view.cols.iter_mut().enumerate() {
                let v = match (target_of[c], past_future[c]) {
                    (Some(t), _) => level[t],
                    (None, Some(f)) => f[row],
                    (None, None) => match frame.column(&columns[c]) {
                        // a future covariate: its known value
                        Some(f) if pipeline.future_covariates.contains(&columns[c]) => f[row],
                        _ => *col.last().unwrap_or(&0.0),
                    },
                };
                col.push(v);
            }
        }
        produced += take;
    }
    let mut values = Vec::with_capacity(steps * nt);
    for k in 0..steps {
        for t in 0..nt {
            values.push(view.cols[pipeline.target_scaler_column(t)][history_rows + k]);
        }
    }
    let times = match (exog, &frame.time) {
        (Some(Exog::Known), Some(t)) if !has_future => {
            Some(t[history_rows..history_rows + steps].to_vec())
        }
        _ => times.map(|t| t[history_rows..history_rows + steps].to_vec()),
    };
    Ok(Forecast {
        targets: pipeline.targets.clone(),
        values,
        steps,
        history_rows,
        times,
        method: if h == 1 {
            Method::Recursive
        } else if steps <= h {
            Method::Direct
        } else {
            Method::DirectRecursive
        },
        series: (!s.id.is_empty()).then(|| s.id.to_string()),
        intervals: Vec::new(),
    })
}

/// Steps (0-based) as 1-based ranges: `steps 3..5, 7`.
fn step_list(steps: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let mut j = i;
        while j + 1 < steps.len() && steps[j + 1] == steps[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            format!("{}", steps[i] + 1)
        } else {
            format!("{}..{}", steps[i] + 1, steps[j] + 1)
        });
        i = j + 1;
    }
    format!(
        "step{} {}",
        if steps.len() == 1 { "" } else { "s" },
        parts.join(", ")
    )
}
