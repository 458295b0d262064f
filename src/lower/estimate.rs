//! What a network will need before any of it is built: neurons, expected synapses, and the
//! host memory that building and running it takes, from the model's counts alone. A model too
//! large for the machine is refused in milliseconds with these figures, instead of after
//! minutes of drawing synapses and gigabytes of allocation.

use crate::error::{Error, Result};
use crate::model::{Connectivity, Network};

/// Host bytes per neuron while a plan is built and run, the delay ring aside: the plan's
/// potentials, drives and row pointers (12), the build's population index, input bounds and
/// summed currents (28), and an executor's potentials, currents, counters and spike list (20).
const HOST_BYTES_PER_NEURON: u64 = 60;
/// Host bytes per synapse record at most (64-bit records; most models pack into 48).
const RECORD_BYTES: u64 = 8;
/// Host bytes per synapse drawn and held until packing (explicit pairs and fixed in-degree
/// draw their synapses once into buckets: target, delay and weight).
const DRAWN_BYTES: u64 = 12;
/// Delay-ring slots assumed when the longest delay is not known before drawing.
const MIN_RING_SLOTS: u64 = 2;

/// A network's size and memory, estimated from its counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub neurons: u64,
    /// Expected synapses (exact for every rule but `FixedProbability`, whose count is a
    /// binomial draw around this mean).
    pub synapses: f64,
    /// Host bytes that building the plan and running it on the CPU twin take at their peak.
    pub host_bytes: u64,
}

impl Estimate {
    /// The estimate for `net` (its slices must resolve: call after the network's checks).
    pub fn of(net: &Network) -> Result<Estimate> {
        let neurons = net.neuron_count();
        let (mut synapses, mut drawn) = (0f64, 0f64);
        for proj in &net.projections {
            for b in &proj.blocks {
                let pre = net.resolve(&b.source)?.len() as f64;
                let post = net.resolve(&b.target)?.len() as f64;
                let (count, held) = match &b.rule {
                    Connectivity::Explicit(pairs) => (pairs.len() as f64, true),
                    Connectivity::FixedProbability(p) => (p * pre * post, false),
                    Connectivity::FixedTotalNumber(n) => (*n as f64, false),
                    Connectivity::FixedInDegree(k) => (*k as f64 * post, true),
                    Connectivity::AllToAll => (pre * post, false),
                    Connectivity::OneToOne => (post, false),
                };
                synapses += count;
                if held {
                    drawn += count;
                }
            }
        }
        let per_neuron = HOST_BYTES_PER_NEURON + MIN_RING_SLOTS * 8;
        let host = neurons as f64 * per_neuron as f64
            + synapses * RECORD_BYTES as f64
            + drawn * DRAWN_BYTES as f64;
        Ok(Estimate {
            neurons,
            synapses,
            host_bytes: host.min(u64::MAX as f64) as u64,
        })
    }

    /// Refuses a network a plan cannot index (2^32 - 1 synapses), or one whose estimate
    /// exceeds `available` host bytes, naming the figures and what to change.
    pub fn check(&self, available: Option<u64>) -> Result<()> {
        if self.synapses > u32::MAX as f64 {
            return Err(Error::Build(format!(
                "the network declares about {} synapses; a plan indexes at most 2^32 - 1 \
                 (4.29e9). Use fewer or sparser projections, or a smaller scale",
                sci(self.synapses)
            )));
        }
        if let Some(available) = available.filter(|&a| self.host_bytes > a) {
            return Err(Error::Build(format!(
                "the network needs about {} of host memory to build and run ({} neurons, \
                 about {} synapses at up to {RECORD_BYTES} bytes each), more than the {} this \
                 machine has available. Use a smaller scale, fewer neurons or sparser \
                 projections, or a machine with more memory",
                gib(self.host_bytes),
                self.neurons,
                sci(self.synapses),
                gib(available)
            )));
        }
        Ok(())
    }
}

/// The smallest delay ring `neurons` neurons can have, in bytes.
pub fn min_ring_bytes(neurons: u64) -> u64 {
    neurons * MIN_RING_SLOTS * 8
}

