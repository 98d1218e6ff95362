//! Pieces shared by the recurrent cells: Keras' time-constant
//! dropout masks, per-gate block GEMMs, and the SIMD dispatch macro.

use crate::error::{Error, Result};
use crate::nn::gemm::{self, sgemm_strided};
use crate::rng::Rng;

/// Compiles an `#[inline(always)]` kernel three times (AVX-512, AVX2+FMA,
/// generic) and generates a dispatcher taking a [`SimdLevel`](super::activation::SimdLevel).
macro_rules! simd_variants {
    ($generic:ident, $avx512:ident, $avx2:ident, $dispatch:ident, ($($arg:ident : $ty:ty),*)) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $avx512($($arg: $ty),*) {
            $generic($($arg),*)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $avx2($($arg: $ty),*) {
            $generic($($arg),*)
        }
        #[allow(clippy::too_many_arguments)]
        fn $dispatch(level: $crate::nn::activation::SimdLevel, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::nn::activation::SimdLevel;
                // SAFETY: `level` comes from `simd_level()`, which checked the CPU.
                match level {
                    SimdLevel::Avx512 => return unsafe { $avx512($($arg),*) },
                    SimdLevel::Avx2 => return unsafe { $avx2($($arg),*) },
                    SimdLevel::Scalar => {}
                }
            }
            let _ = level;
            $generic($($arg),*)
        }
    };
}
pub(crate) use simd_variants;

/// The associated items every cell writes alike: its config type, the
/// shard type `Cache`, Keras' class name, the experiment `type`, the state
/// names and the gate count; `config`, `units` and `default_config` read
/// the cell's `config` field and the config's serde defaults; `hs`, `dxs` and
/// `grads` the shard's `hs`, `dxs` and `gw`/`gu`/`gb`.
macro_rules! cell_items {
    ($cfg:ty, $class:literal, $kind:literal, states $states:expr, gates $g:literal) => {
        type Config = $cfg;
        type Shard = Cache;
        const CLASS: &'static str = $class;
        const KIND: &'static str = $kind;
        const STATES: &'static [&'static str] = $states;
        const GATES: usize = $g;

        fn default_config(units: usize) -> $cfg {
            crate::nn::config::defaults(serde_json::json!({ "units": units }))
        }

        fn config(&self) -> &$cfg {
            &self.config
        }

        fn units(&self) -> usize {
            self.config.units
        }

        fn hs(sh: &Cache) -> &[f32] {
            &sh.hs
        }

        fn dxs(sh: &Cache) -> &[f32] {
            &sh.dxs
        }

        fn grads(sh: &Cache) -> [&[f32]; 3] {
            [&sh.gw, &sh.gu, &sh.gb]
        }
    };
}
pub(crate) use cell_items;

/// `C[:, blk] = beta·C[:, blk] + A · B[:, blk]`: A is m×kd, B is kd×(g·u) and
/// C is m×(g·u), both row-major; `blk` selects a column block of width `w`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_nn_blk(
    m: usize,
    kd: usize,
    w: usize,
    ld: usize,
    off: usize,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) {
    sgemm_strided(
        m,
        kd,
        w,
        1.0,
        a,
        kd as isize,
        1,
        &b[off..],
        ld as isize,
        1,
        beta,
        &mut c[off..],
        ld as isize,
        1,
    )
}

/// `G[:, blk] += Aᵀ · D[:, blk]`: A is m×kd, D is m×ld, G is kd×ld (weight gradient of a block).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_tn_blk(
    kd: usize,
    m: usize,
    w: usize,
    ld: usize,
    off: usize,
    a: &[f32],
    d: &[f32],
    g: &mut [f32],
) {
    sgemm_strided(
        kd,
        m,
        w,
        1.0,
        a,
        1,
        kd as isize,
        &d[off..],
        ld as isize,
        1,
        1.0,
        &mut g[off..],
        ld as isize,
        1,
    )
}

/// `O = beta·O + D[:, blk] · B[:, blk]ᵀ`: D is m×ld, B is kd×ld, O is m×kd.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_nt_blk(
    m: usize,
    w: usize,
    kd: usize,
    ld: usize,
    off: usize,
    d: &[f32],
    b: &[f32],
    beta: f32,
    o: &mut [f32],
) {
    sgemm_strided(
        m,
        w,
        kd,
        1.0,
        &d[off..],
        ld as isize,
        1,
        &b[off..],
        1,
        ld as isize,
        beta,
        o,
        kd as isize,
        1,
    )
}

