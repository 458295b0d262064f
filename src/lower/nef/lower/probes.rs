//! Probes: where each reads (a decoded output gets a hidden decoding of its own, as in Nengo;
//! a synapse gets an end-of-step filter), and the rows that copy those values into the record
//! of a chunk, which sets the chunk's length.

use super::Lowering;
use crate::error::Result;
use crate::lower::nef::layout::RecordRow;
use crate::lower::nef::plan::{BuiltConnection, BuiltEnsemble, NefProbeLayout};
use crate::lower::nef::solvers::Solver;
use crate::model::nef::network::{NefNetwork, ObjKind, ProbeWhat};
use crate::model::nef::Synapse;

/// Steps per chunk unless the probes need more memory than `MAX_RECORD_FLOATS` for it.
pub const NEF_CHUNK_STEPS: u32 = 1000;
/// Largest record of one chunk: 256 MiB of samples.
const MAX_RECORD_FLOATS: usize = 1 << 26;

/// Where a probe reads: `width` values at `src`, in `w` if `from_weights`, else in `sig`.
pub(super) struct ProbeSource {
    src: u32,
    width: usize,
    from_weights: bool,
}

/// The record of a chunk: every probe's region, and the rows that fill them.
pub(super) struct RecordLayout {
    pub(super) rows: Vec<RecordRow>,
    /// Floats in all.
    pub(super) len: usize,
    pub(super) probes: Vec<NefProbeLayout>,
    pub(super) chunk_steps: u32,
}

/// Lays out the record of a chunk, with chunks as long as `MAX_RECORD_FLOATS` allows.
pub(super) fn record_layout(net: &NefNetwork, sources: Vec<ProbeSource>) -> RecordLayout {
    let every = sample_every(net);
    let chunk_steps = chunk_steps(&sources, &every);
    let mut layout = RecordLayout {
        rows: Vec::new(),
        len: 0,
        probes: Vec::new(),
        chunk_steps,
    };
    for (source, every) in sources.into_iter().zip(every) {
        layout.add(source, every);
    }
    layout
}

/// Steps between samples, per probe.
fn sample_every(net: &NefNetwork) -> Vec<u32> {
    net.probes
        .iter()
        .map(|p| {
            p.probe
                .sample_every
                .map_or(1, |t| (t / net.dt).round() as u32)
        })
        .collect()
}

/// Sizes chunks so the record of one chunk stays within MAX_RECORD_FLOATS.
fn chunk_steps(sources: &[ProbeSource], every: &[u32]) -> u32 {
    let per_step: f64 = sources
        .iter()
        .zip(every)
        .map(|(s, e)| s.width as f64 / *e as f64)
        .sum();
    if per_step > 0.0 {
        ((MAX_RECORD_FLOATS as f64 / per_step) as u32).clamp(1, NEF_CHUNK_STEPS)
    } else {
        NEF_CHUNK_STEPS
    }
}

impl RecordLayout {
    /// The next probe's region: room for every sample of a chunk, one row per value.
    fn add(&mut self, source: ProbeSource, every: u32) {
        let ProbeSource {
            src,
            width,
            from_weights,
        } = source;
        let layout = NefProbeLayout {
            rec_off: self.len,
            width,
            every,
        };
        self.len += self.chunk_steps.div_ceil(every) as usize * width;
        for k in 0..width {
            self.rows.push(RecordRow {
                src: src + k as u32,
                from_weights: from_weights as u32,
                every,
                rec_off: layout.rec_off as u32,
                width: width as u32,
                k: k as u32,
                _pad: [0; 2],
            });
        }
        self.probes.push(layout);
    }
}

