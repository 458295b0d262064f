//! Lowering a learning rule with a synapse model (`model::plasticity`): its traces become
//! filters of the pre and post spike trains, its parameters a region of `sig`, its state a
//! region of `w` after the connection's weights, and its rows one thread per row segment of
//! the weight matrix, as PES's.

use super::{LoweredRule, Lowering, SEGMENT};
use crate::error::{Error, Result};
use crate::lower::nef::layout::SynapseRow;
use crate::lower::nef::plan::{BuiltConnection, BuiltEnsemble, BuiltRule, ConnRows};
use crate::model::nef::network::ObjKind;
use crate::model::nef::Synapse;
use crate::model::plasticity::kernel::{self, *};
use crate::model::plasticity::{StateInit, SynapseModel};
use crate::rng::{stream, KeyHasher};
use rand::Rng;

/// A trace's input: `n` spike trains at `src` in `sig`, of neurons of ensemble `ens`.
struct TraceInput {
    src: u32,
    n: usize,
    ens: usize,
}

impl Lowering<'_> {
    pub(super) fn model_rule(
        &mut self,
        index: usize,
        conn: usize,
        model: &SynapseModel,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<LoweredRule> {
        let bc = &conns[conn];
        let (rows, cols) = (bc.rows, bc.cols);
        let acts = self.rule_pre_activities(conn)?;
        let err_rows = self.rule_row_errors(index, conn, built, conns)?;
        let pre_ens = match self.net.connections[conn].pre.kind {
            ObjKind::Ensemble(e) | ObjKind::Neurons(e) => e,
            _ => unreachable!("refused by NefNetwork::add_rule"),
        };
        let post = match bc.post {
            ConnRows::Neurons { ens, first, .. } => Some((ens, self.ens[ens].out + first as u32)),
            _ => None,
        };
        let mut info = vec![0u32; INFO_TRACES];
        info[INFO_PRE_OUT] = acts;
        info[INFO_POST_OUT] = post.map_or(NO_POST, |(_, out)| out);
        info[INFO_ERR] = err_rows;
        info[INFO_DT] = (self.net.dt as f32).to_bits();

        let pre = TraceInput {
            src: acts,
            n: cols,
            ens: pre_ens,
        };
        let post = post.map(|(ens, out)| TraceInput {
            src: out,
            n: rows,
            ens,
        });
        info.extend(self.traces(conn, model, built, pre, post)?);

        let params_off = self.alloc_values(model.params.iter().map(|(_, v)| *v)) as usize;
        info[INFO_PARAMS] = params_off as u32;
        let stride = rows * cols;
        let state_off = self.rule_state(index, model, stride);
        info[INFO_STATE] = state_off as u32;
        info[INFO_STRIDE] = stride as u32;

        // `NefNetwork::learn` validated this source when the rule was added.
        let source = kernel::generate(model).text;
        let rule = BuiltRule {
            index,
            conn,
            model: model.clone(),
            source,
            info,
            state_off,
            stride,
            params_off,
        };
        Ok((rule, synapse_rows(bc)))
    }

    /// The traces' filters, pre traces then post traces; returns the `info` words of each:
    /// where it is and the scale of its values.
    ///
    /// A trace is a lowpass of the spike train, computed in the step (so a spike counts from
    /// its own step on), scaled so that a spike's first response, (c b + d) amplitude / dt,
    /// reads as 1.
    fn traces(
        &mut self,
        conn: usize,
        model: &SynapseModel,
        built: &[BuiltEnsemble],
        pre: TraceInput,
        post: Option<TraceInput>,
    ) -> Result<Vec<u32>> {
        let dt = self.net.dt;
        let traces = model
            .pre_traces
            .iter()
            .map(|t| (t, &pre))
            .chain(
                model
                    .post_traces
                    .iter()
                    .map(|t| (t, post.as_ref().expect("checked by NefNetwork::learn"))),
            )
            .collect::<Vec<_>>();
        let mut info = Vec::with_capacity(2 * traces.len());
        for ((name, tau), input) in traces {
            let synapse = Synapse::lowpass(*tau);
            let f = synapse.discretize(dt)?.ok_or_else(|| {
                Error::Build(format!("trace `{name}`: tau = {tau} s gives no filter"))
            })?;
            let spike = built[input.ens].neuron.amplitude() / dt;
            let first_response = (f.c[0] * f.b[0] + f.d) * spike;
            let at = self.filtered_now(
                synapse,
                input.src,
                input.n,
                format!("trace `{name}` of the rule of connection {conn}"),
            )?;
            info.push(at);
            info.push(((1.0 / first_response) as f32).to_bits());
        }
        Ok(info)
    }

    /// Appends the rule's state variables to `w`, `stride` values each; returns the first's
    /// offset. Uniform initial values are drawn per synapse from the rule's index and the
    /// variable's name, so they do not depend on the rest of the network.
    fn rule_state(&mut self, index: usize, model: &SynapseModel, stride: usize) -> usize {
        let state_off = self.w.len();
        for (name, init) in &model.state {
            match *init {
                StateInit::Constant(v) => self.w.extend(std::iter::repeat_n(v as f32, stride)),
                StateInit::Uniform { low, high } => {
                    let key = KeyHasher::default()
                        .str("synapse state")
                        .u64(index as u64)
                        .str(name)
                        .finish();
                    let seed = self.net.seed();
                    self.w.extend((0..stride).map(|s| {
                        let u: f64 = stream(seed, key, s as u64).random();
                        (low + (high - low) * u) as f32
                    }));
                }
            }
        }
        state_off
    }
}

/// One row per segment of `SEGMENT` columns of each weight row, as PES's.
fn synapse_rows(bc: &BuiltConnection) -> Vec<SynapseRow> {
    let (rows, cols) = (bc.rows, bc.cols);
    let mut out = Vec::new();
    for r in 0..rows {
        for first in (0..cols).step_by(SEGMENT) {
            out.push(SynapseRow {
                w_off: (bc.w_off + r * cols + first) as u32,
                cols: SEGMENT.min(cols - first) as u32,
                pre: first as u32,
                post: r as u32,
                syn: (r * cols + first) as u32,
                _pad: [0; 3],
            });
        }
    }
    out
}
