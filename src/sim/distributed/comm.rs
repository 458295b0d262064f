//! How the processes of one run talk: a [`Communicator`] the simulator is given. A single
//! process by default; threads of one process ([`LocalGroup`], for tests and for programs that
//! split a network over the GPUs of one machine); MPI behind the `mpi` feature
//! (`sim::distributed::mpi`), or any transport a program brings, such as its own MPI
//! communicator.

use crate::error::{Error, Result};
use std::sync::{Arc, Barrier, Mutex};

/// The collective operations a distributed run needs. Every process of the run calls each one
/// in the same order (as with MPI's collectives); a process that calls none while the others
/// wait would hang them, so the simulator makes every process take part in every exchange, an
/// error included.
pub trait Communicator: Send {
    /// This process's index, `0 .. size()`.
    fn rank(&self) -> usize;
    /// How many processes run the network.
    fn size(&self) -> usize;
    /// This process's index among those on its machine, which picks its GPU when the machine
    /// has several (`GpuOptions::nth`).
    fn local_rank(&self) -> usize {
        self.rank()
    }
    /// Every process's `mine`, in rank order (lengths may differ).
    fn all_gather(&self, mine: &[u32]) -> Result<Vec<Vec<u32>>>;
    /// Returns once every process has called it.
    fn barrier(&self) -> Result<()>;
    /// What carries the messages, for reports: "single process", "threads", "MPI (Open MPI
    /// 4.1.4)".
    fn description(&self) -> String;
}

/// One process alone: a run that needs no exchange at all.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather(&self, mine: &[u32]) -> Result<Vec<Vec<u32>>> {
        Ok(vec![mine.to_vec()])
    }
    fn barrier(&self) -> Result<()> {
        Ok(())
    }
    fn description(&self) -> String {
        "single process".into()
    }
}

/// Ranks that are threads of one process, exchanging through shared memory: what the tests of
/// distributed runs use where no MPI is installed, and a way to split one network over several
/// GPUs of one machine. [`LocalGroup::new`] makes every rank's communicator; hand one to each
/// thread.
pub struct LocalGroup {
    rank: usize,
    shared: Arc<Shared>,
}

struct Shared {
    slots: Mutex<Vec<Vec<u32>>>,
    barrier: Barrier,
}

impl LocalGroup {
    /// The communicators of `size` ranks, rank 0 first.
    pub fn new(size: usize) -> Result<Vec<LocalGroup>> {
        if size == 0 {
            return Err(Error::Validation(
                "a group of processes needs at least one".into(),
            ));
        }
        let shared = Arc::new(Shared {
            slots: Mutex::new(vec![Vec::new(); size]),
            barrier: Barrier::new(size),
        });
        Ok((0..size)
            .map(|rank| LocalGroup {
                rank,
                shared: Arc::clone(&shared),
            })
            .collect())
    }
}

impl Communicator for LocalGroup {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.shared.barrier_size()
    }
    fn all_gather(&self, mine: &[u32]) -> Result<Vec<Vec<u32>>> {
        self.shared.lock()?[self.rank] = mine.to_vec();
        // Everyone has written before anyone reads, and read before anyone writes again.
        self.shared.barrier.wait();
        let all = self.shared.lock()?.clone();
        self.shared.barrier.wait();
        Ok(all)
    }
    fn barrier(&self) -> Result<()> {
        self.shared.barrier.wait();
        Ok(())
    }
    fn description(&self) -> String {
        "threads of one process".into()
    }
}

impl Shared {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<Vec<u32>>>> {
        self.slots.lock().map_err(|_| {
            Error::Simulation("another rank of this group panicked during an exchange".into())
        })
    }

    fn barrier_size(&self) -> usize {
        self.slots.lock().map_or(0, |s| s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{Communicator, LocalGroup, SingleProcess};

    #[test]
    fn every_rank_gets_every_ranks_words_in_rank_order() {
        let group = LocalGroup::new(3).unwrap();
        let results: Vec<Vec<Vec<u32>>> = std::thread::scope(|s| {
            let handles: Vec<_> = group
                .iter()
                .map(|c| {
                    s.spawn(move || {
                        let mut out = Vec::new();
                        for round in 0..3u32 {
                            let mine =
                                vec![c.rank() as u32 * 10 + round; c.rank() + round as usize];
                            out = c.all_gather(&mine).unwrap();
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for all in results {
            assert_eq!(all, vec![vec![2; 2], vec![12; 3], vec![22; 4]]);
        }
        assert_eq!(SingleProcess.all_gather(&[4, 5]).unwrap(), vec![vec![4, 5]]);
        assert_eq!(group[2].size(), 3);
    }
}
