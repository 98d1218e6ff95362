//! Times the GEMM backends on the engine's shapes:
//! `cargo run --release --example gemm_shapes`.
use lstmkit::nn::gemm::{gemm_nn, gemm_nt, gemm_tn};
use std::time::Instant;

/// Minimum over rounds of the mean time of 10 calls: robust to other load on the machine.
fn time(mut f: impl FnMut(), reps: usize) -> f64 {
    for _ in 0..10 {
        f();
    }
    let mut best = f64::INFINITY;
    for _ in 0..reps / 10 {
        let t = Instant::now();
        for _ in 0..10 {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / 10.0);
    }
    best
}

fn main() {
    let backend = format!("{:?}", lstmkit::nn::gemm::backend());
    for &(b, u, t) in &[(32usize, 50usize, 10usize), (32, 100, 10), (64, 128, 50)] {
        let g = 4 * u;
        let h = vec![0.5f32; b * u];
        let w = vec![0.01f32; u * g];
        let mut z = vec![0.0f32; b * g];
        let dz = vec![0.1f32; t * b * g];
        let hs = vec![0.2f32; t * b * u];
        let mut dh = vec![0.0f32; b * u];
        let mut du = vec![0.0f32; u * g];
        let step = time(|| gemm_nn(b, u, g, &h, &w, 1.0, &mut z), 2000);
        let back = time(|| gemm_nt(b, g, u, &dz[..b * g], &w, 0.0, &mut dh), 2000);
        let wg = time(|| gemm_tn(u, t * b, g, &hs, &dz, 1.0, &mut du), 500);
        let flop = |m: usize, k: usize, n: usize, us: f64| 2.0 * (m * k * n) as f64 / us / 1e3;
        println!(
            "{backend} B={b} u={u} T={t}: h·U {step:.2} µs ({:.1} GF/s), dz·Uᵀ {back:.2} µs ({:.1} GF/s), Hᵀ·dZ {wg:.2} µs ({:.1} GF/s)",
            flop(b, u, g, step),
            flop(b, g, u, back),
            flop(u, t * b, g, wg)
        );
    }
}
