//! All integration tests in one binary: one link instead of twenty keeps a clean
//! build small (CI machines have little disk) and quicker to compile.

mod cli_train;
mod data_reference;
mod experiment_layers;
mod forecast;
mod forecast_cli;
mod gradcheck_core;
mod gradcheck_layers;
mod keras_export;
mod keras_layers_parity;
mod keras_parity;
mod model_files;
mod native_format;
mod predict_cli;
mod predict_one;
mod resume;
mod stateful;
mod tbptt;
mod tune_cli;
mod tune_study;
mod tune_workers;
