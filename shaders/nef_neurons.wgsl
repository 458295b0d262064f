// Neurons of every ensemble in one dispatch, with Nengo's step for each type, and user-defined
// neuron models spliced in by `model::nef::neuron_kernel`. J = bias + encoded input + direct
// neuron input. exp, log and division are the software versions of shared/softmath.wgsl, so
// the CPU twin computes the same bits.

@group(0) @binding(0) var<uniform> globals: NefGlobals;
@group(0) @binding(1) var<storage, read_write> sig: array<f32>;
@group(0) @binding(2) var<storage, read> ensembles: array<EnsRecord>;
@group(0) @binding(3) var<storage, read> rows: array<NeuronRow>;
// Read for the step number, the time user-defined models see.
@group(0) @binding(4) var<storage, read> control: NefControl;

// max(x, 0) without max's freedom over the sign of a zero.
fn positive(x: f32) -> f32 {
    return select(0.0, x, x > 0.0);
}

// Nengo's LIF.step: sub-step spike times and refractory carry-over.
fn lif(r: EnsRecord, j: f32, vi: u32, ri: u32) -> f32 {
    let dt = r.dt;
    let rt = rn(sig[ri] - dt);
    let delta_t = clamp(rn(dt - rt), 0.0, dt);
    var decay = r.expm1_dt;
    if (delta_t != dt) {
        decay = soft_expm1(-rn(delta_t * r.inv_tau_rc));
    }
    let v_old = sig[vi];
    var v = flush(rn(v_old - rn(rn(j - v_old) * decay)));
    let spiked = v > 1.0;
    var new_rt = rt;
    var out = 0.0;
    if (spiked) {
        let t_spike = rn(dt + rn(r.tau_rc * soft_ln1p(-soft_div(rn(v - 1.0), rn(j - 1.0)))));
        new_rt = rn(r.tau_ref + t_spike);
        out = r.amp_over_dt;
    }
    if (v < r.min_voltage) {
        v = r.min_voltage;
    }
    if (spiked) {
        v = 0.0;
    }
    sig[vi] = v;
    sig[ri] = new_rt;
    return out;
}

// User-defined neuron models: `model::nef::neuron_kernel` replaces this block with one function
// per model and a `custom_nef_neuron` that picks one by the ensemble's kind. Without such models
// no ensemble has a custom kind, and this stub is never called.
//@NEURON_MODELS_BEGIN@
fn custom_nef_neuron(r: EnsRecord, i: u32, j: f32, refr: bool) -> bool {
    return false;
}
//@NEURON_MODELS_END@

// A user-defined model driven by J: its refractory steps left count down in the refractory
// slot (as a plain population's counter: the spike step counts); a spike outputs 1 / dt.
fn custom_step(r: EnsRecord, i: u32, j: f32) -> f32 {
    let ri = r.refractory + i;
    var left = sig[ri];
    if (left > 0.0) {
        left = left - 1.0;
    }
    var out = 0.0;
    if (custom_nef_neuron(r, i, j, left != 0.0)) {
        left = r.n_ref;
        out = r.amp_over_dt;
    }
    sig[ri] = left;
    return out;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let t = nef_row(wg, lid);
    if (t >= arrayLength(&rows)) {
        return;
    }
    let row = rows[t];
    let r = ensembles[row.ens];
    let i = row.index;
    let j = rn(rn(sig[r.bias + i] + sig[r.j_enc + i]) + sig[r.neuron_in + i]);
    let vi = r.voltage + i;
    var out = 0.0;
    switch r.kind {
        case NEF_LIF: {
            out = lif(r, j, vi, r.refractory + i);
        }
        case NEF_LIF_RATE: {
            let x = rn(j - 1.0);
            if (x > 0.0) {
                let period = rn(r.tau_ref + rn(r.tau_rc * soft_ln1p(soft_recip(x))));
                out = soft_div(r.amplitude, period);
            }
        }
        case NEF_RELU: {
            out = rn(r.amplitude * positive(j));
        }
        case NEF_SPIKING_RELU: {
            let v = rn(sig[vi] + rn(positive(j) * r.dt));
            let n = floor(v);
            sig[vi] = flush(rn(v - n));
            out = rn(r.amp_over_dt * n);
        }
        default: {
            if (r.kind >= NEF_CUSTOM) {
                out = custom_step(r, i, j);
            }
        }
    }
    // An ablated neuron keeps its dynamics but outputs nothing (mask 0; 1 is exact).
    sig[r.out + i] = rn(out * sig[r.refractory + r.n + i]);
}
