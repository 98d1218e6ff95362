//! Training windows as views into the series' rows, never materialised.
//!
//! A [`Windows`](super::Windows) tensor repeats every row `timesteps` times
//! (`(samples, timesteps, features)` floats); for a large panel that is most
//! of the memory. [`WindowViews`] holds each row's model-space inputs and
//! targets once, as f32 (`rows × features` and `rows × targets`, the series
//! one after another), and each window as the index of its first input row:
//! the window starting at store row `s` is inputs `s .. s + timesteps` and
//! targets `s + timesteps .. s + timesteps + horizon` — both contiguous, so a
//! batch is gathered with two copies per window into the fit loop's reused
//! buffers ([`BatchSource`]). The values, and so the batches and the bits of a
//! fit, are exactly those of the materialised windows
//! ([`prepare_frame_views`](super::prepare_frame_views) builds both from the
//! same rows).

use super::panel::SeriesView;
use super::Pipeline;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::train::BatchSource;

/// The rows of the training parts of every series, and the training and
/// validation windows over them (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowViews {
    /// Input rows per window.
    pub timesteps: usize,
    /// Predicted rows per window.
    pub horizon: usize,
    /// Inputs per row.
    pub n_features: usize,
    /// Targets per row.
    pub n_targets: usize,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    /// First store row of each training window, in window order.
    pub train: Vec<u32>,
    /// First store row of each validation window, in window order.
    pub val: Vec<u32>,
}

/// Some windows of a [`WindowViews`], as a [`BatchSource`].
#[derive(Clone, Copy, Debug)]
pub struct ViewSet<'a> {
    views: &'a WindowViews,
    starts: &'a [u32],
}

impl WindowViews {
    /// An empty store for windows of `pipeline`'s geometry.
    pub(crate) fn new(pipeline: &Pipeline) -> Self {
        WindowViews {
            timesteps: pipeline.window.timesteps,
            horizon: pipeline.window.horizon,
            n_features: pipeline.n_features(),
            n_targets: pipeline.targets.len(),
            ..WindowViews::default()
        }
    }

    /// Rows held.
    pub fn rows(&self) -> usize {
        self.targets.len() / self.n_targets.max(1)
    }

    /// Bytes of the rows and window indices held.
    pub fn bytes(&self) -> usize {
        4 * (self.inputs.len() + self.targets.len() + self.train.len() + self.val.len())
    }

    /// The training windows.
    pub fn train_set(&self) -> ViewSet<'_> {
        ViewSet {
            views: self,
            starts: &self.train,
        }
    }

    /// The validation windows.
    pub fn val_set(&self) -> ViewSet<'_> {
        ViewSet {
            views: self,
            starts: &self.val,
        }
    }

    /// Appends local rows `0..n_rows` of series `v` and returns the first
    /// store row of each window over them (`stride` apart; rows before
    /// `difference` have no model value and start no window), with the local
    /// anchor of each. Errors like [`Pipeline::view_windows`] when the rows
    /// hold no window.
    pub(crate) fn append_series(
        &mut self,
        pipeline: &Pipeline,
        v: &SeriesView,
        n_rows: usize,
        stride: usize,
        source: &str,
    ) -> Result<Vec<(u32, usize)>> {
        let (rows, spec) = pipeline.window_rows(v, 0..n_rows, stride, source)?;
        let n = rows.len();
        let base = self.rows();
        self.inputs.reserve(n * self.n_features);
        self.targets.reserve(n * self.n_targets);
        for r in rows.clone() {
            pipeline.push_row(v, r, &mut self.inputs);
            pipeline.push_target_row(v, r, &mut self.targets);
        }
        let ts = spec.timesteps;
        (0..spec.count(n))
            .map(|i| {
                let first = base + i * stride;
                let start = u32::try_from(first).map_err(|_| {
                    Error::Data(format!(
                        "{source}: more than {} rows of training windows (the window index is 32-bit)",
                        u32::MAX
                    ))
                })?;
                Ok((start, rows.start + i * stride + ts - 1))
            })
            .collect()
    }
}

impl BatchSource for ViewSet<'_> {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn gather(&self, idx: &[usize], xb: &mut Tensor, yb: &mut Tensor) {
        let v = self.views;
        let (ts, nf, nt, h) = (v.timesteps, v.n_features, v.n_targets, v.horizon);
        let (px, py) = (ts * nf, h * nt);
        xb.resize_uninit(&[idx.len(), ts, nf]);
        yb.resize_uninit(&[idx.len(), py]);
        for (k, &i) in idx.iter().enumerate() {
            let s = self.starts[i] as usize;
            xb.data[k * px..(k + 1) * px].copy_from_slice(&v.inputs[s * nf..(s + ts) * nf]);
            yb.data[k * py..(k + 1) * py]
                .copy_from_slice(&v.targets[(s + ts) * nt..(s + ts + h) * nt]);
        }
    }

    fn targets_non_finite(&self) -> bool {
        self.views.targets.iter().any(|v| !v.is_finite())
    }
}
