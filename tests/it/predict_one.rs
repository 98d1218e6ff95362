//! The single-window fast path: same numbers as `predict`, and no heap
//! allocation per call once warm (checked with a counting allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use lstmkit::model::Sequential;
use lstmkit::nn::{Activation, Dense, LSTM};
use lstmkit::Tensor;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNT_HERE: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNT_HERE.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if COUNT_HERE.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCS.load(Ordering::Relaxed);
    COUNT_HERE.with(|c| c.set(true));
    let r = f();
    COUNT_HERE.with(|c| c.set(false));
    (r, ALLOCS.load(Ordering::Relaxed) - before)
}

#[test]
fn predict_one_matches_predict_and_does_not_allocate() {
    // the m1 benchmark model and a stacked one
    for (mut m, t, f) in [
        (
            Sequential::new(&[10, 1])
                .add(LSTM::new(50).activation(Activation::Relu))
                .add(Dense::new(1))
                .build(42)
                .unwrap(),
            10,
            1,
        ),
        (
            Sequential::new(&[10, 3])
                .add(LSTM::new(16).return_sequences(true))
                .add(LSTM::new(8))
                .add(Dense::new(4).activation(Activation::Tanh))
                .add(Dense::new(2))
                .build(1)
                .unwrap(),
            10,
            3,
        ),
    ] {
        let windows: Vec<Vec<f32>> = (0..5)
            .map(|k| {
                (0..t * f)
                    .map(|i| ((i + 7 * k) as f32 * 0.13).sin())
                    .collect()
            })
            .collect();
        for w in &windows {
            let one = m.predict_one(w).unwrap().to_vec();
            let batch = m
                .predict(&Tensor::new(&[1, t, f], w.clone()).unwrap())
                .unwrap();
            assert_eq!(one, batch.data);
        }
        m.predict_one(&windows[0]).unwrap();
        let (sum, n) = counted(|| {
            let mut s = 0.0f32;
            for k in 0..1000 {
                s += m.predict_one(&windows[k % 5]).unwrap()[0];
            }
            s
        });
        assert!(sum.is_finite());
        // lstmkit's own GEMM kernel (AVX-512) allocates nothing; the `gemm`
        // crate used on other CPUs allocates a small bookkeeping vector per call
        let own_kernel = lstmkit::nn::gemm::backend() == lstmkit::nn::gemm::Backend::Native
            && lstmkit::nn::activation::simd_level() == lstmkit::nn::activation::SimdLevel::Avx512;
        if own_kernel {
            assert_eq!(n, 0, "{n} heap allocations in 1000 warm predict_one calls");
        } else {
            println!("allocation check skipped: no AVX-512 here, the gemm crate runs ({n} allocations in 1000 calls)");
        }
    }
}

#[test]
fn predict_one_checks_the_window_size() {
    let mut m = Sequential::new(&[4, 2]).add(LSTM::new(3)).build(1).unwrap();
    let e = m.predict_one(&[0.0; 7]).unwrap_err().to_string();
    assert!(e.contains("8") && e.contains("7"), "{e}");
    assert!(m.predict_one(&[f32::NAN; 8]).is_err());
    // open timesteps: any whole number of rows
    let mut open = Sequential::new(&[0, 2]).add(LSTM::new(3)).build(1).unwrap();
    assert_eq!(open.predict_one(&[0.1; 6]).unwrap().len(), 3);
    assert_eq!(open.predict_one(&[0.1; 10]).unwrap().len(), 3);
    assert!(open.predict_one(&[0.1; 5]).is_err());
}
