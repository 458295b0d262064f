// Synaptic filters (Lowpass, Alpha) in state-space form: x <- A x + B u; y = C x + D u.
// Runs last in a step: the filtered value is what the next step reads, Nengo's one step of
// delay per filtered connection.

@group(0) @binding(0) var<uniform> globals: NefGlobals;
@group(0) @binding(1) var<storage, read_write> sig: array<f32>;
@group(0) @binding(2) var<storage, read> coefs: array<FilterCoef>;
@group(0) @binding(3) var<storage, read> rows: array<FilterRow>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = nef_row(wg, lid);
    if (i >= arrayLength(&rows)) {
        return;
    }
    let r = rows[i];
    let c = coefs[r.coef];
    let u = sig[r.src];
    let x0 = sig[r.state];
    var y = 0.0;
    if (c.order == 1u) {
        let n0 = flush(rn(rn(c.a.x * x0) + rn(c.bc.x * u)));
        sig[r.state] = n0;
        y = rn(rn(c.bc.z * n0) + rn(c.d * u));
    } else {
        let x1 = sig[r.state + 1u];
        let n0 = flush(rn(rn(rn(c.a.x * x0) + rn(c.a.y * x1)) + rn(c.bc.x * u)));
        let n1 = flush(rn(rn(rn(c.a.z * x0) + rn(c.a.w * x1)) + rn(c.bc.y * u)));
        sig[r.state] = n0;
        sig[r.state + 1u] = n1;
        y = rn(rn(rn(c.bc.z * n0) + rn(c.bc.w * n1)) + rn(c.d * u));
    }
    sig[r.dst] = flush(y);
}
