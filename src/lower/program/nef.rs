//! A `NefPlan` as a `Program`: `sig`, `w` and the shared tables as buffers, each dispatch's own
//! descriptor rows as buffers of their own, callback nodes as host calls.

use super::{
    Buffer, ChunkControl, Contents, Feed, Groups, Launch, Op, Program, Readback, Role, Twin,
};
use crate::lower::layout::{MAX_GROUPS_PER_DIM, WORKGROUP_SIZE};
use crate::lower::nef::layout::{NefControl, NefGlobals};
use crate::lower::nef::{NefDispatch, NefPlan};
use std::sync::Arc;

const FIT_ADVICE: &str = "Use smaller dense weight matrices (decoded connections are far \
                          smaller than weight solvers), probe less or sample less often, or run \
                          on the CPU backend";

/// The shared buffers, by the binding names the kernels give them.
const SHARED: &[(&str, &str)] = &[
    ("globals", "nef_globals"),
    ("control", "nef_control"),
    ("record", "nef_record"),
    ("feed", "nef_feed"),
    ("feed_dst", "nef_feed_dst"),
    ("ensembles", "nef_ensembles"),
    ("coefs", "nef_coefs"),
];

/// Workgroups for `rows` threads of 64, as (x, y) with x = MAX_GROUPS_PER_DIM when y > 1
/// (see `nef_row` in shaders/shared/nef_types.wgsl).
fn groups(rows: usize) -> [u32; 2] {
    let g = (rows as u64).div_ceil(WORKGROUP_SIZE as u64).max(1);
    let max = MAX_GROUPS_PER_DIM as u64;
    [g.min(max) as u32, g.div_ceil(max) as u32]
}

impl NefPlan {
    /// The plan as a program: buffers `sig`, `w` and `nef_*` (the record `nef_record`, the
    /// feed table `nef_feed`, and each dispatch's tables as `{kernel}[{k}].rows` and the like),
    /// so that it joins a spiking program without a clash.
    pub fn program(&self) -> Program {
        let mut p = Program {
            chunk_steps: self.chunk_steps,
            dt: self.dt,
            host_nodes: self.host_nodes.clone(),
            ..Program::default()
        };
        for b in self.shared_buffers() {
            p.add(b);
        }
        let sig = p.buffer("sig").expect("added above");
        for (k, d) in self.dispatches.iter().enumerate() {
            let op = match d {
                NefDispatch::Host { node } => Op::Host { node: *node, sig },
                d => Op::Launch(self.launch(&mut p, k, d)),
            };
            p.ops.push(op);
        }
        let control = NefControl {
            feed_width: self.feed_width() as u32,
            ..NefControl::default()
        };
        p.controls.push(ChunkControl {
            buffer: p.buffer("nef_control").expect("added above"),
            words: bytemuck::cast_slice(&[control]).to_vec(),
            step_at: vec![0, 1],
            health_at: None,
        });
        p.records.push(Readback {
            buffer: p.buffer("nef_record").expect("added above"),
            fixed_words: self.record_len,
            words_per_step: 0,
        });
        p.feed = Some(Feed {
            buffer: p.buffer("nef_feed").expect("added above"),
            width: self.feed_width(),
        });
        p
    }

