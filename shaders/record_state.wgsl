// Samples state probes at the start of a step (Brian2's StateMonitor convention) into the
// chunk's state record, one invocation per recorded neuron.
// CPU twin: src/kernels/record_state.rs.

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var<storage, read> entries: array<StateEntry>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> i_syn: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> control: Control;
// Per entry: rows of (v, i_ex, i_in) from its `base`.
@group(0) @binding(5) var<storage, read_write> state_record: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let e = linear_index(wg, lid, globals.state_groups_x);
    if (e >= globals.n_state_entries) {
        return;
    }
    let entry = entries[e];
    let step = control.step;
    if (step % entry.every_steps != 0u) {
        return;
    }
    let first_row = (control.chunk_start + entry.every_steps - 1u) / entry.every_steps;
    let at = entry.base + (step / entry.every_steps - first_row) * 3u;
    let cur = i_syn[entry.neuron];
    state_record[at] = v[entry.neuron];
    state_record[at + 1u] = cur.x;
    state_record[at + 2u] = cur.y;
}
