//! One step of a program on the CPU: each launch's twin over the buffers it binds, each host
//! call in its place.

use super::bound::{Bound, CpuBuffer};
use crate::error::Result;
use crate::kernels::{self, NeuronState, NeuronTables, PlasticTables};
use crate::lower::layout::Globals;
use crate::lower::nef::layout::*;
use crate::lower::program::{Launch, Op, Program, Twin};

/// Runs step `step` of `program` (the step's control blocks already say which it is).
pub(super) fn step(program: &Program, buffers: &mut [CpuBuffer], step: u32) -> Result<()> {
    for op in &program.ops {
        match op {
            Op::Launch(launch) => run(launch, buffers),
            Op::Host { node, sig } => {
                let h = &program.host_nodes[*node];
                let t = (step as f64 + 1.0) * program.dt;
                let sig: &mut [f32] = bytemuck::cast_slice_mut(buffers[*sig].words_mut());
                let (i, o) = (h.input as usize, h.output as usize);
                let y = h.call(t, &sig[i..i + h.size_in])?;
                sig[o..o + h.size_out].copy_from_slice(&y);
            }
        }
    }
    Ok(())
}

/// The twin of `launch`'s kernel over its bindings.
fn run(launch: &Launch, buffers: &mut [CpuBuffer]) {
    let kernel = kernels::kernel(launch.kernel).expect("a checked program names known kernels");
    let mut b = Bound::new(kernel, &launch.bind, buffers);
    match launch.kernel {
        "neuron_update" => {
            let Twin::NeuronModels { models, dt_ms } = &launch.twin else {
                panic!("the neuron update comes with its models");
            };
            let v = b.write::<f32>("v");
            let tables = NeuronTables {
                globals: b.one::<Globals>("globals"),
                pops: b.read("pops"),
                v_drive: b.read("v_drive"),
                poisson: b.read("poisson"),
                poisson_cdf: b.read("poisson_cdf"),
                aux: b.read("aux"),
                models,
                dt_ms: *dt_ms,
                v_len: v.len(),
            };
            let state = NeuronState {
                v,
                i_syn: b.write("i_syn"),
                refractory: b.write("refractory"),
                ring: b.atomics_mut("ring"),
                control: b.one_mut("control"),
                spikes: b.write("spikes"),
                spike_record: b.write("spike_record"),
            };
            kernels::neuron_update(&tables, state);
        }
        "prepare_inbox" => kernels::prepare_inbox(
            b.one("control"),
            b.read("inbox"),
            b.one_mut("inbox_control"),
        ),
        "plastic_inbox" => {
            let (g, control) = (b.one("globals"), b.one("control"));
            let inbox = b.read("inbox");
            kernels::plastic_inbox(
                g,
                control,
                inbox,
                (b.write("spike_hist"), b.write("hist_count")),
            );
        }
        "propagate" => kernels::propagate(
            (b.one("globals"), b.one_mut("control")),
            (b.read("spikes"), b.read("row_ptr"), b.read("syn_words")),
            b.atomics_mut("ring"),
        ),
        "plastic_post" => {
            let t = plastic_tables(&mut b);
            kernels::plastic_post(
                &t,
                (b.one("control"), b.read("spikes")),
                (b.read("post_ptr"), b.read("by_post")),
                b.write("state"),
                b.write("spike_hist"),
            );
        }
        "plastic_prepare" => {
            let g = b.one("globals");
            let control = b.one("control");
            kernels::plastic_prepare(g, control, b.write("hist_count"), b.write("hist_start"));
        }
        "plastic_pre" => {
            let t = plastic_tables(&mut b);
            kernels::plastic_pre(
                &t,
                b.one("control"),
                (
                    b.read("spike_hist"),
                    b.read("hist_start"),
                    b.read("delay_ptr"),
                ),
                b.write("state"),
                b.atomics("ring"),
            );
        }
        "plastic_model_post" | "plastic_model_pre" => {
            let Twin::PlasticModels { models, dt } = &launch.twin else {
                panic!("a synapse model launch comes with its models");
            };
            let t = kernels::ModelTables {
                plastic: plastic_tables(&mut b),
                model_syn: b.read("model_syn"),
                model_params: b.read("model_params"),
                models,
                dt: *dt,
            };
            let vars = (b.write("state"), b.write("model_vars"));
            if launch.kernel == "plastic_model_post" {
                kernels::plastic_model_post(
                    &t,
                    (b.one("control"), b.read("spikes")),
                    (b.read("post_ptr"), b.read("by_post")),
                    vars.0,
                    vars.1,
                );
            } else {
                kernels::plastic_model_pre(
                    &t,
                    b.one("control"),
                    (
                        b.read("spike_hist"),
                        b.read("hist_start"),
                        b.read("delay_ptr"),
                    ),
                    vars,
                    b.atomics("ring"),
                );
            }
        }
        "record_state" => kernels::record_state(
            b.read("entries"),
            (b.read("v"), b.read("i_syn")),
            b.one("control"),
            b.write("state_record"),
        ),
        "nef_feed" => {
            let c = b.one::<NefControl>("control");
            let (sig, dst, feed) = (b.write("sig"), b.read("feed_dst"), b.read::<f32>("feed"));
            let row = (c.step - c.chunk_start) as usize * c.feed_width as usize;
            kernels::nef_feed(sig, dst, &feed[row..row + dst.len()]);
        }
        "nef_sum" => kernels::nef_sum(b.write("sig"), b.read("rows"), b.read("entries")),
        "nef_matvec" => kernels::nef_matvec(b.write("sig"), b.read("w"), b.read("rows")),
        "nef_neurons" => {
            let Twin::NeuronModels { models, dt_ms } = &launch.twin else {
                panic!("the NEF neurons come with their models");
            };
            let step = b.one::<NefControl>("control").step;
            let (ens, rows) = (b.read("ensembles"), b.read("rows"));
            kernels::nef_neurons(b.write("sig"), ens, rows, (models, *dt_ms, step));
        }
        "nef_record" => kernels::nef_record(
            b.read("sig"),
            b.read("w"),
            b.read("rows"),
            b.one("control"),
            b.write("record"),
        ),
        "nef_pes" => kernels::nef_pes(b.read("sig"), b.write("w"), b.read("rows")),
        "nef_synapse_model" => {
            let Twin::SynapseRule(rule) = &launch.twin else {
                panic!("a synapse model launch comes with its rule");
            };
            let step = b.one::<NefControl>("control").step;
            kernels::nef_synapse_model(b.read("sig"), b.write("w"), step, rule, b.read("rows"));
        }
        "nef_filter" => kernels::nef_filter(b.write("sig"), b.read("coefs"), b.read("rows")),
        "nef_advance" => kernels::nef_advance(b.one_mut("control")),
        other => panic!("kernel `{other}` has no CPU twin"),
    }
}

/// The plastic kernels' constant bindings (the model kernels bind no STDP rules).
fn plastic_tables<'a>(b: &mut Bound<'a>) -> PlasticTables<'a> {
    PlasticTables {
        globals: b.one("globals"),
        syns: b.read("syns"),
        rules: if b.has("rules") { b.read("rules") } else { &[] },
        decay: b.read("decay"),
    }
}