    /// Dispatch `k`, `d`, as a launch, with its own descriptor tables added to `p`.
    fn launch(&self, p: &mut Program, k: usize, d: &NefDispatch) -> Launch {
        let kernel = d.kernel();
        let mut table = |what: &'static str, contents: Contents| {
            let name = format!("{kernel}[{k}].{what}");
            let what_text = format!("the {what} of {kernel}");
            p.add(Buffer {
                advice: FIT_ADVICE,
                ..Buffer::new(&name, what_text, contents, Role::Constant)
            });
            (what, name)
        };
        let (own, rows, twin, source) = match d {
            NefDispatch::Feed => (vec![], self.feed_width(), Twin::None, None),
            NefDispatch::Sum { rows, entries } => {
                let own = vec![
                    table("rows", Contents::of(rows)),
                    table("entries", Contents::of(entries)),
                ];
                (own, rows.len(), Twin::None, None)
            }
            NefDispatch::MatVec { rows } => (
                vec![table("rows", Contents::of(rows))],
                rows.len(),
                Twin::None,
                None,
            ),
            NefDispatch::Neurons { rows } => {
                // With user-defined models: the kernel generated with them, and their twins.
                let source = self
                    .neuron_source
                    .as_ref()
                    .map(|text| (Arc::clone(text), "NEF neurons with user models".to_string()));
                let twin = Twin::NeuronModels {
                    models: Arc::new(self.neuron_models.clone()),
                    dt_ms: self.dt * 1e3,
                };
                (
                    vec![table("rows", Contents::of(rows))],
                    rows.len(),
                    twin,
                    source,
                )
            }
            NefDispatch::Pes { rows } => (
                vec![table("rows", Contents::of(rows))],
                rows.len(),
                Twin::None,
                None,
            ),
            NefDispatch::Filter { rows } => (
                vec![table("rows", Contents::of(rows))],
                rows.len(),
                Twin::None,
                None,
            ),
            NefDispatch::Record => (
                vec![("rows", "nef_record_rows".to_string())],
                self.record_rows.len(),
                Twin::None,
                None,
            ),
            NefDispatch::Synapse { rule, rows } => {
                let built = &self.rules[*rule];
                let own = vec![
                    table("rows", Contents::of(rows)),
                    table("info", Contents::of(&built.info)),
                ];
                let label = format!("synapse model `{}`", built.model.name());
                let source = (Arc::from(built.source.as_str()), label);
                (
                    own,
                    rows.len(),
                    Twin::SynapseRule(Arc::new(built.clone())),
                    Some(source),
                )
            }
            NefDispatch::Advance => (vec![], 0, Twin::None, None),
            NefDispatch::Host { .. } => unreachable!("a host call is no launch"),
        };
        let renames: Vec<(&str, &str)> = SHARED
            .iter()
            .copied()
            .chain(own.iter().map(|(b, n)| (*b, n.as_str())))
            .collect();
        Launch {
            kernel,
            source,
            bind: p
                .bind_by_name(kernel, &renames)
                .expect("the NEF program has a buffer for every binding"),
            groups: Groups::Direct(match d {
                NefDispatch::Advance => [1, 1],
                _ => groups(rows),
            }),
            twin,
        }
    }

    /// `sig`, `w`, the record, the feed table and the tables every dispatch shares.
    fn shared_buffers(&self) -> Vec<Buffer> {
        use Role::*;
        let control = NefControl {
            feed_width: self.feed_width() as u32,
            ..NefControl::default()
        };
        // Copied once per executor: the executors' state starts from them, as the plan keeps
        // them for `reset` and lesions.
        let floats = |v: &Vec<f32>| Contents::Floats(Arc::new(v.clone()));
        let feed_words = self.chunk_steps as usize * self.feed_width();
        let table: Vec<(&str, &str, Contents, Role)> = vec![
            (
                "nef_globals",
                "the globals",
                Contents::of(&[NefGlobals::default()]),
                Constant,
            ),
            (
                "nef_control",
                "the step counters",
                Contents::of(&[control]),
                Scratch,
            ),
            ("sig", "the signals (`sig`)", floats(&self.sig), State),
            ("w", "the weight matrices (`w`)", floats(&self.w), State),
            (
                "nef_record",
                "the probe record of one chunk",
                Contents::Zeroed(self.record_len),
                Record,
            ),
            (
                "nef_feed",
                "the feed table of one chunk",
                Contents::Zeroed(feed_words),
                Scratch,
            ),
            (
                "nef_feed_dst",
                "the feed columns",
                Contents::of(&self.feed_dst),
                Constant,
            ),
            (
                "nef_ensembles",
                "the ensembles",
                Contents::of(&self.ensembles),
                Constant,
            ),
            (
                "nef_coefs",
                "the filters",
                Contents::of(&self.filter_coefs),
                Constant,
            ),
            (
                "nef_record_rows",
                "the probes",
                Contents::of(&self.record_rows),
                Constant,
            ),
        ];
        table
            .into_iter()
            .map(|(name, what, contents, role)| Buffer {
                advice: FIT_ADVICE,
                uniform: name == "nef_globals",
                ..Buffer::new(name, what, contents, role)
            })
            .collect()
    }
}
