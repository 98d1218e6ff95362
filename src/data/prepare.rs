//! [`prepare_frame`]: a frame (one series, or a panel) split, scaled and
//! windowed into a [`Prepared`] (see the [module docs](super) for one series
//! and [`super::panel`] for many).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use super::time::fractional_year;
use super::{DataSpec, Frame, Pipeline, Scaler, ScalerKind, WindowViews, Windows};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// One series of a [`Prepared`] panel: its rows and where its windows are.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPart {
    /// Its id (`""` for a file without an id column).
    pub id: String,
    /// Its rows in the frame.
    pub rows: std::ops::Range<usize>,
    /// Rows of its training part (`floor((1 - test_split) * rows)`), from `rows.start`.
    pub n_train: usize,
    /// Its windows among [`Prepared::train`], [`Prepared::val`] and [`Prepared::test`].
    pub train: std::ops::Range<usize>,
    pub val: std::ops::Range<usize>,
    pub test: std::ops::Range<usize>,
}

/// Everything training and evaluation need, from one [`DataSpec`].
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The spec it was built from.
    pub spec: DataSpec,
    /// The fitted pipeline (store it with the model).
    pub pipeline: Pipeline,
    /// The loaded data, original units.
    pub frame: Frame,
    /// Rows in the file.
    pub n_rows: usize,
    /// Rows in the training part (`floor((1 - test_split) * n_rows)`; in a
    /// panel, summed over the series used).
    pub n_train_rows: usize,
    /// Training windows (without the validation windows), of every series.
    pub train: Windows,
    /// Validation windows: the last `validation_split` of the training windows (may be empty).
    pub val: Windows,
    /// Test windows (empty when `test_split = 0`).
    pub test: Windows,
    /// True test targets in original units, `(test windows, horizon * targets)` step-major.
    pub test_truth: Vec<f64>,
    /// Time-column value of each test window's first predicted row (`None` without a time column).
    pub test_times: Option<Vec<String>>,
    /// The series used, in row order (one for a file without an id column).
    pub series: Vec<SeriesPart>,
    /// Ids of the series skipped as too short.
    pub skipped: Vec<String>,
}

impl Prepared {
    /// Test-window predictions (model outputs: scaled, differenced when asked)
    /// in original units, same layout as [`Prepared::test_truth`].
    /// Accepts shape `(n, horizon * targets)`, `(n, horizon, targets)` or `(n,)` for one output.
    pub fn to_original_units(&self, pred: &Tensor) -> Result<Vec<f64>> {
        self.pipeline
            .to_levels(&self.frame, &self.test.anchors, pred)
    }

    /// Like [`Prepared::to_original_units`] for any windows of this data (train, val, test).
    pub fn to_original_units_for(&self, windows: &Windows, pred: &Tensor) -> Result<Vec<f64>> {
        self.pipeline.to_levels(&self.frame, &windows.anchors, pred)
    }

    /// True targets of any windows of this data, original units.
    pub fn truth_for(&self, windows: &Windows) -> Result<Vec<f64>> {
        self.pipeline.truth(&self.frame, &windows.anchors)
    }

    /// Time-column values of rows `anchor + 1 + step` of the given windows.
    pub fn target_times(&self, windows: &Windows, step: usize) -> Option<Vec<String>> {
        let t = self.frame.time.as_ref()?;
        windows
            .anchors
            .iter()
            .map(|a| t.get(a + 1 + step).cloned())
            .collect()
    }

    /// Original-unit series of target `t` (all rows, every series).
    pub fn target_levels(&self, t: usize) -> &[f64] {
        self.frame
            .column(&self.pipeline.targets[t])
            .unwrap_or_default()
    }

    /// True when the data are a panel (an id column).
    pub fn is_panel(&self) -> bool {
        self.spec.id_column.is_some()
    }

