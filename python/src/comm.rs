//! A Python communicator as lamina's `Communicator`: an mpi4py communicator (`MPI.COMM_WORLD`),
//! or any object with its four methods, so that a Python program run under `mpirun` splits one
//! network over its processes without lamina linking MPI itself: the exchanges go through the
//! MPI that mpi4py loaded.

use lamina::sim::distributed::Communicator;
use lamina::{Error, Result};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The methods a communicator must have: mpi4py's names.
const METHODS: [&str; 4] = ["Get_rank", "Get_size", "allgather", "Barrier"];

/// A Python object that exchanges for lamina: `Get_rank()`, `Get_size()`, `allgather(bytes)`
/// (every process's bytes, in rank order) and `Barrier()`.
pub struct PyCommunicator {
    comm: Py<PyAny>,
    rank: usize,
    size: usize,
    local_rank: usize,
    description: String,
}

impl PyCommunicator {
    /// Wraps `comm`, checking its methods and reading its rank and size once. `local_rank` is
    /// the process's index among those on its machine (its GPU), the rank when not given.
    pub fn new(comm: &Bound<'_, PyAny>, local_rank: Option<usize>) -> PyResult<PyCommunicator> {
        let missing: Vec<&str> = METHODS
            .into_iter()
            .filter(|m| !comm.hasattr(*m).unwrap_or(false))
            .collect();
        if !missing.is_empty() {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "comm must be an mpi4py communicator (such as mpi4py.MPI.COMM_WORLD) or an \
                 object with its methods {}; this {} lacks {}",
                METHODS.join(", "),
                comm.get_type().name()?,
                missing.join(", ")
            )));
        }
        let rank: usize = comm.call_method0("Get_rank")?.extract()?;
        let size: usize = comm.call_method0("Get_size")?.extract()?;
        if size == 0 || rank >= size {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "comm says this is rank {rank} of {size} processes; a rank must be below the size"
            )));
        }
        let ty = comm.get_type();
        let description = format!("{}.{}", ty.module()?, ty.qualname()?);
        Ok(PyCommunicator {
            comm: comm.clone().unbind(),
            rank,
            size,
            local_rank: local_rank.unwrap_or(rank),
            description,
        })
    }
}

/// A failed call into the communicator as lamina's error, with Python's.
fn failed(what: &str, e: PyErr) -> Error {
    Error::Simulation(format!("the Python communicator's {what} failed: {e}"))
}

impl Communicator for PyCommunicator {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn local_rank(&self) -> usize {
        self.local_rank
    }

    fn all_gather(&self, mine: &[u32]) -> Result<Vec<Vec<u32>>> {
        Python::with_gil(|py| {
            let mine: Vec<u8> = mine.iter().flat_map(|w| w.to_ne_bytes()).collect();
            let bytes = PyBytes::new(py, &mine);
            let all = (self.comm.bind(py))
                .call_method1("allgather", (bytes,))
                .map_err(|e| failed("allgather", e))?;
            let mut out = Vec::with_capacity(self.size);
            for item in all.try_iter().map_err(|e| failed("allgather", e))? {
                let item = item.map_err(|e| failed("allgather", e))?;
                let data: Vec<u8> = item.extract().map_err(|e| failed("allgather", e))?;
                if !data.len().is_multiple_of(4) {
                    return Err(Error::Simulation(format!(
                        "the Python communicator's allgather returned {} bytes from a process, \
                         not whole 32-bit words",
                        data.len()
                    )));
                }
                out.push(
                    data.chunks_exact(4)
                        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                );
            }
            if out.len() != self.size {
                return Err(Error::Simulation(format!(
                    "the Python communicator's allgather returned {} items for {} processes",
                    out.len(),
                    self.size
                )));
            }
            Ok(out)
        })
    }

    fn barrier(&self) -> Result<()> {
        Python::with_gil(|py| {
            (self.comm.bind(py))
                .call_method0("Barrier")
                .map(|_| ())
                .map_err(|e| failed("Barrier", e))
        })
    }

    fn description(&self) -> String {
        self.description.clone()
    }
}
