//! A minimal dense f32 tensor: a shape and a row-major (C order) buffer.
//!
//! The engine works on plain slices; `Tensor` only carries the shape along.
//! `ndarray` is offered at the API boundary through [`Tensor::to_ndarray`] and
//! [`Tensor::from_ndarray`].

use crate::error::{Error, Result};

/// A dense row-major f32 tensor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major data, `shape.iter().product()` long.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; shape.iter().product()],
        }
    }

    /// A tensor from a shape and data; errors if the lengths disagree.
    pub fn new(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::Shape(format!(
                "shape {:?} needs {} values, got {}",
                shape,
                n,
                data.len()
            )));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Re-shapes in place to `shape`, zero-filled, reusing the allocation.
    pub fn resize_zeroed(&mut self, shape: &[usize]) {
        let n: usize = shape.iter().product();
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.data.clear();
        self.data.resize(n, 0.0);
    }

    /// Re-shapes in place to `shape` without clearing (contents unspecified
    /// where the size grows), reusing the allocation.
    pub fn resize_uninit(&mut self, shape: &[usize]) {
        let n: usize = shape.iter().product();
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.data.resize(n, 0.0);
    }

    /// A copy with another shape of the same size.
    pub fn reshaped(&self, shape: &[usize]) -> Result<Self> {
        Tensor::new(shape, self.data.clone())
    }

    /// Batch size: the first dimension (0 for a scalar).
    pub fn batch(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Largest absolute element-wise difference to `other` (infinite if the shapes differ).
    pub fn max_abs_diff(&self, other: &Tensor) -> f32 {
        if self.shape != other.shape {
            return f32::INFINITY;
        }
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    /// True if any element is NaN or infinite.
    pub fn has_non_finite(&self) -> bool {
        self.data.iter().any(|v| !v.is_finite())
    }

    /// Converts to an `ndarray` array of dynamic dimension.
    pub fn to_ndarray(&self) -> ndarray::ArrayD<f32> {
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.shape), self.data.clone())
            .expect("Tensor invariant: data length equals the product of the shape")
    }

    /// Builds a tensor from any `ndarray` array (copied into C order).
    pub fn from_ndarray<D: ndarray::Dimension>(a: &ndarray::Array<f32, D>) -> Self {
        Tensor {
            shape: a.shape().to_vec(),
            data: a.iter().copied().collect(),
        }
    }
}
