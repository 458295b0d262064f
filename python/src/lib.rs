//! `lamina._lamina`: the compiled part of the Python package. A thin layer over lamina's
//! public Rust API: every value crosses as a plain Python value or a numpy array, every
//! `lamina::Error` becomes an exception of the `LaminaError` hierarchy with lamina's message.
//! The pure-Python package (`python/lamina/`) gives it keyword arguments, defaults and
//! docstrings; this module checks types and shapes and nothing more.

use pyo3::prelude::*;

mod comm;
mod convert;
mod errors;
mod nef;
mod spiking;
mod synapse_models;

#[pymodule]
fn _lamina(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    nef::register(m)?;
    spiking::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
