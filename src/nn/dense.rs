//! `Dense`: `y = act(x·W + b)` over the last axis (any leading axes).

use super::{Activation, Initializer, Layer, Param, Shape};
use crate::error::{Error, Result};
use crate::nn::gemm;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

/// A fully connected layer, as `keras.layers.Dense`.
///
/// ```
/// use lstmkit::nn::{Dense, Activation};
/// let d = Dense::new(4).activation(Activation::Relu).use_bias(true);
/// assert_eq!(d.units, 4);
/// ```
pub struct Dense {
    /// Output width.
    pub units: usize,
    /// Activation applied to `x·W + b`.
    pub activation: Activation,
    /// Whether a bias is added.
    pub use_bias: bool,
    /// Kernel initialiser (default glorot_uniform).
    pub kernel_initializer: Initializer,
    /// Bias initialiser (default zeros).
    pub bias_initializer: Initializer,
    /// Optional kernel penalty.
    pub kernel_regularizer: Option<Regularizer>,
    /// Optional bias penalty.
    pub bias_regularizer: Option<Regularizer>,
    kernel: Param,
    bias: Param,
    in_dim: usize,
    pre: Vec<f32>,
    dz: Vec<f32>,
}

impl Dense {
    /// A Dense layer with `units` outputs and Keras' defaults.
    pub fn new(units: usize) -> Self {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            kernel_regularizer: None,
            bias_regularizer: None,
            kernel: Param::default(),
            bias: Param::default(),
            in_dim: 0,
            pre: Vec::new(),
            dz: Vec::new(),
        }
    }
    /// Sets the activation.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// Sets `use_bias`.
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Sets the kernel regulariser.
    pub fn kernel_regularizer(mut self, r: Regularizer) -> Self {
        self.kernel_regularizer = Some(r);
        self
    }
    /// Sets the bias regulariser.
    pub fn bias_regularizer(mut self, r: Regularizer) -> Self {
        self.bias_regularizer = Some(r);
        self
    }
    /// Sets the kernel initialiser.
    pub fn kernel_initializer(mut self, i: Initializer) -> Self {
        self.kernel_initializer = i;
        self
    }
}

impl Layer for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 1 {
            return Err(Error::Shape(format!(
                "Dense takes one input, got {}",
                input_shapes.len()
            )));
        }
        let s = &input_shapes[0];
        let Some(&f) = s.last() else {
            return Err(Error::Shape(
                "Dense needs an input of rank ≥ 2 (batch, features)".into(),
            ));
        };
        if f == 0 || self.units == 0 {
            return Err(Error::Shape(format!(
                "Dense needs a known input width and units > 0 (input {s:?}, units {})",
                self.units
            )));
        }
        let u = self.units;
        if self.kernel.value.shape != [f, u] {
            self.kernel = Param::new("kernel", &[f, u], self.kernel_initializer.fill(f, u, rng));
        }
        self.kernel.regularizer = self.kernel_regularizer;
        if self.use_bias {
            if self.bias.value.shape != [u] {
                self.bias = Param::new("bias", &[u], self.bias_initializer.fill(1, u, rng));
            }
            self.bias.regularizer = self.bias_regularizer;
        }
        self.in_dim = f;
        let mut out = s.clone();
        *out.last_mut().expect("non-empty") = u;
        Ok(vec![out])
    }

    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        _training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        let f = self.in_dim;
        if x.shape.last() != Some(&f) {
            return Err(Error::Shape(format!(
                "Dense expects last axis {f}, got input shape {:?}",
                x.shape
            )));
        }
        let rows = x.len() / f;
        let u = self.units;
        let y = &mut outputs[0];
        // the output shape is the input's with the last axis = units, set in place
        y.shape.clear();
        y.shape.extend_from_slice(&x.shape);
        *y.shape.last_mut().expect("rank ≥ 1") = u;
        y.data.resize(rows * u, 0.0);
        if self.use_bias {
            for r in 0..rows {
                y.data[r * u..(r + 1) * u].copy_from_slice(&self.bias.value.data);
            }
            gemm::gemm_nn(
                rows,
                f,
                u,
                &x.data,
                &self.kernel.value.data,
                1.0,
                &mut y.data,
            );
        } else {
            gemm::gemm_nn(
                rows,
                f,
                u,
                &x.data,
                &self.kernel.value.data,
                0.0,
                &mut y.data,
            );
        }
        if self.activation != Activation::Linear {
            self.pre.clear();
            self.pre.extend_from_slice(&y.data);
            self.activation.apply_slice(&mut y.data);
        }
        Ok(())
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [Tensor],
    ) -> Result<()> {
        let x = inputs[0];
        let f = self.in_dim;
        let u = self.units;
        let rows = x.len() / f;
        let dz: &[f32] = if self.activation != Activation::Linear {
            self.dz.clear();
            self.dz.extend_from_slice(&grad_outputs[0].data);
            self.activation
                .backprop_slice(&self.pre, &outputs[0].data, &mut self.dz);
            &self.dz
        } else {
            &grad_outputs[0].data
        };
        gemm::gemm_tn(f, rows, u, &x.data, dz, 1.0, &mut self.kernel.grad.data);
        if self.use_bias {
            let db = &mut self.bias.grad.data;
            for r in 0..rows {
                for (g, d) in db.iter_mut().zip(&dz[r * u..(r + 1) * u]) {
                    *g += d;
                }
            }
        }
        if grad_inputs[0].len() == x.len() {
            gemm::gemm_nt(
                rows,
                u,
                f,
                dz,
                &self.kernel.value.data,
                0.0,
                &mut grad_inputs[0].data,
            );
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        if self.use_bias {
            vec![&self.kernel, &self.bias]
        } else {
            vec![&self.kernel]
        }
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        if self.use_bias {
            vec![&mut self.kernel, &mut self.bias]
        } else {
            vec![&mut self.kernel]
        }
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "units": self.units,
            "activation": self.activation.name(),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.name(),
            "bias_initializer": self.bias_initializer.name(),
            "kernel_regularizer": self.kernel_regularizer.map(|r| r.to_keras()),
            "bias_regularizer": self.bias_regularizer.map(|r| r.to_keras()),
        })
    }
}
