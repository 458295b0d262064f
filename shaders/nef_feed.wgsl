// Copies this step's row of the feed table (outputs of function nodes, computed on the host
// for the whole chunk) into `sig`.

@group(0) @binding(0) var<storage, read_write> sig: array<f32>;
@group(0) @binding(1) var<storage, read> control: NefControl;
@group(0) @binding(2) var<storage, read> feed_dst: array<u32>;
@group(0) @binding(3) var<storage, read> feed: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let k = nef_row(wg, lid);
    if (k >= arrayLength(&feed_dst)) {
        return;
    }
    let row = control.step - control.chunk_start;
    sig[feed_dst[k]] = feed[row * control.feed_width + k];
}
