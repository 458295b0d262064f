//! Twin of shaders/nef_feed.wgsl.

pub fn nef_feed(sig: &mut [f32], feed_dst: &[u32], row: &[f32]) {
    for (&dst, &v) in feed_dst.iter().zip(row) {
        sig[dst as usize] = v;
    }
}
