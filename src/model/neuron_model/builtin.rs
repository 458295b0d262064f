//! Built-in neuron models, written with the same mechanism a user has (WGSL snippets) plus a
//! Rust twin each, so they also run on the CPU backend, in plain populations and in NEF
//! ensembles alike. Every product and sum of the snippets goes through `rn`, and division
//! through `soft_div`, so GPU and CPU agree bit for bit.
//!
//! Besides Izhikevich's model, Nengo's spiking types as Nengo steps them (`nengo_lif`,
//! `nengo_spiking_rectified_linear`, `nengo_izhikevich`), so that a plain population can use
//! them. Their input is Nengo's current `J = i_ext + (in_ex + in_in) / dt` with `dt` in
//! seconds: a spike of weight `w` adds `w / dt` to `J` for one step, as a Nengo spike (of
//! amplitude 1) does through a connection without a synapse.

use super::NeuronModel;
use crate::error::{invalid, Result};
use crate::model::nef::{Lif, SpikingRectifiedLinear};
use crate::model::Dist;
use crate::softmath::{div, expm1, ln1p};

/// Izhikevich's simple model (Izhikevich 2003, "Simple model of spiking neurons"):
///
/// ```text
/// dv/dt = 0.04 v^2 + 5 v + 140 - u + I        du/dt = a (b v - u)
/// if v >= 30 mV: v = c, u = u + d
/// ```
/// with `v` in mV and `t` in ms, integrated as the paper's code does: `v` in two half steps,
/// then `u` from the new `v`. `I = i_ext + (in_ex + in_in) / dt`: a step's synaptic input
/// (Poisson included) moves `v` by the summed weights over the step, whatever dt, which at
/// the paper's dt = 1 ms is its `I = sum(S(:, fired))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IzhikevichParams {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    /// Initial `v` (mV); `u` starts at `b v`.
    pub v_init: f64,
}

impl IzhikevichParams {
    /// Regular spiking (excitatory cortical neurons).
    pub const REGULAR_SPIKING: IzhikevichParams = IzhikevichParams {
        a: 0.02,
        b: 0.2,
        c: -65.0,
        d: 8.0,
        v_init: -65.0,
    };
    /// Fast spiking (inhibitory interneurons).
    pub const FAST_SPIKING: IzhikevichParams = IzhikevichParams {
        a: 0.1,
        b: 0.2,
        c: -65.0,
        d: 2.0,
        v_init: -65.0,
    };
    /// Chattering (bursting excitatory neurons).
    pub const CHATTERING: IzhikevichParams = IzhikevichParams {
        a: 0.02,
        b: 0.2,
        c: -50.0,
        d: 2.0,
        v_init: -65.0,
    };
}

impl Default for IzhikevichParams {
    fn default() -> Self {
        IzhikevichParams::REGULAR_SPIKING
    }
}

/// The Izhikevich model with parameters `p`.
pub fn izhikevich(p: IzhikevichParams) -> NeuronModel {
    NeuronModel::new("izhikevich")
        .state("v", Dist::Const(p.v_init))
        .state("u", Dist::Const(p.b * p.v_init))
        .param("a", p.a)
        .param("b", p.b)
        .param("c", p.c)
        .param("d", p.d)
        .update(
            "let input = rn(soft_div(rn(in_ex + in_in), dt) + i_ext);\n\
             let half = rn(0.5 * dt);\n\
             for (var k = 0; k < 2; k++) {\n\
             \x20   let dv = rn(rn(rn(rn(rn(rn(0.04 * v) * v) + rn(5.0 * v)) + 140.0) - u) + input);\n\
             \x20   v = rn(v + rn(half * dv));\n\
             }\n\
             u = rn(u + rn(rn(dt * a) * rn(rn(b * v) - u)));",
        )
        .threshold("v >= 30.0")
        .reset("v = c;\nu = rn(u + d);")
        .cpu_twin(|x, s| {
            let [a, b, c, d] = [x.params[0], x.params[1], x.params[2], x.params[3]];
            let input = div(x.in_ex + x.in_in, x.dt) + x.i_ext;
            let half = 0.5 * x.dt;
            let (mut v, mut u) = (s[0], s[1]);
            for _ in 0..2 {
                let dv = 0.04 * v * v + 5.0 * v + 140.0 - u + input;
                v += half * dv;
            }
            u += x.dt * a * (b * v - u);
            let fired = !x.refractory && v >= 30.0;
            if fired {
                v = c;
                u += d;
            }
            s[0] = v;
            s[1] = u;
            fired
        })
}

