//! `SimpleRNN`: Keras' fully connected recurrent cell,
//! `h_t = act(x_t·W + b + h_{t-1}·U)`; the sequencing around it is the
//! recurrent base ([`Rnn`](super::Rnn)).
//!
//! Layout (Keras'): kernel (F, u), recurrent_kernel (u, u), bias (u).
//! Dropout as Keras 3's `SimpleRNNCell`: one input mask and one recurrent mask
//! per sequence, constant over time.

use serde::{Deserialize, Serialize};

use super::base::{Cell, Pass, Rnn, Upstream};
use super::common::{add_col_sums, cell_items, input_grad, input_projection, kernel_grad};
use crate::nn::config::{self};
use crate::nn::gemm;
use crate::nn::Activation;

/// A Keras-compatible SimpleRNN layer: the recurrent base around a [`SimpleRnnCell`].
///
/// ```
/// use lstmkit::model::Sequential;
/// use lstmkit::nn::{Dense, SimpleRNN};
/// use lstmkit::Tensor;
/// let mut m = Sequential::new(&[10, 2])
///     .add(SimpleRNN::new(8).return_sequences(true))
///     .add(SimpleRNN::new(4))
///     .add(Dense::new(1))
///     .build(1)
///     .unwrap();
/// assert_eq!(m.predict(&Tensor::zeros(&[3, 10, 2])).unwrap().shape, vec![3, 1]);
/// assert_eq!(m.get_weights()[1].shape, vec![8, 8]);
/// ```
pub type SimpleRNN = Rnn<SimpleRnnCell>;

/// `keras.layers.SimpleRNN`'s cell options, with Keras' names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleRnnConfig {
    /// Hidden width u (≥ 1).
    #[serde(deserialize_with = "config::usize_lenient")]
    pub units: usize,
    /// Activation of the new state.
    #[serde(default = "config::tanh")]
    pub activation: Activation,
}

/// The SimpleRNN cell: its options and weights.
pub struct SimpleRnnCell {
    /// The options.
    pub config: SimpleRnnConfig,
}

/// Per-shard buffers.
#[derive(Default)]
pub struct Cache {
    t: usize,
    xs: Vec<f32>,   // (T, B, F) inputs in processing order
    xin: Vec<f32>,  // (T, B, F) inputs times their dropout mask
    zs: Vec<f32>,   // (T, B, u) pre-activations
    hs: Vec<f32>,   // (T+1, B, u)
    hms: Vec<f32>,  // (T, B, u) h_{t-1} times the recurrent mask
    dz: Vec<f32>,   // (T, B, u)
    dh: Vec<f32>,   // (B, u)
    tmp: Vec<f32>,  // (B, u)
    dxs: Vec<f32>,  // (T, B, F)
    dxs2: Vec<f32>, // (T, B, F)
    gw: Vec<f32>,   // partial dL/dkernel
    gu: Vec<f32>,   // partial dL/drecurrent_kernel
    gb: Vec<f32>,   // partial dL/dbias
}

impl SimpleRNN {
    setters! { cell.config =>
        /// Sets the activation.
        activation: Activation,
    }
}

impl Cell for SimpleRnnCell {
    cell_items!(SimpleRnnConfig, "SimpleRNN", "simple_rnn", states &["h"], gates 1);

    fn from_config(config: SimpleRnnConfig) -> Self {
        SimpleRnnCell { config }
    }

