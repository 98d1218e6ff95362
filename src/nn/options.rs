//! The option blocks several layers' configs share, written once: Keras'
//! kernel and bias options (Dense, Conv1D, the recurrent cells' weights) and
//! the affine options of the normalisation layers (BatchNormalization,
//! LayerNormalization). Each macro declares a whole config struct: the layer's
//! own fields as given, then (or, for the normalisations, before them) the
//! shared block, so the struct stays flat (`deny_unknown_fields`, one serde
//! attribute per option) and every reader and writer derives from it.

/// Declares a config struct: the fields given, then Keras' `use_bias`,
/// `kernel_initializer` (glorot_uniform), `bias_initializer` (zeros),
/// `kernel_regularizer`, `bias_regularizer`, `kernel_constraint`, `bias_constraint`.
macro_rules! kernel_bias_config {
    ($(#[$m:meta])* pub struct $name:ident { $($field:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($field)*
            /// Whether a bias is added.
            #[serde(default = "crate::nn::config::yes")]
            pub use_bias: bool,
            /// Kernel initialiser (fans as Keras computes them for the kernel's shape).
            #[serde(default = "crate::nn::config::glorot_uniform")]
            pub kernel_initializer: crate::nn::Initializer,
            /// Bias initialiser.
            #[serde(default = "crate::nn::config::zeros")]
            pub bias_initializer: crate::nn::Initializer,
            /// Penalty on the kernel.
            #[serde(default, with = "crate::nn::config::regularizer")]
            pub kernel_regularizer: Option<crate::train::regularizer::Regularizer>,
            /// Penalty on the bias.
            #[serde(default, with = "crate::nn::config::regularizer")]
            pub bias_regularizer: Option<crate::train::regularizer::Regularizer>,
            /// Not implemented.
            #[serde(default, skip_serializing)]
            pub kernel_constraint: crate::nn::config::Unsupported,
            /// Not implemented.
            #[serde(default, skip_serializing)]
            pub bias_constraint: crate::nn::config::Unsupported,
        }
    };
}

/// Declares a normalisation layer's config struct: Keras' `axis` (−1 only),
/// `epsilon` (1e-3), `center`, `scale`, `beta_initializer` (zeros),
/// `gamma_initializer` (ones), `beta_regularizer`, `gamma_regularizer`,
/// `beta_constraint`, `gamma_constraint`, then the fields given (each with
/// a default: the struct's `Default` is every option's default).
macro_rules! affine_norm_config {
    ($(#[$m:meta])* pub struct $name:ident { $($field:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            /// The normalised axis: only −1 (`-1` or `[-1]`; the model reader turns a
            /// non-negative last axis into −1).
            #[serde(default)]
            pub axis: crate::nn::config::LastAxis,
            /// Added to the variance.
            #[serde(default = "crate::nn::config::norm_epsilon")]
            pub epsilon: f32,
            /// Add beta.
            #[serde(default = "crate::nn::config::yes")]
            pub center: bool,
            /// Multiply by gamma.
            #[serde(default = "crate::nn::config::yes")]
            pub scale: bool,
            /// Initialiser of beta.
            #[serde(default = "crate::nn::config::zeros")]
            pub beta_initializer: crate::nn::Initializer,
            /// Initialiser of gamma.
            #[serde(default = "crate::nn::config::ones")]
            pub gamma_initializer: crate::nn::Initializer,
            /// Penalty on beta.
            #[serde(default, with = "crate::nn::config::regularizer")]
            pub beta_regularizer: Option<crate::train::regularizer::Regularizer>,
            /// Penalty on gamma.
            #[serde(default, with = "crate::nn::config::regularizer")]
            pub gamma_regularizer: Option<crate::train::regularizer::Regularizer>,
            /// Not implemented.
            #[serde(default, skip_serializing)]
            pub beta_constraint: crate::nn::config::Unsupported,
            /// Not implemented.
            #[serde(default, skip_serializing)]
            pub gamma_constraint: crate::nn::config::Unsupported,
            $($field)*
        }

        impl Default for $name {
            fn default() -> Self {
                crate::nn::config::defaults(serde_json::json!({}))
            }
        }
    };
}
