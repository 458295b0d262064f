//! lamina's error enum as a Python exception hierarchy: one class per stage, all under
//! `LaminaError`, each carrying lamina's own message.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _lamina,
    LaminaError,
    PyException,
    "Any error lamina reports."
);
create_exception!(
    _lamina,
    ValidationError,
    LaminaError,
    "A model description that lamina refuses (a bad size, parameter or connection)."
);
create_exception!(
    _lamina,
    BuildError,
    LaminaError,
    "A model that validated but could not be lowered (decoders, layout, adapter limits)."
);
create_exception!(
    _lamina,
    ShaderError,
    LaminaError,
    "A built-in shader that failed to compile."
);
create_exception!(
    _lamina,
    SnippetError,
    LaminaError,
    "A user WGSL snippet (neuron or synapse model) that naga refused; the message names the \
     model, the snippet, the line and the column."
);
create_exception!(
    _lamina,
    DeviceError,
    LaminaError,
    "No usable GPU adapter, or an error the GPU device reported."
);
create_exception!(
    _lamina,
    SimulationError,
    LaminaError,
    "An operation on a running simulator that failed (a bad handle, shape or file)."
);
create_exception!(
    _lamina,
    NumericalError,
    SimulationError,
    "The health check found a NaN, an infinity or an input out of the fixed-point range."
);

/// Converts lamina's error into the matching Python exception.
pub fn to_py(e: lamina::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        lamina::Error::Validation(_) => ValidationError::new_err(msg),
        lamina::Error::Build(_) => BuildError::new_err(msg),
        lamina::Error::Shader { .. } => ShaderError::new_err(msg),
        lamina::Error::Snippet { .. } => SnippetError::new_err(msg),
        lamina::Error::Device(_) => DeviceError::new_err(msg),
        lamina::Error::Numerical(_) => NumericalError::new_err(msg),
        lamina::Error::Simulation(_) => SimulationError::new_err(msg),
        _ => LaminaError::new_err(msg),
    }
}

/// `?` on a lamina result inside a Python method.
pub trait IntoPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for lamina::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("LaminaError", py.get_type::<LaminaError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("BuildError", py.get_type::<BuildError>())?;
    m.add("ShaderError", py.get_type::<ShaderError>())?;
    m.add("SnippetError", py.get_type::<SnippetError>())?;
    m.add("DeviceError", py.get_type::<DeviceError>())?;
    m.add("SimulationError", py.get_type::<SimulationError>())?;
    m.add("NumericalError", py.get_type::<NumericalError>())?;
    Ok(())
}
