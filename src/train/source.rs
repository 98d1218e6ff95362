//! Where [`Model::fit`](crate::model::Model::fit) takes its batches from.
//!
//! A [`BatchSource`] holds `len()` samples and copies any of them, by index,
//! into a batch buffer the fit loop reuses (no allocation per batch once the
//! buffers have grown). Two sources exist: [`TensorPair`], samples `range` of
//! materialised `(x, y)` tensors (first axis), and
//! [`ViewSet`](crate::data::ViewSet), windows read straight from the series'
//! rows (the window tensor of a large panel is never built).

use std::ops::Range;

use crate::tensor::Tensor;

/// Samples that can be gathered into batches.
pub trait BatchSource {
    /// Number of samples.
    fn len(&self) -> usize;
    /// True when there is no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies samples `idx` (in that order) into `xb` (`[idx.len(), ..x's sample shape]`)
    /// and `yb` (`[idx.len(), ..y's sample shape]`), reusing their allocations.
    fn gather(&self, idx: &[usize], xb: &mut Tensor, yb: &mut Tensor);
    /// True when a target value is NaN or infinite.
    fn targets_non_finite(&self) -> bool;
}

/// Samples `range` of `x` and `y` (first axis), borrowed.
#[derive(Clone, Copy, Debug)]
pub struct TensorPair<'a> {
    /// Inputs, `[samples, ..]`.
    pub x: &'a Tensor,
    /// Targets, `[samples, ..]`.
    pub y: &'a Tensor,
    /// The samples used.
    pub range: (usize, usize),
}

impl<'a> TensorPair<'a> {
    /// Every sample of `x` and `y`.
    pub fn new(x: &'a Tensor, y: &'a Tensor) -> Self {
        TensorPair {
            x,
            y,
            range: (0, x.batch()),
        }
    }
    /// Samples `r` of `x` and `y`.
    pub fn range(x: &'a Tensor, y: &'a Tensor, r: Range<usize>) -> Self {
        TensorPair {
            x,
            y,
            range: (r.start, r.end),
        }
    }
}

/// Copies samples `off + idx` of `src` (first axis) into `dst`, reusing its allocation.
pub(crate) fn gather_rows(src: &Tensor, off: usize, idx: &[usize], dst: &mut Tensor) {
    let per: usize = src.shape[1..].iter().product();
    let mut shape = src.shape.clone();
    shape[0] = idx.len();
    dst.resize_uninit(&shape);
    for (k, &i) in idx.iter().enumerate() {
        let i = off + i;
        dst.data[k * per..(k + 1) * per].copy_from_slice(&src.data[i * per..(i + 1) * per]);
    }
}

impl BatchSource for TensorPair<'_> {
    fn len(&self) -> usize {
        self.range.1 - self.range.0
    }
    fn gather(&self, idx: &[usize], xb: &mut Tensor, yb: &mut Tensor) {
        gather_rows(self.x, self.range.0, idx, xb);
        gather_rows(self.y, self.range.0, idx, yb);
    }
    fn targets_non_finite(&self) -> bool {
        let per: usize = self.y.shape[1..].iter().product();
        self.y.data[self.range.0 * per..self.range.1 * per]
            .iter()
            .any(|v| !v.is_finite())
    }
}