impl Lowering<'_> {
    pub(super) fn probe_source(
        &mut self,
        what: &ProbeWhat,
        synapse: Synapse,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<ProbeSource> {
        let (src, width) = match what {
            ProbeWhat::Output(obj) => {
                let range = self.net.resolve(obj, false)?;
                match obj.kind {
                    ObjKind::Ensemble(e) => {
                        // As Nengo: a hidden decoded connection for the identity.
                        let pre = &built[e];
                        let d = self.decoders(
                            pre,
                            (e, true),
                            range.clone(),
                            &pre.eval_points,
                            None,
                            range.len(),
                            &Solver::default(),
                        )?;
                        let out = self.matvec(
                            &d.reversed_axes(),
                            self.ens[e].out,
                            format!("probe of `{}`", pre.name),
                        )?;
                        (out, range.len())
                    }
                    ObjKind::Neurons(e) => (self.ens[e].out + range.start as u32, range.len()),
                    ObjKind::Node(k) => (self.node_out[k] + range.start as u32, range.len()),
                    ObjKind::LearningRule(_) => unreachable!("refused by NefNetwork::probe"),
                }
            }
            ProbeWhat::Voltage(e) => (self.ens[*e].voltage, built[*e].gain.len()),
            ProbeWhat::Weights(c) => {
                let bc = &conns[*c];
                return Ok(ProbeSource {
                    src: bc.w_off as u32,
                    width: bc.rows * bc.cols,
                    from_weights: true,
                });
            }
        };
        Ok(ProbeSource {
            src: self.filtered(synapse, src, width)?,
            width,
            from_weights: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::nef::layout::RecordRow;
    use crate::lower::nef::{build_nef, NefDispatch, NefProbeLayout};
    use crate::model::nef::{Connection, Ensemble, NefNetwork, Node, Probe, Synapse};

    #[test]
    fn probes_get_record_regions_for_a_whole_chunk_and_one_row_per_value() {
        let mut net = NefNetwork::new().with_seed(4);
        let a = net.ensemble("a", Ensemble::new(4, 1)).unwrap();
        let k = net.node("k", Node::constant(&[0.5])).unwrap();
        let conn = net
            .connect(k, a, Connection::new().synapse(Synapse::None))
            .unwrap();
        net.probe(a.neurons(), Probe::new().sample_every(0.002))
            .unwrap();
        net.probe_voltage(a, Probe::new()).unwrap();
        net.probe_weights(conn, Probe::new()).unwrap();
        net.probe(a, Probe::new().synapse(Synapse::lowpass(0.01)))
            .unwrap();
        let plan = build_nef(&net).unwrap();
        // a: outputs sig[13..17], voltages sig[17..21]; k -> a's matrix w[4]; the probe of a
        // decodes (w[5..9]) into sig[31] and filters it into sig[32].
        assert_eq!(plan.chunk_steps, 1000);
        let layout = |rec_off, width, every| NefProbeLayout {
            rec_off,
            width,
            every,
        };
        assert_eq!(
            plan.probes,
            [
                layout(0, 4, 2),
                layout(2000, 4, 1),
                layout(6000, 1, 1),
                layout(7000, 1, 1)
            ]
        );
        assert_eq!(plan.record_len, 8000);
        let row = |src, from_weights, every, rec_off, width, k| RecordRow {
            src,
            from_weights,
            every,
            rec_off,
            width,
            k,
            _pad: [0; 2],
        };
        let mut expected: Vec<RecordRow> = (0..4).map(|k| row(13 + k, 0, 2, 0, 4, k)).collect();
        expected.extend((0..4).map(|k| row(17 + k, 0, 1, 2000, 4, k)));
        expected.push(row(4, 1, 1, 6000, 1, 0));
        expected.push(row(32, 0, 1, 7000, 1, 0));
        assert_eq!(plan.record_rows, expected);
        assert_eq!(plan.built_connections[conn.index()].w_off, 4);
        // The record reads the step's values before the filters advance.
        let n = plan.dispatches.len();
        assert_eq!(plan.dispatches[n - 3], NefDispatch::Record);
        let NefDispatch::Filter { rows } = &plan.dispatches[n - 2] else {
            panic!("the probe's filter runs at the end of the step")
        };
        assert_eq!((rows.len(), rows[0].src, rows[0].dst), (1, 31, 32));
    }
}
