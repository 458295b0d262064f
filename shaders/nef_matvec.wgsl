// Dense matrix-vector rows: encoders (J from the decoded input), decoders and weights of
// connections, PES's per-neuron error. One thread per row, summing in order of the column.

@group(0) @binding(0) var<uniform> globals: NefGlobals;
@group(0) @binding(1) var<storage, read_write> sig: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<MatVecRow>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = nef_row(wg, lid);
    if (i >= arrayLength(&rows)) {
        return;
    }
    let r = rows[i];
    var acc = 0.0;
    for (var j = 0u; j < r.cols; j++) {
        acc = rn(acc + rn(w[r.w_off + j] * sig[r.x_off + j]));
    }
    sig[r.dst] = acc;
}
