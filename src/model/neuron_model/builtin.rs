//! Built-in neuron models, written with the same mechanism a user has (WGSL snippets) plus a
//! Rust twin each, so they also run on the CPU backend. Every product and sum of the snippets
//! goes through `rn`, and division through `soft_div`, so GPU and CPU agree bit for bit.

use super::NeuronModel;
use crate::model::Dist;
use crate::softmath::div;

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
