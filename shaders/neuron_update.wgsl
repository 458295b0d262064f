// Neuron update: every neuron of every population in one dispatch (populations are found by
// binary search in the population table). Integrates LifCurrent exactly with host-computed
// propagators, adds the step's synaptic input (delay ring slot + Poisson draws, in fixed point),
// thresholds, resets, and appends spikes to the step's spike list, sizing the step's indirect
// propagation as it goes.
// CPU twin: src/kernels/neuron_update.rs.

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var<storage, read> pops: array<PopRecord>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> i_syn: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> refractory: array<u32>;
// Per neuron the constant part of its update; then the rows of LIF populations with
// per-neuron parameters (PopRecord.each).
@group(0) @binding(5) var<storage, read> v_drive: array<f32>;
// [slot][neuron][channel], fixed point; this kernel consumes and clears the current slot.
@group(0) @binding(6) var<storage, read_write> ring: array<i32>;
@group(0) @binding(7) var<storage, read_write> control: Control;
@group(0) @binding(8) var<storage, read_write> spikes: array<u32>;
// One bit per recorded neuron per step of the chunk.
@group(0) @binding(9) var<storage, read_write> spike_record: array<atomic<u32>>;
@group(0) @binding(10) var<storage, read> poisson: array<PoissonRecord>;
@group(0) @binding(11) var<storage, read> poisson_cdf: array<u32>;
// Spike-source schedules: per-neuron pointers, then sorted steps.
@group(0) @binding(12) var<storage, read> aux: array<u32>;
// Workgroup counts of the indirect propagation of even steps (words 0..3) and odd steps (words
// 4..7). Every 16th spike of a step raises the step's x to 16 places past its own in the spike
// list, so that x ends at least at the step's spike count (at least 1, at most
// MAX_GROUPS_PER_DIM; up to 15 more workgroups find no spike) with no dispatch in between and
// one atomic for 16 spikes instead of one for each.
@group(0) @binding(13) var<storage, read_write> propagate_args: array<atomic<u32>, 8>;
const ARGS_GRANULE: u32 = 16u;

fn find_pop(i: u32) -> u32 {
    var lo = 0u;
    var hi = globals.n_pops - 1u;
    while (lo < hi) {
        let mid = (lo + hi + 1u) / 2u;
        if (pops[mid].start <= i) {
            lo = mid;
        } else {
            hi = mid - 1u;
        }
    }
    return lo;
}

// First t in [0, len - 1) with u < cdf[start + t], else len - 1. Twin: build::poisson::draw_count.
fn draw_count(start: u32, len: u32, u: u32) -> u32 {
    var lo = 0u;
    var hi = len - 1u;
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        if (u < poisson_cdf[start + mid]) {
            hi = mid;
        } else {
            lo = mid + 1u;
        }
    }
    return lo;
}

// Whether a spike source neuron fires at `step` (binary search in its sorted schedule).
fn scheduled(ptr: u32, step: u32) -> bool {
    var lo = aux[ptr];
    var hi = aux[ptr + 1u];
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        let s = aux[mid];
        if (s == step) {
            return true;
        }
        if (s < step) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return false;
}

// Whether a float is neither NaN nor infinite (WGSL has no isFinite).
fn finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// The health check: records the first step at which any check failed, the lowest neuron that
// failed at that step and what failed. Steps run in order (one dispatch each), so every
// invocation of that step sees bad_step >= step, and those of later steps skip.
fn report(step: u32, i: u32, what: u32) {
    if (atomicLoad(&control.bad_step) >= step) {
        atomicMin(&control.bad_step, step);
        atomicMin(&control.bad_neuron, i);
        atomicOr(&control.bad_what, what);
    }
}

// The record of neuron `local` of a LIF population with per-neuron parameters: its own row
// (written in `lower::populations` in this order) in place of the population's values.
fn lif_row(population: PopRecord, local: u32) -> PopRecord {
    var pop = population;
    let row = pop.params + local * LIF_ROW;
    pop.p22 = v_drive[row];
    pop.p21_ex = v_drive[row + 1u];
    pop.p21_in = v_drive[row + 2u];
    pop.p11_ex = v_drive[row + 3u];
    pop.p11_in = v_drive[row + 4u];
    pop.v_th = v_drive[row + 5u];
    pop.v_reset = v_drive[row + 6u];
    // A whole number of steps, exact in f32 (the build refuses 2^24 or more).
    pop.n_ref = u32(v_drive[row + 7u]);
    return pop;
}

