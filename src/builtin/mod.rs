//! Built-in models, as used by the command-line tool and the benchmarks.

pub mod cuba;
pub mod microcircuit;
