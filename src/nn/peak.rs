//! The machine's single-precision FMA peak, measured rather than guessed from
//! a clock: a short micro-kernel of independent fused multiply-adds on the
//! widest vector ISA the engine uses on this CPU (AVX-512, AVX2 + FMA, NEON;
//! plain multiply-adds otherwise), on one thread and on `n` threads at once.
//! `lstmkit bench` reports its GFLOP/s as a share of this peak.
//!
//! ```
//! let p = lstmkit::nn::peak::measure(1, std::time::Duration::from_millis(5));
//! assert!(p.gflops > 0.0 && p.threads == 1);
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A measured peak.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Peak {
    /// The ISA the kernel ran on (`avx512`, `avx2`, `neon`, `scalar`).
    pub isa: &'static str,
    /// Threads that ran the kernel at once.
    pub threads: usize,
    /// GFLOP/s of all threads together (a multiply-add counts 2).
    pub gflops: f64,
}

/// Independent accumulators: enough to cover the FMA latency × ports of
/// current cores (4 cycles × 2 ports on Zen 3 and Skylake; NEON alike).
const ACC: usize = 12;

/// A kernel: runs `iters` rounds over the accumulators, returns their sum.
type Kernel = fn(u64) -> f32;

/// An x86 kernel on one vector width: `acc = acc·a + b` over [`ACC`]
/// independent registers, then their lanes summed.
macro_rules! x86_fma_kernel {
    ($name:ident, $feature:literal, $lanes:literal, $set1:ident, $zero:ident, $fmadd:ident, $add:ident, $store:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        unsafe fn $name(iters: u64) -> f32 {
            use std::arch::x86_64::*;
            let a = $set1(0.999_9);
            let b = $set1(1e-4);
            let mut acc = [$zero(); ACC];
            for _ in 0..iters {
                for r in acc.iter_mut() {
                    *r = $fmadd(*r, a, b);
                }
            }
            let mut s = $zero();
            for r in acc {
                s = $add(s, r);
            }
            let mut out = [0f32; $lanes];
            $store(out.as_mut_ptr(), s);
            out.iter().sum()
        }
    };
}

x86_fma_kernel!(
    fma_avx512,
    "avx512f",
    16,
    _mm512_set1_ps,
    _mm512_setzero_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);
x86_fma_kernel!(
    fma_avx2,
    "avx2,fma",
    8,
    _mm256_set1_ps,
    _mm256_setzero_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);

#[cfg(target_arch = "aarch64")]
fn fma_neon(iters: u64) -> f32 {
    use std::arch::aarch64::*;
    // SAFETY: NEON is part of every aarch64 CPU.
    unsafe {
        let a = vdupq_n_f32(0.999_9);
        let b = vdupq_n_f32(1e-4);
        let mut acc = [vdupq_n_f32(0.0); ACC];
        for _ in 0..iters {
            for r in acc.iter_mut() {
                *r = vfmaq_f32(b, *r, a); // b + r·a
            }
        }
        acc.iter().map(|r| vaddvq_f32(*r)).sum()
    }
}

#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
fn fma_scalar(iters: u64) -> f32 {
    let mut acc = [0f32; ACC];
    for _ in 0..iters {
        for r in acc.iter_mut() {
            *r = *r * 0.999_9 + 1e-4;
        }
    }
    acc.iter().sum()
}

/// The kernel for the engine's SIMD level: (name, kernel, f32 lanes).
#[cfg(not(target_arch = "aarch64"))]
fn kernel() -> (&'static str, Kernel, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::nn::activation::{simd_level, SimdLevel};
        match simd_level() {
            // SAFETY: `simd_level` checked that the CPU has these features.
            SimdLevel::Avx512 => return ("avx512", |n| unsafe { fma_avx512(n) }, 16),
            SimdLevel::Avx2 => return ("avx2", |n| unsafe { fma_avx2(n) }, 8),
            SimdLevel::Scalar => {}
        }
    }
    ("scalar", fma_scalar, 1)
}

/// The kernel for aarch64: NEON.
#[cfg(target_arch = "aarch64")]
fn kernel() -> (&'static str, Kernel, usize) {
    ("neon", fma_neon, 4)
}

/// Runs `k` for `iters` rounds on `threads` threads at once; returns the
/// wall time of the slowest.
fn timed(k: Kernel, iters: u64, threads: usize) -> Duration {
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || black_box(k(black_box(iters))));
        }
    });
    t0.elapsed()
}

/// Measures the peak on `threads` threads, each kernel run taking about
/// `target` (the best of seven runs: on a shared machine the fastest run is
/// the one least disturbed).
pub fn measure(threads: usize, target: Duration) -> Peak {
    let (isa, k, lanes) = kernel();
    let threads = threads.max(1);
    // calibrate on one thread: grow the rounds until a run takes ≥ 1 ms
    let mut iters: u64 = 1 << 10;
    let mut took = timed(k, iters, 1);
    while took < Duration::from_millis(1) && iters < 1 << 40 {
        iters *= 4;
        took = timed(k, iters, 1);
    }
    let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
    let iters = ((iters as f64 * scale) as u64).max(1);
    let best = (0..7)
        .map(|_| timed(k, iters, threads))
        .min()
        .unwrap_or(Duration::MAX);
    let flops = (threads as u64 * iters * (ACC * lanes * 2) as u64) as f64;
    Peak {
        isa,
        threads,
        gflops: flops / best.as_secs_f64().max(1e-9) / 1e9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel this CPU can run computes the same affine recurrence.
    #[test]
    fn kernels_agree_with_the_scalar_reference() {
        let want = fma_scalar(1000);
        let (_, k, lanes) = kernel();
        let got = k(1000) / lanes as f32;
        assert!((got - want).abs() <= 1e-3 * want.abs(), "{got} vs {want}");
        assert!(want > 0.0);
    }

    #[test]
    fn measures_a_finite_positive_peak() {
        let p1 = measure(1, Duration::from_millis(2));
        assert!(p1.gflops.is_finite() && p1.gflops > 0.0);
        assert_eq!(p1.threads, 1);
        let p2 = measure(2, Duration::from_millis(2));
        assert!(p2.gflops.is_finite() && p2.gflops > 0.0 && p2.threads == 2);
    }
}
