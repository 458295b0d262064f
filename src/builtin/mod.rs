//! Built-in models, as used by the command-line tool and the benchmarks.

pub mod channel;
pub mod cuba;
pub mod microcircuit;