/// Keras 3's recurrent dropout: masks drawn once per call (per sequence),
/// constant over time. With `recurrent_dropout > 0` Keras switches the cell to
/// `implementation=1`, which draws one input mask and one recurrent mask per gate;
/// with only `dropout`, one input mask is shared by every gate.
#[derive(Clone, Debug)]
pub struct RnnDropout {
    /// Input dropout rate.
    pub rate: f32,
    /// Recurrent dropout rate.
    pub rec_rate: f32,
    /// Stream the masks are drawn from (seeded at build).
    pub rng: Rng,
    /// Input masks: `n_in` × (B × F), values 0 or 1/(1−rate).
    pub in_mask: Vec<f32>,
    /// Recurrent masks: gates × (B × u).
    pub rec_mask: Vec<f32>,
    /// Whether the last forward call used input masks.
    pub in_on: bool,
    /// Whether the last forward call used recurrent masks.
    pub rec_on: bool,
    /// Number of input masks (1 or the number of gates).
    pub n_in: usize,
}

impl Default for RnnDropout {
    fn default() -> Self {
        RnnDropout {
            rate: 0.0,
            rec_rate: 0.0,
            rng: Rng::new(0),
            in_mask: Vec::new(),
            rec_mask: Vec::new(),
            in_on: false,
            rec_on: false,
            n_in: 1,
        }
    }
}

/// Fills `m` with an inverted-dropout mask: 0 with probability `rate`, else 1/(1−rate).
pub(crate) fn fill_mask(m: &mut [f32], rate: f32, rng: &mut Rng) {
    let keep = 1.0 / (1.0 - rate);
    let r = rate as f64;
    for v in m.iter_mut() {
        *v = if rng.next_f64() < r { 0.0 } else { keep };
    }
}

/// Checks a dropout rate: Keras accepts [0, 1]; 1 would zero everything, so lstmkit asks for < 1.
pub(crate) fn check_rate(layer: &str, what: &str, r: f32) -> Result<()> {
    if !(0.0..1.0).contains(&r) {
        return Err(Error::Config(format!(
            "{layer} {what} must be in [0, 1), got {r}"
        )));
    }
    Ok(())
}

impl RnnDropout {
    /// Draws the masks for one call (training mode) and records which are on.
    pub fn draw(&mut self, training: bool, gates: usize, b: usize, f: usize, u: usize) {
        self.in_on = training && self.rate > 0.0;
        self.rec_on = training && self.rec_rate > 0.0;
        self.n_in = if self.rec_rate > 0.0 { gates } else { 1 };
        if self.in_on {
            self.in_mask.resize(self.n_in * b * f, 0.0);
            fill_mask(&mut self.in_mask, self.rate, &mut self.rng);
        }
        if self.rec_on {
            self.rec_mask.resize(gates * b * u, 0.0);
            fill_mask(&mut self.rec_mask, self.rec_rate, &mut self.rng);
        }
    }

    /// The run-time state to save (the mask stream), or null when dropout is off.
    pub fn state(&self) -> serde_json::Value {
        if self.rate > 0.0 || self.rec_rate > 0.0 {
            serde_json::to_value(&self.rng).unwrap_or(serde_json::Value::Null)
        } else {
            serde_json::Value::Null
        }
    }

    /// Restores [`RnnDropout::state`].
    pub fn set_state(&mut self, layer: &str, v: &serde_json::Value) -> Result<()> {
        if !v.is_null() {
            self.rng = serde_json::from_value(v.clone())
                .map_err(|e| Error::Config(format!("{layer} dropout RNG state: {e}")))?;
        }
        Ok(())
    }
}

/// Copies `xs` (T·B rows of F) into `out`, multiplied by the per-sample mask
/// `mask` (B×F), the same for every step.
pub(crate) fn mask_rows(xs: &[f32], mask: &[f32], b: usize, f: usize, out: &mut [f32]) {
    let bf = b * f;
    for (o, x) in out.chunks_exact_mut(bf).zip(xs.chunks_exact(bf)) {
        for k in 0..bf {
            o[k] = x[k] * mask[k];
        }
    }
}

