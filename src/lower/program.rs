//! The `Program`: what every lowering emits and every executor runs. A table of named buffers
//! (contents, role) and the ordered list of what one step does (kernel launches with their
//! bindings and workgroups, and calls to the host), plus what the host writes at the start of a
//! chunk of steps and reads back at its end. The spiking lowering ([`super::Plan::program`]) and
//! the NEF lowering ([`super::nef::NefPlan::program`]) emit it; [`Program::join`] runs both
//! kinds of network as one. Executors know nothing else about a model: not what a population,
//! an ensemble or a Poisson source is.

mod nef;
mod spiking;

use crate::error::{Error, Result};
use crate::lower::nef::{BuiltRule, HostNode};
use crate::model::neuron_model::NeuronModel;
use std::sync::Arc;

/// A buffer's initial contents, shared rather than copied: the synapse records of a large
/// model take gigabytes.
#[derive(Clone, Debug)]
pub enum Contents {
    Words(Arc<Vec<u32>>),
    Floats(Arc<Vec<f32>>),
    /// This many zero words.
    Zeroed(usize),
}

impl Contents {
    /// The contents of a table of plain-data records (descriptor rows, uniforms).
    pub fn of<T: bytemuck::Pod>(records: &[T]) -> Contents {
        Contents::Words(Arc::new(bytemuck::cast_slice(records).to_vec()))
    }

    /// Length in 4-byte words.
    pub fn words(&self) -> usize {
        match self {
            Contents::Words(w) => w.len(),
            Contents::Floats(f) => f.len(),
            Contents::Zeroed(n) => *n,
        }
    }

    /// The contents as words, or `None` for zeros.
    pub fn as_words(&self) -> Option<&[u32]> {
        match self {
            Contents::Words(w) => Some(w),
            Contents::Floats(f) => Some(bytemuck::cast_slice(f)),
            Contents::Zeroed(_) => None,
        }
    }
}

/// What a buffer holds, which says what `reset` and a chunk do to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Built once; only the host writes it between steps (a lesion's cleared weights), and a
    /// reset keeps what it wrote.
    Constant,
    /// The model's state: kernels change it, a reset restores the initial contents.
    State,
    /// Scratch the kernels use within a step; a reset zeroes it as it was built.
    Scratch,
    /// A record of the chunk's steps: cleared when a chunk starts, read back when it ends.
    Record,
}

/// How a launch's workgroups are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Groups {
    /// (x, y) workgroups.
    Direct([u32; 2]),
    /// Read from buffer `k` (x, y, z words) as an earlier launch of the step wrote them.
    Indirect(usize),
    /// Read from buffer `k` at word `4 * (step % 2)`: even and odd steps have counts of their
    /// own, so the launch that writes one step's (the neuron update) can reset the next
    /// step's while it runs, with no launch between it and the one that reads them.
    IndirectByParity(usize),
}

impl Groups {
    /// The buffer the workgroup counts are read from, if they are.
    pub fn indirect_buffer(&self) -> Option<usize> {
        match *self {
            Groups::Direct(_) => None,
            Groups::Indirect(b) | Groups::IndirectByParity(b) => Some(b),
        }
    }

    /// Byte offset of step `step`'s workgroup counts in the indirect buffer.
    pub fn indirect_offset(&self, step: u32) -> u64 {
        match self {
            Groups::IndirectByParity(_) => 16 * (step % 2) as u64,
            _ => 0,
        }
    }
}

/// Where a buffer may be split across bindings: an array of bit-packed records, of
/// `record_bits` bits each, which the kernels address through a `chunk` uniform (the first
/// record and the count a part holds). An executor that can bind it whole runs each launch
/// once; one that cannot splits it at `RECORD_ALIGNMENT` records and runs each launch that
/// binds it once per part, with that part's `chunk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub record_bits: u32,
    pub records: u64,
}

/// One buffer of a program.
#[derive(Clone, Debug)]
pub struct Buffer {
    /// How the host names it (`read_words`, `write_words`); unique in the program.
    pub name: String,
    /// What it holds, in words a user understands (for errors about its size).
    pub what: String,
    pub contents: Contents,
    pub role: Role,
    /// Bound as `var<uniform>` (else as storage).
    pub uniform: bool,
    /// Added to with atomics by parallel invocations (the CPU twin holds atomics for it).
    pub atomic: bool,
    pub split: Option<Split>,
    /// What to do when it is larger than one binding of a device may hold.
    pub advice: &'static str,
    /// Bytes an empty buffer is given on a device (a binding holds at least one element).
    pub min_bytes: u32,
}