/// Subnormals to zero, as `flush` in the kernels' shared rounding helpers.
fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// Nengo's current in a Nengo-type model, the snippets' `J` (see the module documentation).
const NENGO_J: &str = "let j = rn(i_ext + soft_div(rn(in_ex + in_in), rn(dt * 0.001)));";

fn nengo_j(x: &super::NeuronInputs) -> f32 {
    x.i_ext + div(x.in_ex + x.in_in, x.dt * 0.001)
}

/// A spike of a model is one spike: an amplitude other than 1 belongs in the weights.
fn unit_amplitude(what: &str, amplitude: f64) -> Result<()> {
    if amplitude != 1.0 {
        return Err(invalid!(
            "{what} neurons with amplitude {amplitude}: in a plain population a spike is one \
             spike and its projections' weights scale it; use amplitude 1 and multiply the \
             weights by {amplitude}"
        ));
    }
    Ok(())
}

/// Nengo's `LIF` (`nengo/neurons.py`, `LIF.step`): the membrane relaxes towards `J` with
/// time constant `tau_rc`, a spike when `v` exceeds 1, the spike time found within the step
/// and the refractory period `tau_ref` counted from it (carried over into the next step),
/// `v` floored at `min_voltage`. State `v` (starting uniform in [0, 1), as Nengo's) and
/// `ref_time` (ms of refractory time left); parameters `tau_rc`, `tau_ref` (ms) and
/// `min_voltage`. `amplitude` must be 1 (an error otherwise).
pub fn nengo_lif(p: Lif) -> Result<NeuronModel> {
    unit_amplitude("LIF", p.amplitude)?;
    crate::model::nef::NefNeuron::Lif(p).validate()?;
    // No floor: the lowest float32, which no finite voltage goes below.
    let min_voltage = p.min_voltage.max(f32::MIN as f64);
    Ok(NeuronModel::new("nengo_lif")
        .state("v", Dist::uniform(0.0, 1.0))
        .state("ref_time", 0.0)
        .param("tau_rc", p.tau_rc * 1e3)
        .param("tau_ref", p.tau_ref * 1e3)
        .param("min_voltage", min_voltage)
        .update(&format!(
            "{NENGO_J}\n\
             ref_time = rn(ref_time - dt);\n\
             let delta_t = clamp(rn(dt - ref_time), 0.0, dt);\n\
             v = flush(rn(v - rn(rn(j - v) * soft_expm1(-soft_div(delta_t, tau_rc)))));\n\
             if (v < min_voltage) {{\n\
             \x20   v = min_voltage;\n\
             }}"
        ))
        .threshold("v > 1.0")
        .reset(&format!(
            "{NENGO_J}\n\
             let t_spike = rn(dt + rn(tau_rc * soft_ln1p(-soft_div(rn(v - 1.0), rn(j - 1.0)))));\n\
             ref_time = rn(tau_ref + t_spike);\n\
             v = 0.0;"
        ))
        .cpu_twin(|x, s| {
            let [tau_rc, tau_ref, min_voltage] = [x.params[0], x.params[1], x.params[2]];
            let j = nengo_j(x);
            let (mut v, mut ref_time) = (s[0], s[1]);
            ref_time -= x.dt;
            let delta_t = (x.dt - ref_time).clamp(0.0, x.dt);
            v = flush(v - (j - v) * expm1(-div(delta_t, tau_rc)));
            if v < min_voltage {
                v = min_voltage;
            }
            let fired = !x.refractory && v > 1.0;
            if fired {
                let t_spike = x.dt + tau_rc * ln1p(-div(v - 1.0, j - 1.0));
                ref_time = tau_ref + t_spike;
                v = 0.0;
            }
            s[0] = v;
            s[1] = ref_time;
            fired
        }))
}

