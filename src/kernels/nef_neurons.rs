//! Twin of shaders/nef_neurons.wgsl: the same f32 operations in the same order, the same
//! software `exp`/`log`/division, so both backends agree bit for bit.

use super::rounding::{flush, positive};
use crate::lower::nef::layout::*;
use crate::model::neuron_model::{NeuronInputs, NeuronModel, MAX_STATE_VARS};
use crate::softmath;

/// The user-defined models (`NefPlan::neuron_models`), the step in ms they see, and the
/// index of the step being computed.
pub type NefModels<'a> = (&'a [NeuronModel], f64, u32);

/// Nengo's `LIF.step`: sub-step spike times and refractory carry-over.
fn lif(r: &EnsRecord, j: f32, v: &mut f32, refractory: &mut f32) -> f32 {
    let dt = r.dt;
    let rt = *refractory - dt;
    let delta_t = (dt - rt).clamp(0.0, dt);
    let decay = if delta_t == dt {
        r.expm1_dt
    } else {
        softmath::expm1(-(delta_t * r.inv_tau_rc))
    };
    let mut vv = flush(*v - (j - *v) * decay);
    let spiked = vv > 1.0;
    let mut new_rt = rt;
    let mut out = 0.0;
    if spiked {
        // t_spike = dt + tau_rc * log1p(-(v - 1) / (J - 1)): when v crossed 1 in this step.
        let t_spike = dt + r.tau_rc * softmath::ln1p(-softmath::div(vv - 1.0, j - 1.0));
        new_rt = r.tau_ref + t_spike;
        out = r.amp_over_dt;
    }
    if vv < r.min_voltage {
        vv = r.min_voltage;
    }
    if spiked {
        vv = 0.0;
    }
    *v = vv;
    *refractory = new_rt;
    out
}

/// A user-defined model's neuron `i` of ensemble `r` driven by `j`, as `custom_step` and
/// `nef_run_k` in the kernel: the refractory count, the model's Rust twin with `i_ext = j`,
/// the state loaded from and stored to `sig`.
fn custom(
    sig: &mut [f32],
    r: &EnsRecord,
    i: usize,
    j: f32,
    (models, dt_ms, step): NefModels,
) -> f32 {
    let model = &models[(r.kind - NEF_CUSTOM) as usize];
    let twin = model
        .twin
        .as_ref()
        .expect("CpuExecutor::open refuses models without a twin");
    let n = r.n as usize;
    let n_vars = model.state.len();
    let mut s = [0f32; MAX_STATE_VARS];
    let s = &mut s[..n_vars];
    s[0] = sig[r.voltage as usize + i];
    for (q, x) in s.iter_mut().enumerate().skip(1) {
        *x = sig[r.state as usize + (q - 1) * n + i];
    }
    let params = &sig[r.params as usize..r.params as usize + model.params.len()];
    let ri = r.refractory as usize + i;
    let mut left = sig[ri];
    if left > 0.0 {
        left -= 1.0;
    }
    let refractory = left != 0.0;
    let dt = dt_ms as f32;
    let inputs = NeuronInputs {
        params,
        in_ex: 0.0,
        in_in: 0.0,
        i_ext: j,
        dt,
        t: step as f32 * dt,
        index: i as u32,
        refractory,
    };
    let fired = twin(&inputs, s) && !refractory;
    sig[r.voltage as usize + i] = s[0];
    for (q, x) in s.iter().enumerate().skip(1) {
        sig[r.state as usize + (q - 1) * n + i] = *x;
    }
    let mut out = 0.0;
    if fired {
        left = r.n_ref;
        out = r.amp_over_dt;
    }
    sig[ri] = left;
    out
}

pub fn nef_neurons(
    sig: &mut [f32],
    ensembles: &[EnsRecord],
    rows: &[NeuronRow],
    models: NefModels,
) {
    for row in rows {
        let r = &ensembles[row.ens as usize];
        let i = row.index as usize;
        let j =
            sig[r.bias as usize + i] + sig[r.j_enc as usize + i] + sig[r.neuron_in as usize + i];
        let (vi, ri) = (r.voltage as usize + i, r.refractory as usize + i);
        let out = match r.kind {
            NEF_LIF => {
                let (mut v, mut rt) = (sig[vi], sig[ri]);
                let out = lif(r, j, &mut v, &mut rt);
                sig[vi] = v;
                sig[ri] = rt;
                out
            }
            NEF_LIF_RATE => {
                let x = j - 1.0;
                if x > 0.0 {
                    let period = r.tau_ref + r.tau_rc * softmath::ln1p(softmath::recip(x));
                    softmath::div(r.amplitude, period)
                } else {
                    0.0
                }
            }
            NEF_RELU => r.amplitude * positive(j),
            NEF_SPIKING_RELU => {
                let v = sig[vi] + positive(j) * r.dt;
                let n = v.floor();
                sig[vi] = flush(v - n);
                r.amp_over_dt * n
            }
            kind if kind >= NEF_CUSTOM => custom(sig, r, i, j, models),
            other => unreachable!("ensemble kind {other} is not built"),
        };
        // An ablated neuron keeps its dynamics but outputs nothing (mask 0; 1 is exact).
        sig[r.out as usize + i] = out * sig[r.refractory as usize + r.n as usize + i];
    }
}