impl Buffer {
    /// A storage buffer with `contents` in `role`.
    pub fn new(
        name: impl Into<String>,
        what: impl Into<String>,
        contents: Contents,
        role: Role,
    ) -> Buffer {
        Buffer {
            name: name.into(),
            what: what.into(),
            contents,
            role,
            uniform: false,
            atomic: false,
            split: None,
            advice: "",
            min_bytes: 16,
        }
    }

    /// Bytes the buffer takes on a device.
    pub fn bytes(&self) -> u64 {
        self.contents.words() as u64 * 4
    }
}

/// What a CPU twin needs beyond its bindings.
#[derive(Clone, Default)]
pub enum Twin {
    #[default]
    None,
    /// The neuron update's user-defined models (kind `KIND_CUSTOM + k` runs `models[k]`) and
    /// the step in ms.
    NeuronModels {
        models: Arc<Vec<NeuronModel>>,
        dt_ms: f64,
    },
    /// A synapse model's rule.
    SynapseRule(Arc<BuiltRule>),
    /// The user-defined synapse models of spiking projections, and the step (s).
    PlasticModels {
        models: Arc<Vec<crate::lower::plastic::ModelPlan>>,
        dt: f32,
    },
}

/// One kernel launch of a step.
#[derive(Clone)]
pub struct Launch {
    /// The kernel (`kernels::KERNELS`): its WGSL file and its CPU twin.
    pub kernel: &'static str,
    /// Generated WGSL that replaces the file (user models spliced in), and its label.
    pub source: Option<(Arc<str>, String)>,
    /// The buffer bound at each of the kernel's bindings, in the registry's order.
    pub bind: Vec<usize>,
    pub groups: Groups,
    pub twin: Twin,
}

/// What one step does, in order.
#[derive(Clone)]
pub enum Op {
    Launch(Launch),
    /// Calls `host_nodes[k]` on the host: reads its input from buffer `sig`, writes its output
    /// there. A GPU executor submits what it has encoded first.
    Host {
        node: usize,
        sig: usize,
    },
}

/// A control block the host writes at the start of every chunk: `words` with the first step
/// written at each of `step_at`, and, when the health check is on, 1 at `health_at`.
#[derive(Clone, Debug)]
pub struct ChunkControl {
    pub buffer: usize,
    pub words: Vec<u32>,
    pub step_at: Vec<usize>,
    pub health_at: Option<usize>,
}

impl ChunkControl {
    /// The block for a chunk starting at `first_step`, with the health check `on` or off.
    pub fn words_for(&self, first_step: u32, health: bool) -> Vec<u32> {
        let mut words = self.words.clone();
        for &at in &self.step_at {
            words[at] = first_step;
        }
        if let Some(at) = self.health_at {
            words[at] = health as u32;
        }
        words
    }
}

/// Where the health check reports: words of buffer `buffer` holding the first failing step,
/// the lowest neuron failing at it and the failures' bits, read back after a chunk.
#[derive(Clone, Copy, Debug)]
pub struct HealthReport {
    pub buffer: usize,
    pub step_at: usize,
    pub neuron_at: usize,
    pub what_at: usize,
}

/// A record read back after each chunk: `fixed_words + words_per_step * steps` words.
#[derive(Clone, Copy, Debug)]
pub struct Readback {
    pub buffer: usize,
    pub fixed_words: usize,
    pub words_per_step: usize,
}

/// A table of host-computed inputs, one row of `width` floats per step of the chunk, written
/// into `buffer` at the start of the chunk.
#[derive(Clone, Copy, Debug)]
pub struct Feed {
    pub buffer: usize,
    pub width: usize,
}

/// A lowered network: buffers and what one step does with them.
#[derive(Clone, Default)]
pub struct Program {
    pub buffers: Vec<Buffer>,
    pub ops: Vec<Op>,
    /// Steps per chunk: the records are sized for this many.
    pub chunk_steps: u32,
    /// Seconds per step (the time a host call sees).
    pub dt: f64,
    pub controls: Vec<ChunkControl>,
    pub health: Option<HealthReport>,
    pub records: Vec<Readback>,
    pub feed: Option<Feed>,
    pub host_nodes: Vec<HostNode>,
}

impl Program {
    /// Adds a buffer; returns its index.
    pub fn add(&mut self, buffer: Buffer) -> usize {
        self.buffers.push(buffer);
        self.buffers.len() - 1
    }

    /// The index of the buffer named `name`.
    pub fn buffer(&self, name: &str) -> Option<usize> {
        self.buffers.iter().position(|b| b.name == name)
    }

