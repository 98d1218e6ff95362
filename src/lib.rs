//! # lstmkit
//!
//! LSTM regression and time-series forecasting: Keras' layers and semantics,
//! a small hand-fused engine, Keras `.keras` / `.h5` import.
//!
//! ```
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Activation, Dense, LSTM};
//! use lstmkit::train::{Loss, Optimizer};
//! use lstmkit::Tensor;
//!
//! let mut model = Sequential::new(&[10, 1])
//!     .add(LSTM::new(16).activation(Activation::Relu))
//!     .add(Dense::new(1))
//!     .build(42)
//!     .unwrap();
//! model.compile(Optimizer::adam(1e-3), Loss::Mse);
//! let x = Tensor::zeros(&[8, 10, 1]);
//! let y = Tensor::zeros(&[8, 1]);
//! let loss = model.train_on_batch(&x, &y).unwrap();
//! assert!(loss.is_finite());
//! ```

pub mod backtest;
pub mod baselines;
pub mod cli;
pub mod data;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod forecast;
pub mod gradcheck;
pub mod intervals;
pub mod io;
pub mod model;
pub mod nn;
pub mod plot;
pub mod rng;
pub mod tensor;
pub mod train;
pub mod tune;

pub use error::{Error, Result};
// `lstmkit::resume` predates the `experiment` folder: kept as a path.
pub use experiment::resume;
pub use model::{Graph, Model, Sequential};
pub use tensor::Tensor;

/// Where the crate's unit tests write their files: `target/tmp` of the
/// crate, never the system's temporary folder (which test runs must not litter).
#[cfg(test)]
pub(crate) fn test_tmp_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("tmp")
}