    /// Rebuilds the test windows and truths with another fitted pipeline of
    /// the same data (a saved model's own), series by series.
    pub fn rewindow_test(&mut self, pipeline: Pipeline) -> Result<()> {
        let w = pipeline.window;
        let mut test = Windows::empty(w.timesteps, pipeline.n_features(), pipeline.output_width());
        for s in &mut self.series {
            let start = test.len();
            if self.spec.test_split > 0.0 && s.n_train < s.rows.len() {
                let rows = s.rows.start + s.n_train..s.rows.end;
                test.append(pipeline.windows(&self.frame, rows, 1)?)?;
            }
            s.test = start..test.len();
        }
        self.test_truth = pipeline.truth(&self.frame, &test.anchors)?;
        self.test = test;
        self.pipeline = pipeline;
        self.test_times = self.target_times(&self.test, 0);
        Ok(())
    }

    /// A one-line description: rows, split and window counts.
    pub fn describe(&self) -> String {
        let series = if self.is_panel() {
            format!(
                " in {} series{}",
                self.series.len(),
                if self.skipped.is_empty() {
                    String::new()
                } else {
                    format!(" ({} skipped)", self.skipped.len())
                }
            )
        } else {
            String::new()
        };
        format!(
            "{}: {} rows{series} ({} train, {} test); windows: {} train, {} validation, {} test; \
             input ({}, {}), {} output(s){}",
            self.frame.source,
            self.n_rows,
            self.n_train_rows,
            self.n_rows - self.n_train_rows,
            self.train.len(),
            self.val.len(),
            self.test.len(),
            self.pipeline.window.timesteps,
            self.pipeline.n_features(),
            self.pipeline.output_width(),
            if self.pipeline.difference == 1 {
                ", on first differences"
            } else {
                ""
            }
        )
    }
}

/// Loads the spec's CSV (path relative to `base_dir`) and prepares it ([`prepare_frame`]).
pub fn prepare(spec: &DataSpec, base_dir: &Path) -> Result<Prepared> {
    spec.validate()?;
    let frame = spec.load_frame(base_dir)?;
    prepare_frame(spec, frame)
}

/// Why a series of `n` rows gives no window, or `None` when it gives them.
fn too_short_reason(spec: &DataSpec, n: usize, source: &str) -> Option<String> {
    let n_train = ((1.0 - spec.test_split) * n as f64).floor() as usize;
    let d = spec.difference;
    let w = spec.window_spec();
    if n_train.saturating_sub(d) < w.span() {
        return Some(format!(
            "{source}: training part too short: {n_train} of {n} rows (test_split {}){}, but one \
             window needs timesteps ({}) + horizon ({}) = {} rows",
            spec.test_split,
            if d == 1 {
                ", minus 1 for differencing"
            } else {
                ""
            },
            w.timesteps,
            w.horizon,
            w.span()
        ));
    }
    let n_test = n - n_train;
    if spec.test_split > 0.0 && n_test > 0 && n_test < w.span() {
        return Some(format!(
            "{source}: test part too short: {n_test} of {n} rows (test_split {}), but one window \
             needs timesteps ({}) + horizon ({}) = {} rows",
            spec.test_split,
            w.timesteps,
            w.horizon,
            w.span()
        ));
    }
    None
}

/// The note on skipped series: a count and their names (the first 20).
fn skipped_note(
    spec: &DataSpec,
    source: &str,
    skipped: &[(String, usize)],
    total: usize,
) -> String {
    let names: Vec<String> = skipped
        .iter()
        .take(20)
        .map(|(id, n)| format!("'{id}' ({n} rows)"))
        .collect();
    let more = if skipped.len() > 20 {
        format!(" and {} more", skipped.len() - 20)
    } else {
        String::new()
    };
    format!(
        "{source}: {} of {total} series skipped, too short for one training{} window \
         (timesteps {} + horizon {}{}, test_split {}): {}{more}",
        skipped.len(),
        if spec.test_split > 0.0 {
            " and one test"
        } else {
            ""
        },
        spec.timesteps,
        spec.horizon,
        if spec.difference == 1 {
            ", plus 1 row for differencing"
        } else {
            ""
        },
        spec.test_split,
        names.join(", ")
    )
}

