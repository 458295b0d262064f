// Inputs of ensembles, neurons, passthrough nodes and learning rules: each row sums its
// contributions in a fixed order, so the result is the same on every adapter (no atomics).

@group(0) @binding(0) var<uniform> globals: NefGlobals;
@group(0) @binding(1) var<storage, read_write> sig: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<SumRow>;
@group(0) @binding(3) var<storage, read> entries: array<SumEntry>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = nef_row(wg, lid);
    if (i >= arrayLength(&rows)) {
        return;
    }
    let r = rows[i];
    var acc = 0.0;
    for (var k = r.first; k < r.first + r.count; k++) {
        let e = entries[k];
        acc = rn(acc + rn(e.scale * sig[e.src]));
    }
    sig[r.dst] = acc;
}
