//! `mpirun -np N lamina run ...`: whether this process is one of several, and the
//! communicator that joins them (MPI, with the `mpi` feature).

use lamina::sim::distributed::Communicator;
use lamina::Error;

/// This process's rank and the number of processes, as the MPI launcher that started it says
/// (Open MPI, MPICH and Intel MPI, PMIx); `None` when no launcher started it.
pub fn launched() -> Option<(usize, usize)> {
    let var = |k: &str| std::env::var(k).ok()?.trim().parse::<usize>().ok();
    [
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
        ("PMIX_RANK", "PMIX_SIZE"),
    ]
    .iter()
    .find_map(|(rank, size)| Some((var(rank)?, var(size)?)))
}

/// This process's rank and the number of processes: (0, 1) when no launcher started it.
pub fn rank_and_size() -> (usize, usize) {
    launched().unwrap_or((0, 1))
}

/// What a model that cannot run on several processes says when it is asked to.
pub fn refuse(what: &str) -> lamina::Result<()> {
    match rank_and_size() {
        (_, 1) => Ok(()),
        (_, size) => Err(Error::Validation(format!(
            "{what} cannot run on several processes yet (this is one of {size}); run it \
             without mpirun"
        ))),
    }
}

/// The communicator of the processes the launcher started, or `None` in a single process.
#[cfg(feature = "mpi")]
pub fn communicator() -> lamina::Result<Option<Box<dyn Communicator>>> {
    use lamina::sim::distributed::mpi::MpiCommunicator;
    match launched() {
        Some((_, size)) if size > 1 => Ok(Some(Box::new(MpiCommunicator::world()?))),
        _ => Ok(None),
    }
}

/// The communicator of the processes the launcher started, or `None` in a single process:
/// without the `mpi` feature there is none, and several processes are refused (each would
/// run the whole network alone).
#[cfg(not(feature = "mpi"))]
pub fn communicator() -> lamina::Result<Option<Box<dyn Communicator>>> {
    match launched() {
        Some((_, size)) if size > 1 => Err(Error::Validation(format!(
            "this is one of {size} processes started by mpirun, but this lamina was built \
             without MPI, so each would run the whole network alone. Build it with \
             `cargo build --release --features mpi` (which needs an MPI library and libclang: \
             apt-get install libopenmpi-dev openmpi-bin libclang-dev), or run one process"
        ))),
        _ => Ok(None),
    }
}
