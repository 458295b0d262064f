//! A spiking `Plan` as a `Program`: its arrays as buffers, its dispatch list as launches.

use super::{
    Buffer, ChunkControl, Contents, Groups, HealthReport, Launch, Op, Program, Readback, Role,
    Split, Twin,
};
use crate::lower::layout::{Control, SynapseChunk};
use crate::lower::{Dispatch, Plan};
use std::mem::offset_of;
use std::sync::Arc;

/// Spiking buffers are padded to this when empty: the largest record bound as an array.
const MIN_BINDING_BYTES: u32 = 64;

const FIT_ADVICE: &str = "Use fewer neurons or shorter delays, an adapter with larger limits, \
                          or the CPU backend";

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
        let n = self.neuron_count() as usize;
        let g = &self.globals;
        let mut add = |name: &str, what: &str, contents: Contents, role: Role| {
            p.add(Buffer {
                min_bytes: MIN_BINDING_BYTES,
                advice: FIT_ADVICE,
                ..Buffer::new(name, what, contents, role)
            })
        };
        let f32s = |v: &[f32]| Contents::Floats(Arc::new(v.to_vec()));
        use Role::*;
        let globals = add("globals", "the globals", Contents::of(&[*g]), Constant);
        let pops = add(
            "pops",
            "the populations",
            Contents::of(&self.pops),
            Constant,
        );
        let v = add(
            "v",
            "membrane potentials and the neuron models' parameters and state",
            f32s(&self.v_init),
            State,
        );
        let i_syn = add("i_syn", "synaptic currents", Contents::Zeroed(2 * n), State);
        let refractory = add(
            "refractory",
            "refractory counters",
            Contents::Zeroed(n),
            State,
        );
        let v_drive = add("v_drive", "constant drives", f32s(&self.v_drive), Constant);
        let ring = add(
            "ring",
            "the delay ring (slots x neurons x 2 channels x 4 B)",
            Contents::Zeroed(g.ring_slots as usize * n * 2),
            State,
        );
        let control = add(
            "control",
            "the control block",
            Contents::of(&[Control::default()]),
            Scratch,
        );
        let spikes = add("spikes", "the spike list", Contents::Zeroed(n), Scratch);
        let spike_record = add(
            "spike_record",
            "the spike record of one chunk",
            Contents::Zeroed(g.rec_words as usize * self.chunk_steps as usize),
            Record,
        );
        let poisson = add(
            "poisson",
            "the Poisson inputs",
            Contents::of(&self.poisson),
            Constant,
        );
        let poisson_cdf = add(
            "poisson_cdf",
            "the Poisson tables",
            Contents::of(&self.poisson_cdf),
            Constant,
        );
        let aux = add(
            "aux",
            "the spike-source schedules",
            Contents::of(&self.aux),
            Constant,
        );
        let entries = add(
            "state_entries",
            "the state probes",
            Contents::of(&self.state_entries),
            Constant,
        );
        let state_record = add(
            "state_record",
            "the state record of one chunk",
            Contents::Zeroed(self.state_floats as usize),
            Record,
        );
        let row_ptr = add(
            "row_ptr",
            "the synapse row pointers",
            Contents::of(&self.row_ptr),
            Constant,
        );
        let chunk = SynapseChunk {
            base: 0,
            len: self.n_synapses as u32,
            _pad: [0; 2],
        };
        let chunk = add(
            "chunk",
            "the synapse chunk",
            Contents::of(&[chunk]),
            Constant,
        );
        let args = add(
            "propagate_args",
            "the propagation's workgroups",
            Contents::Zeroed(4),
            Scratch,
        );
        let syn_words = p.add(Buffer {
            split: Some(Split {
                record_bits: self.syn_format.record_bits,
                records: self.n_synapses,
            }),
            min_bytes: MIN_BINDING_BYTES,
            ..Buffer::new(
                "syn_words",
                "the synapse records",
                Contents::Words(Arc::clone(&self.syn_words)),
                Role::Constant,
            )
        });
        for b in [globals, chunk] {
            p.buffers[b].uniform = true;
        }
        p.buffers[ring].atomic = true;

        let twin = Twin::NeuronModels {
            models: Arc::new(self.neuron_models.clone()),
            dt_ms: self.dt_ms,
        };
        let update_source = self
            .neuron_kernel
            .as_ref()
            .map(|s| (Arc::from(s.as_str()), "neuron_update".to_string()));
        for d in &self.dispatches {
            let (kernel, bind, groups) = match *d {
                Dispatch::RecordState { groups } => (
                    "record_state",
                    vec![globals, entries, v, i_syn, control, state_record],
                    Groups::Direct(groups),
                ),
                Dispatch::NeuronUpdate { groups } => (
                    "neuron_update",
                    vec![
                        globals,
                        pops,
                        v,
                        i_syn,
                        refractory,
                        v_drive,
                        ring,
                        control,
                        spikes,
                        spike_record,
                        poisson,
                        poisson_cdf,
                        aux,
                    ],
                    Groups::Direct(groups),
                ),
                Dispatch::PrepareSpikes => (
                    "prepare_spikes",
                    vec![control, args],
                    Groups::Direct([1, 1]),
                ),
                Dispatch::Propagate => (
                    "propagate",
                    vec![globals, chunk, control, spikes, row_ptr, syn_words, ring],
                    Groups::Indirect(args),
                ),
            };
            let update = kernel == "neuron_update";
            p.ops.push(Op::Launch(Launch {
                kernel,
                source: update.then(|| update_source.clone()).flatten(),
                bind,
                groups,
                twin: if update { twin.clone() } else { Twin::None },
            }));
        }
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
                buffer: spike_record,
                fixed_words: 0,
                words_per_step: g.rec_words as usize,
            },
            Readback {
                buffer: state_record,
                fixed_words: self.state_floats as usize,
                words_per_step: 0,
            },
        ];
        p
    }
}
