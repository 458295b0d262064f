//! One spiking network on several processes, with the spikes of one.
//!
//! Every process builds the same network and keeps its part (`lower::part`): the synapses onto
//! its own neurons, on its own backend. A run goes in blocks of at most the exchange interval
//! (the shortest delay between two processes' neurons): each process runs a block, then every process sends the spikes its
//! neurons fired and receives everyone else's (one all-gather), and the others' spikes go into
//! its inbox, to be delivered at the step they would have been delivered in one process
//! (`shaders/prepare_inbox.wgsl`). Since each process also receives every spike, every probe
//! is whole on every process. Input is summed in integers and random numbers are drawn per
//! neuron and step, so the spikes do not depend on the number of processes.

pub mod comm;
#[cfg(feature = "mpi")]
pub mod mpi;
mod pending;

pub use comm::{Communicator, LocalGroup, SingleProcess};

use super::Simulator;
use crate::error::{Error, Result};
use crate::exec::{self, BackendChoice, ChunkRecord};
use crate::lower::part::{PartBuild, PartOf, Partition};
use crate::model::Network;
pub(super) use pending::Change;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Where a process's time went, summed over its run so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RankTimes {
    /// Running its blocks of steps on its backend (submission to readback).
    pub compute_s: f64,
    /// Waiting for the slowest process to finish its block (a barrier before each exchange).
    pub wait_s: f64,
    /// The exchange itself: the all-gather of every process's spikes, and filing them.
    pub exchange_s: f64,
    /// Exchanges so far.
    pub exchanges: u64,
    /// Spikes this process sent.
    pub spikes_sent: u64,
}

/// What a simulator of one process's part holds beyond its plan.
pub(super) struct Distributed {
    pub(super) comm: Box<dyn Communicator>,
    pub(super) partition: Partition,
    /// Spikes the other processes sent, by the step at which they go into the ring: a spike
    /// fired at step t arrives at step t + interval, where its synapses' shortened delays
    /// bring it to the ring slot a single process would fill.
    pub(super) pending: BTreeMap<u64, Vec<u32>>,
    pub(super) times: RankTimes,
}

/// The first word of every process's message in an exchange.
const OK: u32 = 0;
const FAILED: u32 = 1;

impl Simulator {
    /// Builds this process's part of `network`, to run with the other processes `comm`
    /// connects: every process calls this with the same network (the same description and
    /// seed), and then every run, probe read, lesion and checkpoint in the same order, as with
    /// MPI's collective calls. The spikes are those of [`Simulator::new`] in one process, for
    /// any number of processes.
    ///
    /// Plastic projections (STDP, synapse models) learn as in one process; a plastic synapse
    /// of a single step between two processes' neurons is refused with a message on every
    /// process, before any step (see `lower::plastic_interval`). NEF networks have no
    /// distributed form: this takes a spiking [`Network`] only.
    ///
    /// ```
    /// use lamina::prelude::*;
    /// use lamina::sim::distributed::LocalGroup;
    ///
    /// let network = || -> lamina::Result<(Network, SpikeProbe)> {
    ///     let mut net = Network::new().with_seed(5);
    ///     let pop = net.population("pop", 200, LifCurrent::default())?;
    ///     net.connect(pop, pop, Connectivity::FixedInDegree(20), 50.0, 1.5)?;
    ///     net.poisson(pop, PoissonInput { in_degree: 100, rate_hz: 20.0, weight_pa: 80.0 })?;
    ///     let spikes = net.probe_spikes(pop)?;
    ///     Ok((net, spikes))
    /// };
    /// let (net, probe) = network()?;
    /// let mut one = Simulator::new(&net, BackendChoice::Cpu)?;
    /// one.run(0.05)?;
    /// // Two ranks as two threads of this process (with the `mpi` feature, MPI processes).
    /// let hashes = std::thread::scope(|s| {
    ///     let ranks: Vec<_> = LocalGroup::new(2)?
    ///         .into_iter()
    ///         .map(|comm| {
    ///             let (net, probe) = (&net, &probe);
    ///             s.spawn(move || -> lamina::Result<u64> {
    ///                 let mut sim = Simulator::distributed(net, BackendChoice::Cpu, Box::new(comm))?;
    ///                 sim.run(0.05)?;
    ///                 Ok(sim.spikes(probe)?.hash())
    ///             })
    ///         })
    ///         .collect();
    ///     ranks.into_iter().map(|r| r.join().unwrap()).collect::<lamina::Result<Vec<u64>>>()
    /// })?;
    /// assert_eq!(hashes, vec![one.spikes(&probe)?.hash(); 2]);
    /// # Ok::<(), lamina::Error>(())
    /// ```
    pub fn distributed(
        network: &Network,
        choice: BackendChoice,
        comm: Box<dyn Communicator>,
    ) -> Result<Simulator> {
        let t0 = Instant::now();
        let of = PartOf {
            rank: comm.rank() as u32,
            ranks: comm.size() as u32,
        };
        // The build's one exchange: the shortest delay between processes, which each process
        // sees only onto its own neurons. A process that fails before it takes part sends its
        // failure afterwards, so that every process makes the same exchanges.
        let agreed = Cell::new(false);
        let interval = |mine: Result<u32>| -> Result<u32> {
            agreed.set(true);
            shortest_over_all(comm.as_ref(), mine)
        };
        let built = (|| {
            let (mut choice, auto_note) = exec::resolve(&choice)?;
            if let BackendChoice::Gpu(opts) = &mut choice {
                // One GPU per process where a machine has several.
                opts.nth = opts.nth.or(Some(comm.local_rank()));
            }
            let part = PartBuild {
                of,
                agree: &interval,
            };
            let plan = super::build_spiking(network, &choice, Some(part))?;
            let mut sim = Simulator::open(Some(Arc::new(plan)), None, choice)?;
            sim.auto_note = auto_note;
            Ok(sim)
        })();
        if !agreed.get() {
            let failed = Err(Error::Simulation("failed before the exchange".into()));
            let _ = shortest_over_all(comm.as_ref(), failed);
        }
        let mut sim = agree(comm.as_ref(), built, "building its part of the network")?;
        let partition = sim
            .plan
            .partition
            .clone()
            .expect("a part is built with its partition");
        // Blocks of an exchange interval are read back one at a time.
        sim.pipelined = false;
        sim.dist = Some(Box::new(Distributed {
            comm,
            partition,
            pending: BTreeMap::new(),
            times: RankTimes::default(),
        }));
        sim.build_s = t0.elapsed().as_secs_f64();
        Ok(sim)
    }