    fn forward(&self, p: &Pass, c: &mut Cache, x: &[f32], init: &[Option<&[f32]>]) {
        let (wts, sq, d) = (p.w, &p.s, p.d);
        let (b, t, f, u) = (sq.b, sq.t, sq.f, self.config.units);
        let bu = b * u;
        let act = self.config.activation;
        c.t = t;
        sq.to_time_major(x, &mut c.xs);
        c.zs.resize(t * bu, 0.0);
        c.hs.resize((t + 1) * bu, 0.0);
        match init[0] {
            Some(h) => c.hs[..bu].copy_from_slice(h),
            None => c.hs[..bu].fill(0.0),
        }
        // input projection for all steps: zs = xs·W + b
        let beta = match wts.bias() {
            Some(bias) => {
                for row in c.zs.chunks_exact_mut(u) {
                    row.copy_from_slice(bias);
                }
                1.0
            }
            None => 0.0,
        };
        let w = &wts.kernel.value.data;
        input_projection(d, (t, b, f, u, 1), &c.xs, w, beta, &mut c.xin, &mut c.zs);
        if d.rec_on {
            c.hms.resize(t * bu, 0.0);
        }
        let rk = &wts.recurrent.value.data;
        for s in 0..t {
            let (hprev, hnext) = c.hs.split_at_mut((s + 1) * bu);
            let hp = &hprev[s * bu..];
            let z = &mut c.zs[s * bu..(s + 1) * bu];
            if d.rec_on {
                let hm = &mut c.hms[s * bu..(s + 1) * bu];
                for j in 0..bu {
                    hm[j] = hp[j] * d.rec_mask[j];
                }
                gemm::gemm_nn(b, u, u, hm, rk, 1.0, z);
            } else {
                gemm::gemm_nn(b, u, u, hp, rk, 1.0, z);
            }
            let h = &mut hnext[..bu];
            h.copy_from_slice(z);
            act.apply_slice(h);
        }
    }

    fn backward(&self, p: &Pass, c: &mut Cache, g: &Upstream) {
        let (wts, sq, d) = (p.w, &p.s, p.d);
        let (gy, gstate, need_init, need_x) = (g.gy, g.gstate, g.need_init, g.need_x);
        let (b, t, f, u) = (sq.b, sq.t, sq.f, self.config.units);
        let (bu, tb) = (b * u, t * b);
        let act = self.config.activation;
        let rk = &wts.recurrent.value.data;
        c.dz.resize(t * bu, 0.0);
        c.dh.resize(bu, 0.0);
        c.tmp.resize(bu, 0.0);
        match gstate[0] {
            Some(g) => c.dh.copy_from_slice(g),
            None => c.dh.fill(0.0),
        }
        for s in (0..t).rev() {
            sq.add_output_grad(s, gy, &mut c.dh);
            // dz_t = dh_t ⊙ act'(z_t)
            let dz = &mut c.dz[s * bu..(s + 1) * bu];
            dz.copy_from_slice(&c.dh);
            act.backprop_slice(
                &c.zs[s * bu..(s + 1) * bu],
                &c.hs[(s + 1) * bu..(s + 2) * bu],
                dz,
            );
            if s > 0 || need_init {
                // dh_{t-1} = dz_t · Uᵀ (times the recurrent mask)
                if d.rec_on {
                    gemm::gemm_nt(b, u, u, dz, rk, 0.0, &mut c.tmp);
                    for j in 0..bu {
                        c.dh[j] = c.tmp[j] * d.rec_mask[j];
                    }
                } else {
                    gemm::gemm_nt(b, u, u, dz, rk, 0.0, &mut c.dh);
                }
            }
        }
        // partial weight gradients over the whole sequence
        c.gu.resize(u * u, 0.0);
        let hin: &[f32] = if d.rec_on { &c.hms } else { &c.hs[..t * bu] };
        gemm::gemm_tn(u, tb, u, hin, &c.dz, 0.0, &mut c.gu);
        let dims = (t, b, f, u, 1);
        kernel_grad(d, dims, &c.xs, &c.xin, &c.dz, &mut c.gw);
        if wts.bias.is_some() {
            c.gb.clear();
            c.gb.resize(u, 0.0);
            add_col_sums(&mut c.gb, &c.dz);
        }
        if need_x {
            let w = &wts.kernel.value.data;
            input_grad(d, dims, &c.dz, w, None, &mut c.dxs2, &mut c.dxs);
        }
    }

    fn d_init(sh: &Cache, _k: usize) -> &[f32] {
        &sh.dh
    }
}
