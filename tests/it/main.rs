//! All integration tests in one binary: one link instead of twenty keeps a clean
//! build small (CI machines have little disk) and quicker to compile.

mod backtest_cli;
mod baselines_reference;
mod bench_cli;
mod cli_train;
mod common;
mod data_reference;
mod experiment_doc;
mod experiment_layers;
mod forecast;
mod forecast_cli;
mod gradcheck_conv;
mod gradcheck_core;
mod gradcheck_layers;
mod hygiene;
mod intervals_cli;
mod keras_conv;
mod keras_export;
mod keras_layers_parity;
mod keras_parity;
mod keras_sweep;
mod memory_limits;
mod model_dispatch;
mod model_files;
mod native_format;
mod panels;
mod predict_cli;
mod predict_one;
mod readme;
mod real_csv;
mod resume;
mod simple_rnn;
mod stateful;
mod tbptt;
mod train_resume;
mod tune_cli;
#[cfg(target_os = "linux")]
mod tune_kill;
mod tune_study;
mod tune_workers;

/// The name the test harness knows test `f` of the calling module by
/// (`tune_workers::worker_process`), for tests that re-run this binary
/// with `--exact` to get a child process.
#[macro_export]
macro_rules! test_name {
    ($f:literal) => {
        match module_path!().split_once("::") {
            Some((_, m)) => format!("{m}::{}", $f),
            None => $f.to_string(),
        }
    };
}