    /// This process's rank and the number of processes: (0, 1) unless the simulator was made
    /// by [`Simulator::distributed`].
    pub fn rank_and_size(&self) -> (usize, usize) {
        self.dist
            .as_ref()
            .map_or((0, 1), |d| (d.comm.rank(), d.comm.size()))
    }

    /// The split of the network among the processes, when it runs on several.
    pub fn partition(&self) -> Option<&Partition> {
        self.dist.as_ref().map(|d| &d.partition)
    }

    /// Where this process's time went (all zero in a single process).
    pub fn rank_times(&self) -> RankTimes {
        self.dist
            .as_ref()
            .map_or_else(RankTimes::default, |d| d.times)
    }

    /// What carries the exchange, when the network runs on several processes.
    pub fn communicator_description(&self) -> Option<String> {
        self.dist.as_ref().map(|d| d.comm.description())
    }

    /// Every process's `mine`, in rank order: `[mine]` in a single process. A collective call:
    /// every process makes it, with words of its own (a report's figures, results to merge).
    pub fn gather_words(&self, mine: &[u32]) -> Result<Vec<Vec<u32>>> {
        match &self.dist {
            Some(d) => d.comm.all_gather(mine),
            None => Ok(vec![mine.to_vec()]),
        }
    }

    /// [`Simulator::gather_words`] of 64-bit values (counts, `f64::to_bits`).
    pub fn gather_u64(&self, mine: &[u64]) -> Result<Vec<Vec<u64>>> {
        let words: Vec<u32> = mine
            .iter()
            .flat_map(|&x| [x as u32, (x >> 32) as u32])
            .collect();
        Ok((self.gather_words(&words)?.iter())
            .map(|w| {
                let pairs = w.chunks_exact(2);
                pairs.map(|p| p[0] as u64 | (p[1] as u64) << 32).collect()
            })
            .collect())
    }

    /// Per-neuron `values` of the neurons from `first_neuron` on, each from the process that
    /// owns the neuron (the others hold stale values): a collective call on several
    /// processes, `values` as they are in one.
    pub(super) fn values_from_owners(
        &self,
        first_neuron: u32,
        values: Vec<f32>,
    ) -> Result<Vec<f32>> {
        let Some(d) = &self.dist else {
            return Ok(values);
        };
        let all = d.comm.all_gather(bytemuck::cast_slice(&values))?;
        Ok((0..values.len())
            .map(|k| {
                let owner = d.partition.owner_of(first_neuron + k as u32) as usize;
                f32::from_bits(all[owner][k])
            })
            .collect())
    }