/// Nengo's `SpikingRectifiedLinear`: `v` integrates `max(J, 0)` over time (s) and spikes on
/// reaching 1, keeping the excess. A model spikes at most once a step, so its rate is capped
/// at `1 / dt` where Nengo's would emit several spikes in one step. State `v` (starting
/// uniform in [0, 1), as Nengo's); `amplitude` must be 1 (an error otherwise).
pub fn nengo_spiking_rectified_linear(p: SpikingRectifiedLinear) -> Result<NeuronModel> {
    unit_amplitude("SpikingRectifiedLinear", p.amplitude)?;
    Ok(NeuronModel::new("nengo_spiking_rectified_linear")
        .state("v", Dist::uniform(0.0, 1.0))
        .update(&format!(
            "{NENGO_J}\n\
             v = rn(v + rn(select(0.0, j, j > 0.0) * rn(dt * 0.001)));"
        ))
        .threshold("v >= 1.0")
        .reset("v = flush(rn(v - 1.0));")
        .cpu_twin(|x, s| {
            let j = nengo_j(x);
            let mut v = s[0] + (if j > 0.0 { j } else { 0.0 }) * (x.dt * 0.001);
            let fired = !x.refractory && v >= 1.0;
            if fired {
                v = flush(v - 1.0);
            }
            s[0] = v;
            fired
        }))
}

/// Nengo's `Izhikevich` (`nengo/neurons.py`, `Izhikevich.step`), which differs from the
/// paper's integration (`izhikevich`): `J` clipped below at -30, one Euler step of `v`, the
/// threshold and reset of `v` before `u` is stepped from the new `v`, then `u += d` for a
/// spike. Parameters as `IzhikevichParams` (Nengo's `tau_recovery`, `coupling`,
/// `reset_voltage`, `reset_recovery`); state `v` starting uniform in [0, 1) and `u` at 0, as
/// Nengo's (`v_init` is not used).
pub fn nengo_izhikevich(p: IzhikevichParams) -> NeuronModel {
    NeuronModel::new("nengo_izhikevich")
        .state("v", Dist::uniform(0.0, 1.0))
        .state("u", 0.0)
        .param("a", p.a)
        .param("b", p.b)
        .param("c", p.c)
        .param("d", p.d)
        // Nengo steps u from the voltage after its reset: `after` is that voltage, known in
        // the update from the threshold the reset will apply.
        .update(&format!(
            "{NENGO_J}\n\
             let jc = select(-30.0, j, j > -30.0);\n\
             let dv = rn(rn(rn(rn(rn(rn(0.04 * v) * v) + rn(5.0 * v)) + 140.0) - u) + jc);\n\
             v = rn(v + rn(dv * dt));\n\
             let after = select(v, c, v >= 30.0 && !refractory);\n\
             u = rn(u + rn(rn(a * rn(rn(b * after) - u)) * dt));"
        ))
        .threshold("v >= 30.0")
        .reset("v = c;\nu = rn(u + d);")
        .cpu_twin(|x, s| {
            let [a, b, c, d] = [x.params[0], x.params[1], x.params[2], x.params[3]];
            let j = nengo_j(x);
            let jc = if j > -30.0 { j } else { -30.0 };
            let (mut v, mut u) = (s[0], s[1]);
            let dv = 0.04 * v * v + 5.0 * v + 140.0 - u + jc;
            v += dv * x.dt;
            let fired = v >= 30.0 && !x.refractory;
            let after = if fired { c } else { v };
            u += a * (b * after - u) * x.dt;
            if fired {
                v = c;
                u += d;
            }
            s[0] = v;
            s[1] = u;
            fired
        })
}