// One LifCurrent neuron: integrates v (when `live`: not refractory, not ablated) and the
// synaptic currents, thresholds and resets. Returns whether it spiked.
fn lif(pop: PopRecord, i: u32, step: u32, input: vec2<i32>, live: bool) -> bool {
    var vm = v[i];
    var cur = i_syn[i];
    // Unfused and explicitly rounded, operation for operation as the CPU twin (see rn).
    if (live) {
        let syn = rn(rn(pop.p21_ex * cur.x) + rn(rn(pop.p21_in * cur.y) + v_drive[i]));
        vm = rn(rn(pop.p22 * vm) + syn);
    }
    cur.x = flush(rn(rn(pop.p11_ex * cur.x) + rn(f32(input.x) * pop.inv_scale_ex)));
    cur.y = flush(rn(rn(pop.p11_in * cur.y) + rn(f32(input.y) * pop.inv_scale_in)));
    if (control.health != 0u) {
        // v as integrated, before a reset could hide an overflow.
        var bad = 0u;
        if (!finite(vm)) { bad |= BAD_V; }
        if (!finite(cur.x)) { bad |= BAD_I_EX; }
        if (!finite(cur.y)) { bad |= BAD_I_IN; }
        if (bad != 0u) {
            report(step, i, bad);
        }
    }
    var spiked = false;
    if (live && vm > pop.v_th) {
        spiked = true;
        vm = pop.v_reset;
    }
    v[i] = vm;
    i_syn[i] = cur;
    return spiked;
}

// User-defined neuron models: `neuron_model::kernel` replaces this block with one function per
// model and a `custom_neuron` that picks one by the population's kind. Without such models no
// population has a custom kind, and this stub is never called.
//@NEURON_MODELS_BEGIN@
fn custom_neuron(pop: PopRecord, i: u32, local: u32, step: u32, input: vec2<f32>, refr: bool) -> bool {
    return false;
}
//@NEURON_MODELS_END@

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let k = linear_index(wg, lid, globals.update_groups_x);
    let step = control.step;
    if (k == 0u) {
        // The next step's count and workgroups were last read by the previous step's
        // propagation, which has finished; this step's are not touched. At least one workgroup
        // always runs the propagation: it advances the step counter.
        let next = (step + 1u) % 2u;
        atomicStore(&control.spike_count[next], 0u);
        atomicStore(&propagate_args[next * 4u], 1u);
        control.prop_step = step;
    }
    if (k >= globals.own_count) {
        return;
    }
    let i = globals.own_start + k;
    var pop = pops[find_pop(i)];
    let local = i - pop.start;
    if (pop.each != 0u && pop.kind == KIND_LIF) {
        pop = lif_row(pop, local);
    }
    var spiked = false;
    let ablated = refractory[i] & ABLATED;
    if (pop.kind == KIND_SPIKE_SOURCE) {
        spiked = ablated == 0u && scheduled(pop.aux + local, step);
    } else {
        let slot = (step % globals.ring_slots) * globals.n_neurons + i;
        var in_ex = ring[slot * 2u];
        var in_in = ring[slot * 2u + 1u];
        ring[slot * 2u] = 0;
        ring[slot * 2u + 1u] = 0;
        for (var p = pop.poisson_start; p < pop.poisson_start + pop.poisson_count; p++) {
            let src = poisson[p];
            if (i >= src.target_start && i - src.target_start < src.target_count) {
                let k = src.k_min + draw_count(src.cdf_start, src.cdf_len, hash3(src.key, local, step));
                if (src.channel == 0u) {
                    in_ex += i32(k) * src.weight_q;
                } else {
                    in_in += i32(k) * src.weight_q;
                }
            }
        }
        var r = refractory[i] & ~ABLATED;
        if (r > 0u) {
            r -= 1u;
        }
        if (control.health != 0u) {
            var bad = 0u;
            if (in_ex >= INPUT_BOUND || in_ex <= -INPUT_BOUND) { bad |= BAD_INPUT_EX; }
            if (in_in >= INPUT_BOUND || in_in <= -INPUT_BOUND) { bad |= BAD_INPUT_IN; }
            if (bad != 0u) {
                report(step, i, bad);
            }
        }
        if (pop.kind == KIND_LIF) {
            spiked = lif(pop, i, step, vec2(in_ex, in_in), r == 0u && ablated == 0u);
        } else if (ablated == 0u) {
            // A user-defined model (neuron_model::kernel); an ablated one is frozen.
            let input = vec2(rn(f32(in_ex) * pop.inv_scale_ex), rn(f32(in_in) * pop.inv_scale_in));
            spiked = custom_neuron(pop, i, local, step, input, r != 0u);
        }
        if (spiked) {
            r = pop.n_ref;
        }
        refractory[i] = r | ablated;
    }
    if (spiked) {
        let parity = step % 2u;
        let slot = atomicAdd(&control.spike_count[parity], 1u);
        spikes[slot] = i;
        if (slot % ARGS_GRANULE == 0u) {
            atomicMax(&propagate_args[parity * 4u], min(slot + ARGS_GRANULE, MAX_GROUPS_PER_DIM));
        }
        if (i >= globals.rec_start && i - globals.rec_start < globals.rec_count) {
            let bit = i - globals.rec_start;
            let row = (step - control.chunk_start) * globals.rec_words;
            atomicOr(&spike_record[row + bit / 32u], 1u << (bit % 32u));
        }
    }
}