/// Bytes one storage binding holds on every adapter lamina runs on (wgpu's default and
/// downlevel limits): a network whose smallest ring fits this needs no look at the adapter.
pub const GUARANTEED_BINDING_BYTES: u64 = 128 << 20;

/// A device's limit on one buffer binding, and the device's description.
pub type BindingLimit = (u64, String);

impl Estimate {
    /// The smallest delay ring the network can have (slots x neurons x 2 channels of 4 bytes),
    /// bound whole on a GPU: its longest delay is known only once its synapses are drawn, so
    /// this assumes the shortest.
    pub fn min_ring_bytes(&self) -> u64 {
        min_ring_bytes(self.neurons)
    }

    /// Refuses a network whose delay ring cannot fit one binding of the device, naming the
    /// sizes, the limit and the device.
    pub fn check_device(&self, (limit, device): &BindingLimit) -> Result<()> {
        let ring = self.min_ring_bytes();
        if ring > *limit {
            return Err(Error::Device(format!(
                "the network's {} neurons need a delay ring of at least {} in one buffer, \
                 above the {} one binding may hold on {device}. Use fewer neurons, an adapter \
                 with larger limits, or the CPU backend",
                self.neurons,
                gib(ring),
                gib(*limit)
            )));
        }
        Ok(())
    }
}

/// Host memory available to a new allocation (Linux's `MemAvailable`), or `None` where it
/// cannot be read.
pub fn host_available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn sci(x: f64) -> String {
    if x < 1e6 {
        format!("{x:.0}")
    } else {
        format!("{x:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::Estimate;
    use crate::model::{Connectivity, LifCurrent, Network};

    fn two_pops(rule: Connectivity, n: u32) -> Network {
        let mut net = Network::new().with_seed(3);
        let a = net.population("a", n, LifCurrent::default()).unwrap();
        let b = net.population("b", n, LifCurrent::default()).unwrap();
        net.connect(a, b, rule, 10.0, 1.0).unwrap();
        net
    }

    #[test]
    fn counts_follow_each_rule() {
        let est = |rule, n| Estimate::of(&two_pops(rule, n)).unwrap().synapses;
        assert_eq!(est(Connectivity::AllToAll, 100), 10_000.0);
        assert_eq!(est(Connectivity::OneToOne, 100), 100.0);
        assert_eq!(est(Connectivity::FixedInDegree(7), 100), 700.0);
        assert_eq!(est(Connectivity::FixedTotalNumber(1234), 100), 1234.0);
        assert_eq!(est(Connectivity::FixedProbability(0.1), 100), 1000.0);
    }

    #[test]
    fn a_ring_too_large_for_the_device_is_refused_naming_it() {
        let est = Estimate::of(&two_pops(Connectivity::OneToOne, 5_000_000)).unwrap();
        let small = (128u64 << 20, "a small adapter".to_string());
        let err = est.check_device(&small).unwrap_err().to_string();
        assert!(
            err.contains("10000000 neurons need a delay ring of at least 0.1 GiB")
                && err.contains("a small adapter"),
            "{err}"
        );
        assert!(est
            .check_device(&(1u64 << 31, "a large one".into()))
            .is_ok());
    }

    #[test]
    fn a_network_past_the_limits_is_refused_with_its_figures() {
        let est = Estimate::of(&two_pops(Connectivity::AllToAll, 100_000)).unwrap();
        let err = est.check(None).unwrap_err().to_string();
        assert!(
            err.contains("1.00e10 synapses") && err.contains("2^32 - 1"),
            "{err}"
        );

        let est = Estimate::of(&two_pops(Connectivity::FixedInDegree(100), 1_000_000)).unwrap();
        assert!(est.check(Some(u64::MAX)).is_ok());
        let err = est.check(Some(1 << 30)).unwrap_err().to_string();
        assert!(
            err.contains("more than the 1.0 GiB") && err.contains("2000000 neurons"),
            "{err}"
        );
    }
}