/// Splits each series, fits the scalers on the training rows only and
/// builds the windows (see the module docs of [`super`] and [`super::panel`]).
pub fn prepare_frame(spec: &DataSpec, frame: Frame) -> Result<Prepared> {
    prepare_into(spec, frame, None)
}

/// [`prepare_frame`] with the training and validation windows as views
/// ([`WindowViews`]: each row held once, no window tensor). The returned
/// [`Prepared`]'s `train` and `val` are empty; its series' `train` / `val`
/// ranges index the views' `train` / `val`; the test windows are materialised
/// as usual. The views' windows are the same windows, in the same order, with
/// the same values as [`prepare_frame`]'s.
pub fn prepare_frame_views(spec: &DataSpec, frame: Frame) -> Result<(Prepared, WindowViews)> {
    let mut views = WindowViews::default();
    let p = prepare_into(spec, frame, Some(&mut views))?;
    Ok((p, views))
}

fn prepare_into(
    spec: &DataSpec,
    mut frame: Frame,
    mut views: Option<&mut WindowViews>,
) -> Result<Prepared> {
    spec.validate()?;
    for c in spec.columns().iter().chain(&spec.static_covariates) {
        frame.require(c)?;
    }
    let panel = spec.id_column.is_some();
    if panel && frame.series.is_empty() {
        return Err(Error::Data(format!(
            "{}: data.id_column is set but the data hold no series (read it with the spec's \
             csv_options, or cut it with Frame::with_series)",
            frame.source
        )));
    }
    let d = spec.difference;
    let wspec = spec.window_spec();
    // which series are long enough
    let all = frame.series_ranges();
    let mut kept = Vec::with_capacity(all.len());
    let mut skipped = Vec::new();
    for (id, rows) in all.iter() {
        match too_short_reason(spec, rows.len(), &frame.source) {
            None => {
                let n_train = ((1.0 - spec.test_split) * rows.len() as f64).floor() as usize;
                kept.push((id.clone(), rows.clone(), n_train));
            }
            Some(why) if !panel => return Err(Error::Data(why)),
            Some(_) => skipped.push((id.clone(), rows.len())),
        }
    }
    if kept.is_empty() {
        return Err(Error::Data(format!(
            "no series is left to train on: {}",
            skipped_note(spec, &frame.source, &skipped, all.len())
        )));
    }
    if !skipped.is_empty() {
        let note = skipped_note(spec, &frame.source, &skipped, all.len());
        frame.notes.push(note);
    }
    let features = spec.feature_names();
    let columns = spec.columns();
    let mut pipeline = Pipeline {
        features: features.clone(),
        targets: spec.target.clone(),
        time_column: spec.time_column.clone(),
        window: wspec,
        difference: d,
        fill: spec.fill,
        scaler: Scaler::fit(ScalerKind::None, &[], &[])?,
        delimiter: spec.delimiter,
        decimal: spec.decimal,
        time_order: spec.time_order,
        id_column: spec.id_column.clone(),
        future_covariates: spec.future_covariates.clone(),
        calendar: spec.calendar.clone(),
        calendar_encoding: spec.calendar_encoding,
        calendar_years: None,
        static_covariates: spec.static_covariates.clone(),
        static_scaler: None,
        onehot_ids: if spec.id_onehot {
            kept.iter().map(|k| k.0.clone()).collect()
        } else {
            Vec::new()
        },
        series_scalers: BTreeMap::new(),
    };
    pipeline.scaler.columns = columns.clone();
    fit_scalers(spec, &mut pipeline, &frame, &kept)?;
    fit_statics_and_years(spec, &mut pipeline, &frame, &kept)?;

    let (ts, nf, w) = (
        wspec.timesteps,
        pipeline.n_features(),
        pipeline.output_width(),
    );
    let mut train = Windows::empty(ts, nf, w);
    let mut val = Windows::empty(ts, nf, w);
    let mut test = Windows::empty(ts, nf, w);
    let mut series = Vec::with_capacity(kept.len());
    for (id, rows, n_train) in &kept {
        let scaler = pipeline
            .scaler_for(id)
            .ok_or_else(|| Error::Data(format!("series '{id}': no scaler was fitted")))?;
        let view = pipeline.series_view_with(&frame, id, rows.clone(), Cow::Borrowed(scaler))?;
        let shift = |mut w: Windows| {
            w.anchors.iter_mut().for_each(|a| *a += rows.start);
            w
        };
        let (all_train, starts) = match views.as_deref_mut() {
            None => (
                shift(pipeline.view_windows(&view, 0..*n_train, spec.stride, &frame.source)?),
                Vec::new(),
            ),
            Some(store) => {
                if store.n_features == 0 {
                    *store = WindowViews::new(&pipeline);
                }
                let starts =
                    store.append_series(&pipeline, &view, *n_train, spec.stride, &frame.source)?;
                (Windows::empty(ts, nf, w), starts)
            }
        };
        let nw = all_train.len().max(starts.len());
        let split_at = if spec.validation_split > 0.0 {
            let s = (nw as f64 * (1.0 - spec.validation_split)).floor() as usize;
            if !panel && (s == 0 || s == nw) {
                return Err(Error::Data(format!(
                    "{}: {nw} training windows are not enough to split off validation_split = {} \
                     (Keras' rule: at least one window on each side)",
                    frame.source, spec.validation_split
                )));
            }
            s
        } else {
            nw
        };
        let (tr, va) = all_train.split_at(split_at)?;
        let (mut t0, mut v0, s0) = (train.len(), val.len(), test.len());
        train.append(tr)?;
        val.append(va)?;
        let (mut t1, mut v1) = (train.len(), val.len());
        if let Some(store) = views.as_deref_mut() {
            (t0, v0) = (store.train.len(), store.val.len());
            store.train.extend(starts[..split_at].iter().map(|s| s.0));
            store.val.extend(starts[split_at..].iter().map(|s| s.0));
            (t1, v1) = (store.train.len(), store.val.len());
        }
        if spec.test_split > 0.0 && *n_train < rows.len() {
            test.append(shift(pipeline.view_windows(
                &view,
                *n_train..rows.len(),
                1,
                &frame.source,
            )?))?;
        }
        series.push(SeriesPart {
            id: id.clone(),
            rows: rows.clone(),
            n_train: *n_train,
            train: t0..t1,
            val: v0..v1,
            test: s0..test.len(),
        });
    }
    let (n_tr, n_va) = match views.as_deref() {
        None => (train.len(), val.len()),
        Some(store) => (store.train.len(), store.val.len()),
    };
    if spec.validation_split > 0.0 && (n_tr == 0 || n_va == 0) {
        return Err(Error::Data(format!(
            "{}: {} training windows over {} series are not enough to split off \
             validation_split = {} (at least one window on each side)",
            frame.source,
            n_tr + n_va,
            series.len(),
            spec.validation_split
        )));
    }
    let test_truth = pipeline.truth(&frame, &test.anchors)?;
    let n_train_rows = kept.iter().map(|k| k.2).sum();
    let mut p = Prepared {
        spec: spec.clone(),
        pipeline,
        n_rows: frame.n_rows(),
        frame,
        n_train_rows,
        train,
        val,
        test,
        test_truth,
        test_times: None,
        series,
        skipped: skipped.into_iter().map(|s| s.0).collect(),
    };
    p.test_times = p.target_times(&p.test, 0);
    Ok(p)
}

