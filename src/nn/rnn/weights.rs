//! The weights every Keras recurrent cell has — kernel (F, G·u),
//! recurrent_kernel (u, G·u) and an optional bias — and their options
//! (initialisers, regularisers, `use_bias`), defined once for every cell.

use serde::{Deserialize, Serialize};

use crate::nn::config::{self, Unsupported};
use crate::nn::{Initializer, Param};
use crate::rng::Rng;
use crate::train::regularizer::Regularizer;

fn orthogonal() -> Initializer {
    Initializer::Orthogonal
}

kernel_bias_config! {
/// The weight options of Keras' recurrent cells, with Keras' names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightConfig {
    /// Recurrent kernel initialiser.
    #[serde(default = "orthogonal")]
    pub recurrent_initializer: Initializer,
    /// Penalty on the recurrent kernel.
    #[serde(default, with = "config::regularizer")]
    pub recurrent_regularizer: Option<Regularizer>,
    /// Not implemented.
    #[serde(default, skip_serializing)]
    pub recurrent_constraint: Unsupported,
}
}

impl Default for WeightConfig {
    fn default() -> Self {
        config::defaults(serde_json::json!({}))
    }
}

/// A cell's variables, in Keras' order.
#[derive(Default)]
pub struct Weights {
    /// (F, G·u).
    pub kernel: Param,
    /// (u, G·u).
    pub recurrent: Param,
    /// The cell's bias shape (`use_bias` only).
    pub bias: Option<Param>,
}

impl Weights {
    /// The bias values, when there is a bias.
    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_ref().map(|p| &p.value.data[..])
    }

    /// Creates the variables for `f` inputs and `g` = G·u gate columns (keeping
    /// existing ones of the right shape); `init_bias` adjusts a new bias (e.g.
    /// the LSTM's forget gate).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        &mut self,
        c: &WeightConfig,
        f: usize,
        u: usize,
        g: usize,
        bias_shape: &[usize],
        init_bias: impl FnOnce(&mut [f32]),
        rng: &mut Rng,
    ) {
        if self.kernel.value.shape != [f, g] {
            self.kernel = Param::new("kernel", &[f, g], c.kernel_initializer.fill(f, g, rng));
        }
        if self.recurrent.value.shape != [u, g] {
            self.recurrent = Param::new(
                "recurrent_kernel",
                &[u, g],
                c.recurrent_initializer.fill(u, g, rng),
            );
        }
        self.kernel.regularizer = c.kernel_regularizer;
        self.recurrent.regularizer = c.recurrent_regularizer;
        if !c.use_bias {
            self.bias = None;
            return;
        }
        if self.bias.as_ref().map(|b| &b.value.shape[..]) != Some(bias_shape) {
            let cols = bias_shape.last().copied().unwrap_or(0);
            let rows = bias_shape.iter().rev().skip(1).product::<usize>();
            let mut b = c.bias_initializer.fill(rows, cols, rng);
            init_bias(&mut b);
            self.bias = Some(Param::new("bias", bias_shape, b));
        }
        if let Some(b) = &mut self.bias {
            b.regularizer = c.bias_regularizer;
        }
    }

    /// The variables in Keras' order.
    pub fn params(&self) -> Vec<&Param> {
        let mut v = vec![&self.kernel, &self.recurrent];
        v.extend(self.bias.as_ref());
        v
    }

    /// Mutable access, same order.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut v = vec![&mut self.kernel, &mut self.recurrent];
        v.extend(self.bias.as_mut());
        v
    }

    /// Adds a shard's partial gradients (kernel, recurrent kernel, bias).
    pub(crate) fn add_grads(&mut self, [gw, gu, gb]: [&[f32]; 3]) {
        for (g, p) in self.kernel.grad.data.iter_mut().zip(gw) {
            *g += p;
        }
        for (g, p) in self.recurrent.grad.data.iter_mut().zip(gu) {
            *g += p;
        }
        if let Some(b) = &mut self.bias {
            for (g, p) in b.grad.data.iter_mut().zip(gb) {
                *g += p;
            }
        }
    }
}
