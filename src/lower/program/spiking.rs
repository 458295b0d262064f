//! A spiking `Plan` as a `Program`: its arrays as buffers named as the kernels' bindings, its
//! dispatch list as launches.

use super::{
    Buffer, ChunkControl, Contents, Groups, HealthReport, Launch, Op, Program, Readback, Role,
    Split, Twin,
};
use crate::lower::layout::{Control, SynapseChunk};
use crate::lower::plastic::PlasticGlobals;
use crate::lower::{Dispatch, Plan};
use std::mem::offset_of;
use std::sync::Arc;

/// Spiking buffers are padded to this when empty: the largest record bound as an array.
const MIN_BINDING_BYTES: u32 = 64;

const FIT_ADVICE: &str = "Use fewer neurons or shorter delays, an adapter with larger limits, \
                          or the CPU backend";

/// Bindings whose buffers have other names: `record_state`'s `entries` are the state probes'
/// entries; the plastic kernels' `globals`, `state` and the rest are the plastic ones.
const RENAMES: &[(&str, &str)] = &[("entries", "state_entries")];
/// The propagation of the spikes other processes sent reads them from the inbox, with a
/// control block of its own.
const INBOX_RENAMES: &[(&str, &str)] = &[("control", "inbox_control"), ("spikes", "inbox")];
const PLASTIC_RENAMES: &[(&str, &str)] = &[
    ("globals", "plastic_globals"),
    ("syns", "plastic_syns"),
    ("rules", "plastic_rules"),
    ("decay", "plastic_decay"),
    ("post_ptr", "plastic_post_ptr"),
    ("by_post", "plastic_by_post"),
    ("state", "plastic_state"),
    ("delay_ptr", "plastic_delay_ptr"),
    ("model_syn", "plastic_model_syn"),
    ("model_vars", "plastic_model_vars"),
    ("model_params", "plastic_model_params"),
];

/// Spike words of the inbox beyond one step's worth of every neuron (16 MiB).
const INBOX_SPIKE_WORDS: usize = 1 << 22;

/// Word `offset` of the control block.
const fn word(offset: usize) -> usize {
    offset / 4
}

impl Plan {
    /// The plan as a program: buffers named as the kernels' bindings (the state entries as
    /// `state_entries`), records `[spike_record, state_record]`.
    pub fn program(&self) -> Program {
        let mut p = Program {
            chunk_steps: self.chunk_steps,
            dt: self.dt_ms * 1e-3,
            ..Program::default()
        };
        for b in (self.buffers().into_iter())
            .chain(self.plastic_buffers())
            .chain(self.inbox_buffers())
        {
            p.add(b);
        }
        if self.partition.is_some() {
            // First in each step: the spikes other processes sent that arrive now go into the
            // ring before the neuron update reads it, and into the spike history of the step
            // they were fired for the plastic synapses they reach later.
            let mut launches = vec![
                ("prepare_inbox", RENAMES, Groups::Direct([1, 1])),
                (
                    "propagate",
                    INBOX_RENAMES,
                    Groups::Indirect(at(&p, "inbox_args")),
                ),
            ];
            if self.plastic.is_some() {
                launches.push(("plastic_inbox", PLASTIC_RENAMES, Groups::Direct([1, 1])));
            }
            for (kernel, renames, groups) in launches {
                p.ops.push(Op::Launch(Launch {
                    kernel,
                    source: None,
                    bind: p
                        .bind_by_name(kernel, renames)
                        .expect("the spiking program has a buffer for every binding"),
                    groups,
                    twin: Twin::None,
                }));
            }
        }
        let twin = Twin::NeuronModels {
            models: Arc::new(self.neuron_models.clone()),
            dt_ms: self.dt_ms,
        };
        // The synapse models' twin, shared by both of their launches.
        let model_twin = Twin::PlasticModels {
            models: Arc::new(
                self.plastic
                    .as_ref()
                    .map_or(Vec::new(), |pp| pp.models.clone()),
            ),
            dt: (self.dt_ms * 1e-3) as f32,
        };
        for d in &self.dispatches {
            let (kernel, groups) = match *d {
                Dispatch::RecordState { groups } => ("record_state", Groups::Direct(groups)),
                Dispatch::NeuronUpdate { groups } => ("neuron_update", Groups::Direct(groups)),
                Dispatch::Propagate => ("propagate", by_parity(&p)),
                Dispatch::PlasticPost => ("plastic_post", by_parity(&p)),
                Dispatch::PlasticPrepare => ("plastic_prepare", Groups::Direct([1, 1])),
                Dispatch::PlasticPre => ("plastic_pre", Groups::Indirect(at(&p, "plastic_args"))),
                Dispatch::PlasticModelPost => ("plastic_model_post", by_parity(&p)),
                Dispatch::PlasticModelPre => (
                    "plastic_model_pre",
                    Groups::Indirect(at(&p, "plastic_args")),
                ),
            };
            let update = kernel == "neuron_update";
            let models = self
                .plastic
                .as_ref()
                .filter(|_| kernel.starts_with("plastic_model"));
            let source = match models {
                Some(pp) => pp
                    .model_kernels
                    .iter()
                    .find(|(k, _)| *k == kernel)
                    .map(|(_, s)| s),
                None => self.neuron_kernel.as_ref().filter(|_| update),
            };
            let twin = match models {
                Some(_) => model_twin.clone(),
                None if update => twin.clone(),
                None => Twin::None,
            };
            let renames = match kernel.starts_with("plastic_") {
                true => PLASTIC_RENAMES,
                false => RENAMES,
            };
            p.ops.push(Op::Launch(Launch {
                kernel,
                source: source.map(|s| (Arc::from(s.as_str()), kernel.to_string())),
                bind: p
                    .bind_by_name(kernel, renames)
                    .expect("the spiking program has a buffer for every binding"),
                groups,
                twin,
            }));
        }
        let control = at(&p, "control");
        p.controls.push(ChunkControl {
            buffer: control,
            words: bytemuck::cast_slice(&[Control::chunk(0, false)]).to_vec(),
            step_at: vec![
                word(offset_of!(Control, step)),
                word(offset_of!(Control, chunk_start)),
            ],
            health_at: Some(word(offset_of!(Control, health))),
        });
        p.health = Some(HealthReport {
            buffer: control,
            step_at: word(offset_of!(Control, bad_step)),
            neuron_at: word(offset_of!(Control, bad_neuron)),
            what_at: word(offset_of!(Control, bad_what)),
        });
        p.records = vec![
            Readback {
                buffer: at(&p, "spike_record"),
                fixed_words: 0,
                words_per_step: self.globals.rec_words as usize,
            },
            Readback {
                buffer: at(&p, "state_record"),
                fixed_words: self.state_floats as usize,
                words_per_step: 0,
            },
        ];
        p
    }