/// Model-space values (differenced where asked, not scaled) of scaler column
/// `c` over the training rows `d..n_train` of a series.
fn train_values(pipeline: &Pipeline, col: &[f64], c: usize, n_train: usize) -> Vec<f64> {
    if pipeline.is_differenced(c) {
        (1..n_train).map(|r| col[r] - col[r - 1]).collect()
    } else {
        col[pipeline.difference..n_train].to_vec()
    }
}

/// The shared scaler on the training rows of every series, and with
/// `scale_per_series` one per series on its own training rows.
fn fit_scalers(
    spec: &DataSpec,
    pipeline: &mut Pipeline,
    frame: &Frame,
    kept: &[(String, std::ops::Range<usize>, usize)],
) -> Result<()> {
    let columns = pipeline.scaler.columns.clone();
    let kind = spec.scaler_kind();
    let label = |e: Error, id: &str| match e {
        Error::Data(m) if id.is_empty() => Error::Data(format!("{}: {m}", frame.source)),
        Error::Data(m) => Error::Data(format!("{} (series '{id}'): {m}", frame.source)),
        e => e,
    };
    let mut pooled: Vec<Vec<f64>> = vec![Vec::new(); columns.len()];
    for (id, rows, n_train) in kept {
        let mut own = Vec::with_capacity(columns.len());
        for (c, name) in columns.iter().enumerate() {
            let col = &frame.require(name)?[rows.clone()];
            own.push(train_values(pipeline, col, c, *n_train));
        }
        if spec.per_series_scaling() {
            let refs: Vec<&[f64]> = own.iter().map(Vec::as_slice).collect();
            let s = Scaler::fit(kind, &columns, &refs).map_err(|e| label(e, id))?;
            pipeline.series_scalers.insert(id.clone(), s);
        }
        for (p, v) in pooled.iter_mut().zip(own) {
            p.extend(v);
        }
    }
    let refs: Vec<&[f64]> = pooled.iter().map(Vec::as_slice).collect();
    pipeline.scaler = Scaler::fit(kind, &columns, &refs).map_err(|e| label(e, ""))?;
    Ok(())
}

