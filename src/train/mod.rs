//! Training: losses, regularisers, optimisers and the training step.

pub mod loss;
pub mod optimizer;
pub mod regularizer;
mod step;
pub mod tbptt;

pub use loss::Loss;
pub use optimizer::Optimizer;
pub use regularizer::Regularizer;