    /// Every buffer of the plan.
    fn buffers(&self) -> Vec<Buffer> {
        use Role::*;
        let n = self.neuron_count() as usize;
        let g = &self.globals;
        let floats = |v: &[f32]| Contents::Floats(Arc::new(v.to_vec()));
        let chunk = SynapseChunk {
            base: 0,
            len: self.n_synapses as u32,
            _pad: [0; 2],
        };
        let table: Vec<(&str, &str, Contents, Role)> = vec![
            ("globals", "the globals", Contents::of(&[*g]), Constant),
            (
                "pops",
                "the populations",
                Contents::of(&self.pops),
                Constant,
            ),
            (
                "v",
                "membrane potentials and the neuron models' parameters and state",
                floats(&self.v_init),
                State,
            ),
            ("i_syn", "synaptic currents", Contents::Zeroed(2 * n), State),
            (
                "refractory",
                "refractory counters",
                Contents::Zeroed(n),
                State,
            ),
            (
                "v_drive",
                "constant drives",
                floats(&self.v_drive),
                Constant,
            ),
            (
                "ring",
                "the delay ring (slots x neurons x 2 channels x 4 B)",
                Contents::Zeroed(g.ring_slots as usize * n * 2),
                State,
            ),
            (
                "control",
                "the control block",
                Contents::of(&[Control::default()]),
                Scratch,
            ),
            ("spikes", "the spike list", Contents::Zeroed(n), Scratch),
            (
                "spike_record",
                "the spike record of one chunk",
                Contents::Zeroed(g.rec_words as usize * self.chunk_steps as usize),
                Record,
            ),
            (
                "poisson",
                "the Poisson inputs",
                Contents::of(&self.poisson),
                Constant,
            ),
            (
                "poisson_cdf",
                "the Poisson tables",
                Contents::of(&self.poisson_cdf),
                Constant,
            ),
            (
                "aux",
                "the spike-source schedules",
                Contents::of(&self.aux),
                Constant,
            ),
            (
                "state_entries",
                "the state probes",
                Contents::of(&self.state_entries),
                Constant,
            ),
            (
                "state_record",
                "the state record of one chunk",
                Contents::Zeroed(self.state_floats as usize),
                Record,
            ),
            (
                "row_ptr",
                "the synapse row pointers",
                Contents::of(&self.row_ptr),
                Constant,
            ),
            (
                "chunk",
                "the synapse chunk",
                Contents::of(&[chunk]),
                Constant,
            ),
            (
                "propagate_args",
                "the propagation's workgroups",
                // x, y, z and a pad for even steps, then for odd ones: x is raised from 1 by
                // the neuron update.
                Contents::of(&[1u32, 1, 1, 0, 1, 1, 1, 0]),
                Scratch,
            ),
            (
                "syn_words",
                "the synapse records",
                Contents::Words(Arc::clone(&self.syn_words)),
                Constant,
            ),
        ];
        table
            .into_iter()
            .map(|(name, what, contents, role)| Buffer {
                min_bytes: MIN_BINDING_BYTES,
                advice: FIT_ADVICE,
                uniform: matches!(name, "globals" | "chunk"),
                atomic: name == "ring",
                split: (name == "syn_words").then_some(Split {
                    record_bits: self.syn_format.record_bits,
                    records: self.n_synapses,
                }),
                ..Buffer::new(name, what, contents, role)
            })
            .collect()
    }
}

