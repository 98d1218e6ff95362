//! Training: losses, regularisers, optimisers, the training step, `fit`,
//! its history, callbacks and progress output.

pub mod callbacks;
pub mod fit;
pub mod history;
pub mod interrupt;
pub mod loss;
pub mod optimizer;
pub mod progress;
pub mod quantile;
pub mod regularizer;
pub mod source;
mod step;
pub mod tbptt;

pub use callbacks::{
    Callback, CallbackState, Control, CsvLogger, EarlyStopping, Mode, ModelCheckpoint,
    ReduceLROnPlateau, SaveFn, TerminateOnNaN,
};
pub use fit::FitOptions;
pub use history::{History, Logs};
pub use loss::Loss;
pub use optimizer::Optimizer;
pub use regularizer::Regularizer;
pub use source::{BatchSource, TensorPair};
