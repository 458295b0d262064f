// Needs `globals` (shared/types.wgsl) in scope.
// Floating-point arithmetic that rounds the same on every adapter.
//
// Drivers may contract a * b + c into a fused multiply-add, or not, and may even split WGSL's
// fma() into a multiply and an add (lavapipe and llvmpipe do), so neither `a * b + c` nor `fma`
// gives the same bits everywhere. `rn` passes a value through an integer XOR with a uniform that is
// always zero: the compiler cannot see through it, so the product or sum is rounded to f32 right
// there, as IEEE 754 requires of each WGSL `*` and `+`. Every multiply and add of the state
// update goes through `rn`, and the CPU twin computes the same unfused operations in the same
// order, so the two backends agree bit for bit.

fn rn(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ globals.zero);
}

// Subnormal results are flushed to zero explicitly: GPUs may flush them, CPUs do not.
const MIN_NORMAL: f32 = 1.17549435e-38;

fn flush(x: f32) -> f32 {
    return select(x, 0.0, abs(x) < MIN_NORMAL);
}