    /// `result` if it and every other process's succeeded, else an error on every process.
    pub(super) fn agree<T>(&self, result: Result<T>, what: &str) -> Result<T> {
        match &self.dist {
            Some(d) => agree(d.comm.as_ref(), result, what),
            None => result,
        }
    }

    /// Runs `steps` steps in blocks of at most the exchange interval, exchanging spikes after
    /// each block.
    pub(super) fn run_distributed(&mut self, steps: u64) -> Result<()> {
        let end = self.step + steps;
        while self.step < end {
            let first = self.step;
            let dist = self.dist.as_mut().expect("a distributed simulator");
            let longest = (end - first)
                .min(dist.partition.interval as u64)
                .min(self.program.chunk_steps as u64) as u32;
            let (inbox, steps) = inbox_words(dist, &self.plan, first, longest);
            let t0 = Instant::now();
            let outcome = (self.backend.write_words("inbox", 0, &inbox))
                .and_then(|_| self.backend.run_chunk(first as u32, steps, &[]));
            let t1 = Instant::now();
            let message = match &outcome {
                Ok(rec) if rec.fault.is_none() => fired(rec, self.plan.globals.rec_words, steps),
                _ => vec![FAILED],
            };
            dist.comm.barrier()?;
            let t2 = Instant::now();
            let all = dist.comm.all_gather(&message)?;
            let failed: Vec<usize> = (all.iter().enumerate())
                .filter(|(_, m)| m.first() != Some(&OK))
                .map(|(r, _)| r)
                .collect();
            if !failed.is_empty() {
                return Err(self.stop_together(outcome, &failed, first));
            }
            let mut rec = outcome?;
            let dist = self.dist.as_mut().expect("a distributed simulator");
            file_others_spikes(dist, &all, &mut rec, self.plan.globals.rec_words, first);
            dist.times.compute_s += (t1 - t0).as_secs_f64();
            dist.times.wait_s += (t2 - t1).as_secs_f64();
            dist.times.spikes_sent += (message.len() - 1 - steps as usize) as u64;
            dist.times.exchanges += 1;
            if !self.plan.state_entries.is_empty() {
                self.merge_state(&mut rec)?;
            }
            let dist = self.dist.as_mut().expect("a distributed simulator");
            dist.times.exchange_s += t2.elapsed().as_secs_f64();
            self.absorb(&rec);
            self.step += steps as u64;
        }
        Ok(())
    }

    /// The error every process returns when some failed a block: a process that failed says
    /// why (a health fault as [`Simulator::run`] describes it); the others name those that did.
    fn stop_together(
        &mut self,
        outcome: Result<ChunkRecord>,
        failed: &[usize],
        first: u64,
    ) -> Error {
        match outcome {
            Err(e) => e,
            Ok(rec) => match rec.fault {
                Some(fault) => {
                    self.absorb(&rec);
                    self.step += rec.steps as u64;
                    self.describe_fault(fault)
                }
                None => Error::Simulation(format!(
                    "process {} of {} failed in the block of steps from {first} (see its \
                     message); this process stopped with it, so that none waits for the others",
                    list(failed),
                    self.rank_and_size().1
                )),
            },
        }
    }

    /// Takes every state probe's samples from the process that owns the neuron.
    fn merge_state(&mut self, rec: &mut ChunkRecord) -> Result<()> {
        let dist = self.dist.as_ref().expect("a distributed simulator");
        let all = dist.comm.all_gather(&rec.records[1])?;
        let rank = dist.comm.rank();
        let chunk = self.plan.chunk_steps;
        for e in &self.plan.state_entries {
            let owner = dist.partition.owner_of(e.neuron) as usize;
            if owner != rank {
                let at = e.base as usize..(e.base + 3 * chunk.div_ceil(e.every_steps)) as usize;
                rec.records[1][at.clone()].copy_from_slice(&all[owner][at]);
            }
        }
        Ok(())
    }
}

/// `result` on every process if every process's succeeded; otherwise each fails, a process
/// whose own failed with its own error.
fn agree<T>(comm: &dyn Communicator, result: Result<T>, what: &str) -> Result<T> {
    gather_outcomes(comm, result, |_| Vec::new(), what).map(|(value, _)| value)
}

