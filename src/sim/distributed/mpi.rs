//! The MPI transport (feature `mpi`): a [`Communicator`] over an MPI communicator, through the
//! `mpi` crate (rsmpi) on the system's MPI library.

use super::Communicator;
use crate::error::{Error, Result};
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// An MPI communicator: `MPI_COMM_WORLD` for `mpirun -np N lamina ...`
/// ([`MpiCommunicator::world`]), or a program's own ([`MpiCommunicator::new`]).
pub struct MpiCommunicator {
    comm: SimpleCommunicator,
    /// Rank among the processes that share this one's memory (its machine).
    local_rank: usize,
    /// Keeps MPI initialised while the communicator lives, when lamina initialised it.
    _universe: Option<mpi::environment::Universe>,
}

impl MpiCommunicator {
    /// All the processes `mpirun` started (`MPI_COMM_WORLD`). Initialises MPI, which must not
    /// have been initialised yet; a program that initialises MPI itself passes its own
    /// communicator to [`MpiCommunicator::new`] instead. MPI is finalised when the
    /// communicator is dropped.
    pub fn world() -> Result<MpiCommunicator> {
        // Serialized: any thread may call MPI, one at a time (see the `Send` below).
        let (universe, _) =
            mpi::initialize_with_threading(mpi::Threading::Serialized).ok_or_else(|| {
                Error::Device(
                    "MPI was initialised already; pass the program's communicator to \
                 MpiCommunicator::new instead"
                        .into(),
                )
            })?;
        let comm = universe.world();
        Ok(MpiCommunicator {
            local_rank: local_rank(&comm),
            comm,
            _universe: Some(universe),
        })
    }

    /// A program's own communicator (duplicated, so lamina's messages never mix with the
    /// program's). The program keeps MPI initialised while lamina runs.
    pub fn new(comm: &impl Communicator_) -> MpiCommunicator {
        let comm = comm.duplicate();
        MpiCommunicator {
            local_rank: local_rank(&comm),
            comm,
            _universe: None,
        }
    }
}

/// The rank of this process among those of `comm` on its machine (MPI's shared-memory split).
fn local_rank(comm: &SimpleCommunicator) -> usize {
    comm.split_shared(comm.rank()).rank() as usize
}

// SAFETY: an MPI communicator handle is a pointer that MPI lets any thread use when MPI runs
// at `Threading::Serialized` or above (as `world` asks; a program passing its own communicator
// must do the same), provided no two calls overlap. `Communicator` is not `Sync`, so a
// simulator holding this is not shared between threads, and its calls never overlap.
unsafe impl Send for MpiCommunicator {}

/// The MPI crate's communicator trait, under a name that does not clash with lamina's.
pub use mpi::traits::Communicator as Communicator_;

impl Communicator for MpiCommunicator {
    fn rank(&self) -> usize {
        self.comm.rank() as usize
    }

    fn size(&self) -> usize {
        self.comm.size() as usize
    }

    fn local_rank(&self) -> usize {
        self.local_rank
    }

    fn all_gather(&self, mine: &[u32]) -> Result<Vec<Vec<u32>>> {
        let n = self.size();
        let len = i32::try_from(mine.len()).map_err(|_| {
            Error::Simulation(format!(
                "{} words are too many for one MPI message",
                mine.len()
            ))
        })?;
        let mut counts = vec![0i32; n];
        self.comm.all_gather_into(&len, &mut counts[..]);
        let mut displs = Vec::with_capacity(n);
        let mut total = 0i64;
        for &c in &counts {
            displs.push(i32::try_from(total).map_err(|_| {
                Error::Simulation(
                    "an exchange of more than 2^31 words; use more, smaller \
                                   exchanges (a shorter run between probes)"
                        .into(),
                )
            })?);
            total += c as i64;
        }
        let mut all = vec![0u32; total as usize];
        {
            let mut parts = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            self.comm.all_gather_varcount_into(mine, &mut parts);
        }
        Ok((0..n)
            .map(|r| all[displs[r] as usize..][..counts[r] as usize].to_vec())
            .collect())
    }

    fn barrier(&self) -> Result<()> {
        self.comm.barrier();
        Ok(())
    }

    fn description(&self) -> String {
        let version = mpi::environment::library_version().unwrap_or_default();
        let first_line = version.lines().next().unwrap_or("").trim().to_string();
        format!("MPI ({first_line})")
    }
}
