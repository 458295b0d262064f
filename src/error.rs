//! The one error type. Every variant is a stage at which a run can fail, and every message says
//! what was wrong and what the user can do about it.

/// What went wrong, by the stage at which it was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model description is invalid (bad index, NaN weight, zero-sized population, a handle
    /// from another network...). Found while the network is described, before any GPU work.
    #[error("invalid model: {0}")]
    Validation(String),
    /// The model is valid but cannot be lowered (it overflows an index width, a Poisson input is
    /// too dense for its lookup table...).
    #[error("cannot build the model: {0}")]
    Build(String),
    /// A WGSL kernel failed naga's parser or validator. `source` names the kernel.
    #[error("shader `{name}` is invalid:\n{message}")]
    Shader { name: String, message: String },
    /// A snippet of a user's synapse model (`model::plasticity`) failed naga's parser or
    /// validator. `line` and `column` (1-based, column in bytes) are in the snippet's own text;
    /// the message shows that line.
    #[error("synapse model `{model}`, {snippet}, line {line}, column {column}: {message}")]
    Snippet {
        model: String,
        snippet: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// No usable adapter, a device request failed, or the model exceeds the adapter's limits.
    #[error("GPU device: {0}")]
    Device(String),
    /// A file (a checkpoint, saved weights, an array) could not be read or written, or does
    /// not hold what it should: the path, and what went wrong.
    #[error("{}: {message}", path.display())]
    File {
        path: std::path::PathBuf,
        message: String,
    },
    /// A request made of a running simulator was wrong (unknown probe, time overflow...).
    #[error("simulation: {0}")]
    Simulation(String),
    /// The health check (`Simulator::set_health_check`) found a state that became NaN or
    /// infinite, or input outside the fixed-point range; the message names the population,
    /// neuron and step.
    #[error("numerical health check: {0}")]
    Numerical(String),
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds a validation error from a format string.
macro_rules! invalid {
    ($($arg:tt)*) => { $crate::Error::Validation(format!($($arg)*)) };
}
pub(crate) use invalid;