    /// The buffers bound at `kernel`'s bindings, in order: for each binding, the buffer named
    /// as `renames` maps it, else the one named as the binding.
    pub fn bind_by_name(&self, kernel: &str, renames: &[(&str, &str)]) -> Result<Vec<usize>> {
        crate::kernels::kernel(kernel)?
            .bindings
            .iter()
            .map(|(binding, _)| {
                let name = renames
                    .iter()
                    .find(|(b, _)| b == binding)
                    .map_or(*binding, |(_, n)| *n);
                self.buffer(name).ok_or_else(|| {
                    Error::Simulation(format!(
                        "an inconsistent program: no buffer `{name}` for binding `{binding}` of \
                         `{kernel}`"
                    ))
                })
            })
            .collect()
    }

    /// Kernel launches per step when every buffer is bound whole.
    pub fn launches(&self) -> impl Iterator<Item = &Launch> {
        self.ops.iter().filter_map(|op| match op {
            Op::Launch(l) => Some(l),
            Op::Host { .. } => None,
        })
    }

    /// Bytes of every buffer.
    pub fn bytes(&self) -> u64 {
        self.buffers.iter().map(Buffer::bytes).sum()
    }

    /// Checks what executors rely on: unique buffer names, each launch binding as many buffers
    /// as its kernel declares, none twice, uniforms where the kernel has them, every index in
    /// range.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Error::Simulation(format!("an inconsistent program: {what}"));
        for (i, b) in self.buffers.iter().enumerate() {
            if self.buffers[..i].iter().any(|o| o.name == b.name) {
                return Err(bad(format!("two buffers are named `{}`", b.name)));
            }
        }
        let n = self.buffers.len();
        for l in self.launches() {
            let kernel = crate::kernels::kernel(l.kernel)?;
            if l.bind.len() != kernel.bindings.len() {
                return Err(bad(format!(
                    "`{}` binds {} buffers; the kernel declares {}",
                    l.kernel,
                    l.bind.len(),
                    kernel.bindings.len()
                )));
            }
            for (k, (&b, (name, access))) in l.bind.iter().zip(kernel.bindings).enumerate() {
                if b >= n || l.bind[..k].contains(&b) {
                    return Err(bad(format!("`{}` binding `{name}`", l.kernel)));
                }
                let uniform = *access == crate::kernels::Access::Uniform;
                if self.buffers[b].uniform != uniform {
                    return Err(bad(format!(
                        "`{}` binding `{name}` to `{}`",
                        l.kernel, self.buffers[b].name
                    )));
                }
            }
            if let Some(b) = l.groups.indirect_buffer() {
                if b >= n {
                    return Err(bad(format!(
                        "`{}` reads its workgroups out of range",
                        l.kernel
                    )));
                }
            }
        }
        let in_range = self.controls.iter().all(|c| c.buffer < n)
            && self.records.iter().all(|r| r.buffer < n)
            && self.feed.is_none_or(|f| f.buffer < n)
            && self.health.is_none_or(|h| h.buffer < n)
            && self.ops.iter().all(|op| match op {
                Op::Host { node, sig } => *node < self.host_nodes.len() && *sig < n,
                Op::Launch(_) => true,
            });
        if !in_range {
            return Err(bad("a buffer index out of range".into()));
        }
        Ok(())
    }

    /// One program that runs `self`'s step and then `other`'s, over the buffers of both: a
    /// network of spiking populations and one of NEF ensembles as one program. Buffer names
    /// must not collide (the two lowerings name theirs apart); records, controls and host
    /// nodes keep their order, `self`'s first.
    pub fn join(mut self, other: Program) -> Result<Program> {
        if self.dt != other.dt && !self.buffers.is_empty() && !other.buffers.is_empty() {
            return Err(Error::Simulation(format!(
                "the two networks step with different dt ({} s and {} s); one program runs one \
                 step. Give them the same dt",
                self.dt, other.dt
            )));
        }
        let base = self.buffers.len();
        let nodes = self.host_nodes.len();
        if self.feed.is_some() && other.feed.is_some() {
            return Err(Error::Simulation(
                "two feed tables in one program; join takes one NEF network".into(),
            ));
        }
        self.buffers.extend(other.buffers);
        self.ops.extend(other.ops.into_iter().map(|op| match op {
            Op::Launch(mut l) => {
                l.bind.iter_mut().for_each(|b| *b += base);
                if let Groups::Indirect(b) | Groups::IndirectByParity(b) = &mut l.groups {
                    *b += base;
                }
                Op::Launch(l)
            }
            Op::Host { node, sig } => Op::Host {
                node: node + nodes,
                sig: sig + base,
            },
        }));
        self.chunk_steps = match (self.chunk_steps, other.chunk_steps) {
            (0, c) | (c, 0) => c,
            (a, b) => a.min(b),
        };
        if self.dt == 0.0 {
            self.dt = other.dt;
        }
        self.controls
            .extend(other.controls.into_iter().map(|mut c| {
                c.buffer += base;
                c
            }));
        if let Some(mut h) = other.health {
            h.buffer += base;
            self.health = Some(h);
        }
        self.records.extend(other.records.into_iter().map(|mut r| {
            r.buffer += base;
            r
        }));
        if let Some(mut f) = other.feed {
            f.buffer += base;
            self.feed = Some(f);
        }
        self.host_nodes.extend(other.host_nodes);
        self.check()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::nef::{Connection, Ensemble, NefNetwork, Node};
    use crate::model::{Connectivity, LifCurrent, Network};

    fn spiking() -> Program {
        let mut net = Network::new().with_seed(1);
        let a = net.population("a", 10, LifCurrent::default()).unwrap();
        net.connect(a, a, Connectivity::FixedProbability(0.5), 10.0, 1.0)
            .unwrap();
        crate::lower::build(&net).unwrap().program()
    }

    fn nef() -> Program {
        let mut net = NefNetwork::new().with_seed(1);
        let stim = net.node("stim", Node::function(1, |t| vec![t])).unwrap();
        let a = net.ensemble("a", Ensemble::new(20, 1)).unwrap();
        net.connect(stim, a, Connection::new()).unwrap();
        crate::lower::nef::build_nef(&net).unwrap().program()
    }

    /// The names of the buffers launch `k` binds, in binding order.
    fn bound(p: &Program, k: usize) -> Vec<&str> {
        let l = p.launches().nth(k).unwrap();
        l.bind.iter().map(|&b| p.buffers[b].name.as_str()).collect()
    }

    #[test]
    fn both_lowerings_emit_programs_that_check() {
        let s = spiking();
        s.check().unwrap();
        let kernels: Vec<_> = s.launches().map(|l| l.kernel).collect();
        assert_eq!(kernels, ["neuron_update", "propagate"]);
        let propagate = s.launches().nth(1).unwrap();
        assert_eq!(
            propagate.groups,
            Groups::IndirectByParity(s.buffer("propagate_args").unwrap())
        );
        assert_eq!(
            bound(&s, 1),
            [
                "globals",
                "chunk",
                "control",
                "spikes",
                "row_ptr",
                "syn_words",
                "ring"
            ]
        );
        assert!(s.buffers[s.buffer("syn_words").unwrap()].split.is_some());
        assert_eq!(s.records.len(), 2);
        let n = nef();
        n.check().unwrap();
        assert!(n.buffers.iter().all(|b| b.name.starts_with("nef_")
            || b.name == "sig"
            || b.name == "w"
            || b.name.contains('[')));
        assert_eq!(n.launches().next().unwrap().kernel, "nef_feed");
        assert_eq!(
            bound(&n, 0),
            ["sig", "nef_control", "nef_feed_dst", "nef_feed"]
        );
    }

    #[test]
    fn a_launch_that_binds_wrongly_is_refused() {
        let base = spiking();
        for (what, change) in [
            (
                "too few",
                (|l: &mut Launch| {
                    l.bind.pop();
                }) as fn(&mut Launch),
            ),
            ("twice", |l: &mut Launch| l.bind[3] = l.bind[2]),
            ("a uniform", |l: &mut Launch| l.bind.swap(0, 1)),
            ("out of range", |l: &mut Launch| l.bind[1] = 999),
        ] {
            let mut p = base.clone();
            if let Op::Launch(l) = &mut p.ops[0] {
                change(l);
            }
            let err = p.check().expect_err(what).to_string();
            assert!(err.contains("inconsistent program"), "{what}: {err}");
        }
    }

    #[test]
    fn join_keeps_each_part_pointing_at_its_own_buffers() {
        let (s, n) = (spiking(), nef());
        let before = bound(&n, 0).join(",");
        let both = Program {
            dt: n.dt,
            ..s.clone()
        }
        .join(n.clone())
        .unwrap();
        assert_eq!(both.buffers.len(), s.buffers.len() + n.buffers.len());
        assert_eq!(
            both.launches().count(),
            s.launches().count() + n.launches().count()
        );
        assert_eq!(bound(&both, s.launches().count()).join(","), before);
        assert_eq!(both.records.len(), 3);
        assert_eq!(both.buffers[both.records[2].buffer].name, "nef_record");
        assert_eq!(both.buffers[both.feed.unwrap().buffer].name, "nef_feed");
        let err = s.join(n).err().unwrap().to_string();
        assert!(err.contains("different dt"), "{err}");
    }
}