impl Plan {
    /// Words of the inbox that hold spikes: a step's worth of every other process's neuron at
    /// least, so that a chunk of one step can always take what arrives (the host shortens a
    /// chunk whose arrivals do not fit), and up to 16 MiB for a whole exchange interval.
    pub fn inbox_capacity(&self) -> usize {
        let Some(part) = &self.partition else {
            return 0;
        };
        let others = (self.neuron_count() - part.owned().len() as u32) as usize;
        let interval = part.interval as usize;
        others
            .max((interval * others).min(INBOX_SPIKE_WORDS))
            .max(1)
    }

    /// The inbox of the spikes other processes sent, and its propagation's control block and
    /// workgroups; only when the network runs on several processes.
    fn inbox_buffers(&self) -> Vec<Buffer> {
        let Some(part) = &self.partition else {
            return Vec::new();
        };
        let header = 3 + part.interval as usize;
        let table = [
            (
                "inbox",
                "the spikes other processes sent",
                Contents::Zeroed(header + self.inbox_capacity()),
            ),
            (
                "inbox_control",
                "the inbox's control block",
                Contents::of(&[Control::default()]),
            ),
            (
                "inbox_args",
                "the inbox propagation's workgroups",
                Contents::Zeroed(4),
            ),
        ];
        table
            .into_iter()
            .map(|(name, what, contents)| Buffer {
                min_bytes: MIN_BINDING_BYTES,
                advice: FIT_ADVICE,
                ..Buffer::new(name, what, contents, Role::Scratch)
            })
            .collect()
    }

    /// The buffers of the plastic projections, if there are any.
    fn plastic_buffers(&self) -> Vec<Buffer> {
        use Role::*;
        let Some(pp) = &self.plastic else {
            return Vec::new();
        };
        let n = self.neuron_count() as usize;
        let globals = PlasticGlobals {
            n_neurons: n as u32,
            hist_slots: pp.max_delay,
            ring_slots: self.globals.ring_slots,
            zero: 0,
            interval: self.partition.as_ref().map_or(0, |p| p.interval),
            _pad: [0; 3],
        };
        let table: Vec<(&str, &str, Contents, Role)> = vec![
            (
                "plastic_globals",
                "the plastic globals",
                Contents::of(&[globals]),
                Constant,
            ),
            (
                "plastic_syns",
                "the plastic synapses",
                Contents::of(&pp.syns),
                Constant,
            ),
            (
                "plastic_rules",
                "the STDP rules",
                Contents::of(&pp.rules),
                Constant,
            ),
            (
                "plastic_decay",
                "the STDP trace decay tables",
                Contents::of(&pp.decay),
                Constant,
            ),
            (
                "plastic_post_ptr",
                "the plastic synapses by post neuron",
                Contents::of(&pp.post_ptr),
                Constant,
            ),
            (
                "plastic_by_post",
                "the plastic synapses by post neuron",
                Contents::of(&pp.by_post),
                Constant,
            ),
            (
                "plastic_delay_ptr",
                "the plastic synapses by pre neuron and delay",
                Contents::of(&pp.delay_ptr),
                Constant,
            ),
            (
                "plastic_state",
                "the plastic weights and traces",
                Contents::of(&pp.initial),
                State,
            ),
            (
                "spike_hist",
                "the spike history (longest plastic delay x neurons)",
                Contents::Zeroed(pp.max_delay as usize * n),
                State,
            ),
            (
                "hist_count",
                "the spike history's counts",
                Contents::Zeroed(pp.max_delay as usize),
                State,
            ),
            (
                "hist_start",
                "where each delay's spikes start among the kept spikes",
                Contents::Zeroed(pp.max_delay as usize + 1),
                Scratch,
            ),
            (
                "plastic_args",
                "the plastic arrivals' workgroups",
                Contents::Zeroed(4),
                Scratch,
            ),
        ];
        let mut table = table;
        if !pp.models.is_empty() {
            table.extend([
                (
                    "plastic_model_syn",
                    "where the synapse models' values are",
                    Contents::of(&pp.model_syn),
                    Constant,
                ),
                (
                    "plastic_model_vars",
                    "the synapse models' state variables and traces",
                    Contents::of(&pp.model_vars),
                    State,
                ),
                (
                    "plastic_model_params",
                    "the synapse models' parameters",
                    Contents::of(&pp.model_params),
                    Constant,
                ),
            ]);
        }
        table
            .into_iter()
            .map(|(name, what, contents, role)| Buffer {
                min_bytes: MIN_BINDING_BYTES,
                advice: FIT_ADVICE,
                uniform: name == "plastic_globals",
                ..Buffer::new(name, what, contents, role)
            })
            .collect()
    }
}

/// The workgroups of the launches over the step's spikes, as the neuron update counted them.
fn by_parity(p: &Program) -> Groups {
    Groups::IndirectByParity(at(p, "propagate_args"))
}

/// The index of buffer `name`, which the spiking program has.
fn at(p: &Program, name: &str) -> usize {
    p.buffer(name).expect("the spiking program has this buffer")
}