/// The input projection of every step, `z = (xs ⊙ mask)·W + beta·z`, with
/// Keras' input dropout: no mask, one mask shared by the gates, or one mask
/// per gate block (with recurrent dropout). `xs` (T·B, F) time-major, `w`
/// (F, G·u), `z` (T·B, G·u); the masked inputs are kept in `xin` for backward.
#[allow(clippy::too_many_arguments)]
pub(crate) fn input_projection(
    d: &RnnDropout,
    (t, b, f, u, g): (usize, usize, usize, usize, usize),
    xs: &[f32],
    w: &[f32],
    beta: f32,
    xin: &mut Vec<f32>,
    z: &mut [f32],
) {
    let (tbf, gu) = (t * b * f, g * u);
    if !d.in_on {
        gemm::gemm_nn(t * b, f, gu, xs, w, beta, z);
        return;
    }
    xin.resize(d.n_in * tbf, 0.0);
    for k in 0..d.n_in {
        mask_rows(
            xs,
            &d.in_mask[k * b * f..(k + 1) * b * f],
            b,
            f,
            &mut xin[k * tbf..(k + 1) * tbf],
        );
    }
    if d.n_in == 1 {
        gemm::gemm_nn(t * b, f, gu, xin, w, beta, z);
    } else {
        for k in 0..g {
            let xk = &xin[k * tbf..(k + 1) * tbf];
            gemm_nn_blk(t * b, f, u, gu, k * u, xk, w, beta, z);
        }
    }
}

/// Adds the rows of `rows` (each `acc.len()` wide) into `acc`, in row order:
/// a bias gradient from the pre-activation gradients of every (t, b).
pub(crate) fn add_col_sums(acc: &mut [f32], rows: &[f32]) {
    for row in rows.chunks_exact(acc.len()) {
        for (g, v) in acc.iter_mut().zip(row) {
            *g += v;
        }
    }
}

/// The kernel's gradient `gw = (xs ⊙ mask)ᵀ·dz` over the whole sequence
/// (overwritten), for the masks [`input_projection`] used.
pub(crate) fn kernel_grad(
    d: &RnnDropout,
    (t, b, f, u, g): (usize, usize, usize, usize, usize),
    xs: &[f32],
    xin: &[f32],
    dz: &[f32],
    gw: &mut Vec<f32>,
) {
    let (tb, tbf, gu) = (t * b, t * b * f, g * u);
    gw.resize(f * gu, 0.0);
    if !d.in_on {
        gemm::gemm_tn(f, tb, gu, xs, dz, 0.0, gw);
    } else if d.n_in == 1 {
        gemm::gemm_tn(f, tb, gu, &xin[..tbf], dz, 0.0, gw);
    } else {
        gw.fill(0.0);
        for k in 0..g {
            let xk = &xin[k * tbf..(k + 1) * tbf];
            gemm_tn_blk(f, tb, u, gu, k * u, xk, dz, gw);
        }
    }
}

/// The inputs' gradient `dxs = (dz·Wᵀ) ⊙ mask` (T·B, F), for the masks
/// [`input_projection`] used. `wt` is Wᵀ (G·u, F) when the caller keeps it
/// (one plain GEMM), else `w` is read transposed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn input_grad(
    d: &RnnDropout,
    (t, b, f, u, g): (usize, usize, usize, usize, usize),
    dz: &[f32],
    w: &[f32],
    wt: Option<&[f32]>,
    tmp: &mut Vec<f32>,
    dxs: &mut Vec<f32>,
) {
    let (tb, tbf, gu) = (t * b, t * b * f, g * u);
    dxs.resize(tbf, 0.0);
    let full = |out: &mut [f32]| match wt {
        Some(wt) => gemm::gemm_nn(tb, gu, f, dz, wt, 0.0, out),
        None => gemm::gemm_nt(tb, gu, f, dz, w, 0.0, out),
    };
    if !d.in_on {
        full(dxs);
    } else if d.n_in == 1 {
        tmp.resize(tbf, 0.0);
        full(tmp);
        mask_rows(tmp, &d.in_mask[..b * f], b, f, dxs);
    } else {
        dxs.fill(0.0);
        tmp.resize(tbf, 0.0);
        let bf = b * f;
        for k in 0..g {
            gemm_nt_blk(tb, u, f, gu, k * u, dz, w, 0.0, tmp);
            let m = &d.in_mask[k * bf..(k + 1) * bf];
            for (o, x) in dxs.chunks_exact_mut(bf).zip(tmp.chunks_exact(bf)) {
                for j in 0..bf {
                    o[j] += x[j] * m[j];
                }
            }
        }
    }
}
