//! Connectivity rules and per-synapse values.

use super::dist::Dist;
use super::network::NeuronSlice;

/// How the synapses of one block are chosen. Indices are local to the block's source and
/// target slices.
#[derive(Clone, Debug, PartialEq)]
pub enum Connectivity {
    /// Explicit (pre, post) pairs.
    Explicit(Vec<(u32, u32)>),
    /// Each (pre, post) pair independently with probability `p` (Brian2 `connect(p=...)`,
    /// NEST `pairwise_bernoulli`).
    FixedProbability(f64),
    /// Exactly `n` synapses, each with pre and post drawn uniformly; multapses allowed (NEST
    /// `fixed_total_number`, the Potjans-Diesmann rule).
    FixedTotalNumber(u64),
    /// Each post neuron gets exactly `k` synapses from uniformly drawn pre neurons; multapses
    /// allowed (NEST `fixed_indegree`).
    FixedInDegree(u32),
    /// Every pair.
    AllToAll,
    /// Pre `i` to post `i`; both slices must have the same size.
    OneToOne,
}

/// Per-synapse values: drawn from a distribution, or given for each synapse (only with
/// `Connectivity::Explicit`, in the order of its pairs).
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// A distribution.
    Dist(Dist),
    /// One value per synapse.
    Each(Vec<f64>),
}

impl From<f64> for Values {
    fn from(c: f64) -> Values {
        Values::Dist(Dist::Const(c))
    }
}

impl From<Dist> for Values {
    fn from(d: Dist) -> Values {
        Values::Dist(d)
    }
}

impl From<Vec<f64>> for Values {
    fn from(v: Vec<f64>) -> Values {
        Values::Each(v)
    }
}

/// One block of a projection: a rule between a source slice and a target slice, with weights
/// (pA; the sign picks the excitatory or inhibitory synaptic current) and delays (ms, rounded to
/// whole steps as Brian2 does, at least one step).
#[derive(Clone, Debug)]
pub struct Block {
    /// Presynaptic population or slice.
    pub source: NeuronSlice,
    /// Postsynaptic population or slice.
    pub target: NeuronSlice,
    /// How pairs are connected.
    pub rule: Connectivity,
    /// Weights, pA (negative: inhibitory).
    pub weight_pa: Values,
    /// Delays, ms (rounded to whole steps, at least one).
    pub delay_ms: Values,
}

impl Block {
    /// A block of synapses for `Network::connect_blocks` (checked when it is added).
    pub fn new(
        source: impl Into<NeuronSlice>,
        target: impl Into<NeuronSlice>,
        rule: Connectivity,
        weight_pa: impl Into<Values>,
        delay_ms: impl Into<Values>,
    ) -> Block {
        Block {
            source: source.into(),
            target: target.into(),
            rule,
            weight_pa: weight_pa.into(),
            delay_ms: delay_ms.into(),
        }
    }
}
