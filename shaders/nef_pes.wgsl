// PES: w[row] += (alpha * error) * filtered pre activities, alpha = -learning_rate * dt / n_pre.
// Runs after the step's matrix products, so the change takes effect from the next step.

@group(0) @binding(0) var<uniform> globals: NefGlobals;
@group(0) @binding(1) var<storage, read> sig: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<PesRow>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = nef_row(wg, lid);
    if (i >= arrayLength(&rows)) {
        return;
    }
    let r = rows[i];
    let scaled = rn(r.alpha * sig[r.err]);
    for (var j = 0u; j < r.cols; j++) {
        let at = r.w_off + j;
        w[at] = rn(w[at] + rn(scaled * sig[r.pre + j]));
    }
}