/// Static covariates (constant within each series; scaled over the series)
/// and the training rows' year range of the `year` calendar feature.
fn fit_statics_and_years(
    spec: &DataSpec,
    pipeline: &mut Pipeline,
    frame: &Frame,
    kept: &[(String, std::ops::Range<usize>, usize)],
) -> Result<()> {
    if !spec.static_covariates.is_empty() {
        let mut per: Vec<Vec<f64>> =
            vec![Vec::with_capacity(kept.len()); spec.static_covariates.len()];
        for (c, name) in spec.static_covariates.iter().enumerate() {
            let col = frame.require(name)?;
            for (id, rows, _) in kept {
                let v = &col[rows.clone()];
                if let Some(r) = v.iter().position(|x| *x != v[0]) {
                    return Err(Error::Data(format!(
                        "{}: static covariate '{name}' changes within series '{id}' (row {} \
                         holds {}, its first row {}); static covariates are constant per series",
                        frame.source,
                        r + 1,
                        v[r],
                        v[0]
                    )));
                }
                per[c].push(v[0]);
            }
        }
        let refs: Vec<&[f64]> = per.iter().map(Vec::as_slice).collect();
        pipeline.static_scaler = Some(Scaler::fit(
            spec.scaler_kind(),
            &spec.static_covariates,
            &refs,
        )?);
    }
    if spec.calendar.contains(&super::time::CalendarFeature::Year) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (_, rows, n_train) in kept {
            let cells = frame
                .time
                .as_ref()
                .map(|t| &t[rows.start..rows.start + n_train]);
            if let Some(values) = pipeline.time_values(cells, &frame.source)? {
                for v in &values {
                    if let Some(y) = fractional_year(v) {
                        lo = lo.min(y);
                        hi = hi.max(y);
                    }
                }
            }
        }
        if lo.is_finite() {
            pipeline.calendar_years = Some((lo, hi));
        }
    }
    Ok(())
}
