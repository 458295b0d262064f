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

/// Workgroups for `rows` threads of 64, as (x, y) with x = MAX_GROUPS_PER_DIM when y > 1
/// (see `nef_row` in shaders/shared/nef_types.wgsl).
fn groups(rows: usize) -> [u32; 2] {
    let g = (rows as u64).div_ceil(WORKGROUP_SIZE as u64).max(1);
    let max = MAX_GROUPS_PER_DIM as u64;
    [g.min(max) as u32, g.div_ceil(max) as u32]
}

impl NefPlan {
    /// The plan as a program: buffers `sig`, `w`, `nef_record` (its one record), `feed` and
    /// the tables, every name starting `nef_` but the first three, so that it joins a spiking
    /// program without a clash.
    pub fn program(&self) -> Program {
        let mut p = Program {
            chunk_steps: self.chunk_steps,
            dt: self.dt,
            host_nodes: self.host_nodes.clone(),
            ..Program::default()
        };
        let add = |p: &mut Program, name: &str, what: &str, contents: Contents, role: Role| {
            p.add(Buffer {
                advice: FIT_ADVICE,
                ..Buffer::new(name, what, contents, role)
            })
        };
        use Role::*;
        let globals = add(
            &mut p,
            "nef_globals",
            "the globals",
            Contents::of(&[NefGlobals::default()]),
            Constant,
        );
        p.buffers[globals].uniform = true;
        let control = NefControl {
            feed_width: self.feed_width() as u32,
            ..NefControl::default()
        };
        let control = add(
            &mut p,
            "nef_control",
            "the step counters",
            Contents::of(&[control]),
            Scratch,
        );
        // Copied once per executor: the executors' state starts from them, as the plan keeps
        // them for `reset` and lesions.
        let floats = |v: &Vec<f32>| Contents::Floats(Arc::new(v.clone()));
        let sig = add(
            &mut p,
            "sig",
            "the signals (`sig`)",
            floats(&self.sig),
            State,
        );
        let w = add(
            &mut p,
            "w",
            "the weight matrices (`w`)",
            floats(&self.w),
            State,
        );
        let record = add(
            &mut p,
            "nef_record",
            "the probe record of one chunk",
            Contents::Zeroed(self.record_len),
            Record,
        );
        let feed = add(
            &mut p,
            "nef_feed",
            "the feed table of one chunk",
            Contents::Zeroed(self.chunk_steps as usize * self.feed_width()),
            Scratch,
        );
        let feed_dst = add(
            &mut p,
            "nef_feed_dst",
            "the feed columns",
            Contents::of(&self.feed_dst),
            Constant,
        );
        let ensembles = add(
            &mut p,
            "nef_ensembles",
            "the ensembles",
            Contents::of(&self.ensembles),
            Constant,
        );
        let coefs = add(
            &mut p,
            "nef_coefs",
            "the filters",
            Contents::of(&self.filter_coefs),
            Constant,
        );
        let record_rows = add(
            &mut p,
            "nef_record_rows",
            "the probes",
            Contents::of(&self.record_rows),
            Constant,
        );
        for (k, d) in self.dispatches.iter().enumerate() {
            let kernel = d.kernel();
            // The dispatch's own descriptor tables, named after it.
            let table = |p: &mut Program, what: &str, contents: Contents| {
                let name = format!("{kernel}[{k}].{what}");
                add(
                    p,
                    &name,
                    &format!("the {what} of {kernel}"),
                    contents,
                    Constant,
                )
            };
            let (bind, rows, twin, source) = match d {
                NefDispatch::Host { node } => {
                    p.ops.push(Op::Host { node: *node, sig });
                    continue;
                }
                NefDispatch::Feed => (
                    vec![sig, control, feed_dst, feed],
                    self.feed_width(),
                    Twin::None,
                    None,
                ),
                NefDispatch::Sum { rows, entries } => {
                    let r = table(&mut p, "rows", Contents::of(rows));
                    let e = table(&mut p, "entries", Contents::of(entries));
                    (vec![globals, sig, r, e], rows.len(), Twin::None, None)
                }
                NefDispatch::MatVec { rows } => {
                    let r = table(&mut p, "rows", Contents::of(rows));
                    (vec![globals, sig, w, r], rows.len(), Twin::None, None)
                }
                NefDispatch::Neurons { rows } => {
                    let r = table(&mut p, "rows", Contents::of(rows));
                    (
                        vec![globals, sig, ensembles, r],
                        rows.len(),
                        Twin::None,
                        None,
                    )
                }
                NefDispatch::Record => (
                    vec![sig, w, control, record_rows, record],
                    self.record_rows.len(),
                    Twin::None,
                    None,
                ),
                NefDispatch::Pes { rows } => {
                    let r = table(&mut p, "rows", Contents::of(rows));
                    (vec![globals, sig, w, r], rows.len(), Twin::None, None)
                }
                NefDispatch::Synapse { rule, rows } => {
                    let built = &self.rules[*rule];
                    let r = table(&mut p, "rows", Contents::of(rows));
                    let i = table(&mut p, "info", Contents::of(&built.info));
                    let label = format!("synapse model `{}`", built.model.name());
                    (
                        vec![globals, control, sig, w, r, i],
                        rows.len(),
                        Twin::SynapseRule(Arc::new(built.clone())),
                        Some((Arc::from(built.source.as_str()), label)),
                    )
                }
                NefDispatch::Filter { rows } => {
                    let r = table(&mut p, "rows", Contents::of(rows));
                    (vec![globals, sig, coefs, r], rows.len(), Twin::None, None)
                }
                NefDispatch::Advance => (vec![control], 0, Twin::None, None),
            };
            let groups = match d {
                NefDispatch::Advance => [1, 1],
                _ => groups(rows),
            };
            p.ops.push(Op::Launch(Launch {
                kernel,
                source,
                bind,
                groups: Groups::Direct(groups),
                twin,
            }));
        }
        p.controls.push(ChunkControl {
            buffer: control,
            words: bytemuck::cast_slice(&[NefControl {
                feed_width: self.feed_width() as u32,
                ..NefControl::default()
            }])
            .to_vec(),
            step_at: vec![0, 1],
            health_at: None,
        });
        p.records.push(Readback {
            buffer: record,
            fixed_words: self.record_len,
            words_per_step: 0,
        });
        p.feed = Some(Feed {
            buffer: feed,
            width: self.feed_width(),
        });
        p
    }
}
