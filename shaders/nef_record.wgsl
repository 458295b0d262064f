// Probes: every `every` steps, copies a value of `sig` or `w` into this chunk's record. Runs
// before the updates of the step, as Nengo's probes read filtered values before the filters
// advance.

@group(0) @binding(0) var<storage, read> sig: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> control: NefControl;
@group(0) @binding(3) var<storage, read> rows: array<RecordRow>;
@group(0) @binding(4) var<storage, read_write> record: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = nef_row(wg, lid);
    if (i >= arrayLength(&rows)) {
        return;
    }
    let r = rows[i];
    let done = control.step + 1u;
    if (done % r.every != 0u) {
        return;
    }
    let row = done / r.every - 1u - control.chunk_start / r.every;
    var v = sig[r.src];
    if (r.from_weights == 1u) {
        v = w[r.src];
    }
    record[r.rec_off + row * r.width + r.k] = v;
}
