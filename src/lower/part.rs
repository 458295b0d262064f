//! One network on several processes: which neurons each process owns, and how often they
//! exchange spikes.
//!
//! Each process owns a contiguous range of neurons (global indices, so Poisson draws, spike
//! sources and probes need no translation), chosen so that the synapses onto each range, plus
//! a fixed cost per neuron, are about equal: propagation, which works per synapse, is what a
//! process spends its time on in a large model. The split is made from the in-degrees the
//! connection rules give on average, before any synapse is drawn, so that the census can count
//! each process's rows in the same pass as the whole network's input bounds. A process keeps only the synapses onto its
//! own neurons and updates only its own neurons. Spikes are exchanged every `interval` steps,
//! the shortest delay between two processes' neurons: a spike sent at step t arrives at
//! another process no earlier than t + interval, so each process can run that many steps on
//! its own and then deliver the others' spikes with their exact delays. Input is summed in integers, so delivering a spike later than a single
//! process would (but into the same ring slot) changes no bit: the spikes are the same for any
//! number of processes.

use crate::error::{Error, Result};

/// Which part of a network a process builds: process `rank` of `ranks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartOf {
    pub rank: u32,
    pub ranks: u32,
}

/// How the processes of a run agree while each builds its part: each passes the shortest
/// delay of a synapse from another process's neurons onto its own (or the error that stopped
/// it before it knew), and gets the shortest over every process, or an error when any failed.
/// Every process calls it exactly once per build (a collective exchange).
pub type Agree<'a> = &'a dyn Fn(crate::Result<u32>) -> crate::Result<u32>;

/// A part to build, and how its process agrees with the others.
#[derive(Clone, Copy)]
pub struct PartBuild<'a> {
    pub of: PartOf,
    pub agree: Agree<'a>,
}

/// What every process knows of the split, and which part is this process's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub rank: u32,
    pub ranks: u32,
    /// First neuron of each process, then the neuron count: process r owns
    /// `starts[r] .. starts[r + 1]`.
    pub starts: Vec<u32>,
    /// Synapses onto each process's neurons, as the rules expect them (what the split
    /// balances); the build replaces this process's own entry with the count it drew (a
    /// process draws only what lands on its populations, so it cannot count the others').
    pub synapses: Vec<u64>,
    /// Steps between spike exchanges: the shortest delay of any synapse from one process's
    /// neurons to another's, at most a chunk (`lower::build_part` finds it).
    pub interval: u32,
}

/// What a neuron costs in the split, in synapses: its update and its ring entries.
pub const NEURON_COST: u64 = 16;

impl Partition {
    /// Splits the neurons among `part.ranks` processes by the synapses onto each (`in_degree`
    /// per neuron, as the rules give them on average) plus `NEURON_COST` each; every process
    /// computes the same split. `synapses` holds the expected counts until the build has
    /// counted the synapses drawn.
    pub fn split(part: PartOf, in_degree: &[u64]) -> Result<Partition> {
        if part.ranks == 0 || part.rank >= part.ranks {
            return Err(Error::Validation(format!(
                "process {} of {}: a process's rank must be below the number of processes",
                part.rank, part.ranks
            )));
        }
        let cost = |d: u64| d + NEURON_COST;
        let total: u64 = in_degree.iter().map(|&d| cost(d)).sum();
        let ranks = part.ranks as u64;
        let mut starts = vec![0u32];
        let mut synapses = Vec::with_capacity(part.ranks as usize);
        let (mut acc, mut onto) = (0u64, 0u64);
        for (i, &d) in in_degree.iter().enumerate() {
            // Process r ends where the cost so far passes r/ranks of the total.
            while (starts.len() as u64) < ranks
                && acc * ranks >= total * starts.len() as u64
                && acc > 0
            {
                starts.push(i as u32);
                synapses.push(std::mem::take(&mut onto));
            }
            acc += cost(d);
            onto += d;
        }
        let n = in_degree.len() as u32;
        while starts.len() < part.ranks as usize {
            starts.push(n);
            synapses.push(std::mem::take(&mut onto));
        }
        synapses.push(onto);
        starts.push(n);
        Ok(Partition {
            rank: part.rank,
            ranks: part.ranks,
            starts,
            synapses,
            interval: 1,
        })
    }

    /// The neurons of process `r`.
    pub fn range_of(&self, r: u32) -> std::ops::Range<u32> {
        self.starts[r as usize]..self.starts[r as usize + 1]
    }

    /// This process's neurons.
    pub fn owned(&self) -> std::ops::Range<u32> {
        self.range_of(self.rank)
    }

    /// The process that owns neuron `i`.
    pub fn owner_of(&self, i: u32) -> u32 {
        (self.starts.partition_point(|&s| s <= i) - 1).min(self.ranks as usize - 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::{PartOf, Partition, NEURON_COST};

    fn split(in_degree: &[u64], ranks: u32) -> Partition {
        Partition::split(PartOf { rank: 0, ranks }, in_degree).unwrap()
    }

    #[test]
    fn one_process_owns_everything() {
        let p = split(&[5; 10], 1);
        assert_eq!(p.starts, vec![0, 10]);
        assert_eq!(p.synapses, vec![50]);
    }

    #[test]
    fn the_split_balances_synapses_not_neurons() {
        // The first 100 neurons receive 1,000 synapses each, the next 900 none: two processes
        // split near neuron 57, not at 500.
        let mut d = vec![1000u64; 100];
        d.extend(vec![0u64; 900]);
        let p = split(&d, 2);
        let total: u64 = d.iter().map(|&x| x + NEURON_COST).sum();
        let first: u64 = d[..p.starts[1] as usize]
            .iter()
            .map(|&x| x + NEURON_COST)
            .sum();
        assert!(p.starts[1] < 100, "{:?}", p.starts);
        assert!(first * 2 >= total && first * 2 - total <= 2 * (1000 + NEURON_COST));
        assert_eq!(p.synapses.iter().sum::<u64>(), 100_000);
        assert_eq!(p.owner_of(0), 0);
        assert_eq!(p.owner_of(999), 1);
        assert_eq!(p.owner_of(p.starts[1]), 1);
    }

    #[test]
    fn every_neuron_has_one_owner_for_any_number_of_processes() {
        let d: Vec<u64> = (0..37).map(|i| i * 7919 % 13).collect();
        for ranks in 1..=8 {
            let p = split(&d, ranks);
            assert_eq!(p.starts.len(), ranks as usize + 1);
            assert_eq!(p.starts[0], 0);
            assert_eq!(*p.starts.last().unwrap(), 37);
            assert!(p.starts.windows(2).all(|w| w[0] <= w[1]), "{:?}", p.starts);
            for i in 0..37 {
                assert!(p.range_of(p.owner_of(i)).contains(&i));
            }
        }
        // More processes than neurons: the last ones own none.
        let p = split(&[1, 1], 4);
        assert_eq!(p.starts.len(), 5);
        assert_eq!((0..4).map(|r| p.range_of(r).len()).sum::<usize>(), 2);
    }

    #[test]
    fn a_bad_rank_is_refused() {
        let e = Partition::split(PartOf { rank: 2, ranks: 2 }, &[1]).unwrap_err();
        assert!(
            e.to_string().contains("below the number of processes"),
            "{e}"
        );
    }
}