/// The smallest of every process's `mine` (in the build's exchange), or an error when any
/// process failed.
fn shortest_over_all(comm: &dyn Communicator, mine: Result<u32>) -> Result<u32> {
    let what = "building its part of the network";
    let (_, all) = gather_outcomes(comm, mine, |&d| vec![d], what)?;
    Ok(all.iter().map(|m| m[1]).min().unwrap_or(u32::MAX))
}

/// Every process's outcome: each sends whether it succeeded and, if it did, `words` of its
/// value. Returns this process's value and every message when all succeeded; otherwise this
/// process's own error, or one naming the processes that failed `what`.
fn gather_outcomes<T>(
    comm: &dyn Communicator,
    mine: Result<T>,
    words: impl Fn(&T) -> Vec<u32>,
    what: &str,
) -> Result<(T, Vec<Vec<u32>>)> {
    let message = match &mine {
        Ok(value) => [vec![OK], words(value)].concat(),
        Err(_) => vec![FAILED],
    };
    let all = comm.all_gather(&message)?;
    let failed: Vec<usize> = (all.iter().enumerate())
        .filter(|(_, m)| m.first() != Some(&OK))
        .map(|(r, _)| r)
        .collect();
    match mine {
        Err(e) => Err(e),
        Ok(_) if !failed.is_empty() => Err(Error::Simulation(format!(
            "process {} of {} failed {what} (see its message); this process stopped with it",
            list(&failed),
            comm.size()
        ))),
        Ok(value) => Ok((value, all)),
    }
}

/// "1", "1 and 3", "1, 2 and 3".
fn list(ranks: &[usize]) -> String {
    let words: Vec<String> = ranks.iter().map(|r| r.to_string()).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => words.concat(),
    }
}

/// The inbox for a block from step `first` of up to `longest` steps, and the steps it covers:
/// fewer when the spikes arriving in them would not fit the inbox (a step's always fits).
/// Words: [first step, steps, offsets of each step's spikes and one past the last, then the
/// spikes from word 3 + interval].
fn inbox_words(
    dist: &mut Distributed,
    plan: &crate::lower::Plan,
    first: u64,
    longest: u32,
) -> (Vec<u32>, u32) {
    let header = 3 + dist.partition.interval as usize;
    let capacity = plan.inbox_capacity();
    let mut words = vec![0u32; header];
    words[0] = first as u32;
    words[2] = header as u32;
    let mut steps = 0u32;
    while steps < longest {
        let arriving = dist.pending.get(&(first + steps as u64));
        let len = arriving.map_or(0, Vec::len);
        if steps > 0 && words.len() - header + len > capacity {
            break;
        }
        if let Some(spikes) = dist.pending.remove(&(first + steps as u64)) {
            words.extend_from_slice(&spikes);
        }
        steps += 1;
        words[2 + steps as usize] = words.len() as u32;
    }
    words[1] = steps;
    (words, steps)
}

/// This process's message for a block: OK, then per step the number of its neurons that fired
/// and their indices (every bit of the spike record is one of its own neurons).
fn fired(rec: &ChunkRecord, rec_words: u32, steps: u32) -> Vec<u32> {
    let mut out = vec![OK];
    let words = rec_words as usize;
    for row in rec.words(0).chunks(words.max(1)).take(steps as usize) {
        let count_at = out.len();
        out.push(0);
        for (w, &word) in row.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                out.push(w as u32 * 32 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        out[count_at] = (out.len() - count_at - 1) as u32;
    }
    out
}

/// Files the other processes' spikes of a block from step `first`: into the block's spike
/// record (so probes see every neuron) and into the inbox for the step they arrive at.
fn file_others_spikes(
    dist: &mut Distributed,
    all: &[Vec<u32>],
    rec: &mut ChunkRecord,
    rec_words: u32,
    first: u64,
) {
    let rank = dist.comm.rank();
    let interval = dist.partition.interval as u64;
    for (r, message) in all.iter().enumerate() {
        if r == rank {
            continue;
        }
        let (mut at, mut step) = (1usize, 0u64);
        while at < message.len() {
            let count = message[at] as usize;
            let spikes = &message[at + 1..at + 1 + count];
            let row = &mut rec.records[0][step as usize * rec_words as usize..];
            for &i in spikes {
                row[i as usize / 32] |= 1 << (i % 32);
            }
            if count > 0 {
                let arrivals = dist.pending.entry(first + step + interval).or_default();
                arrivals.extend_from_slice(spikes);
            }
            at += 1 + count;
            step += 1;
        }
    }
}
