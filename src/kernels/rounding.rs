//! Twin of shaders/shared/rounding.wgsl.

/// Subnormal results are flushed to zero, as `flush` in shaders/shared/rounding.wgsl: GPUs may
/// flush them, CPUs do not.
pub(crate) fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// max(x, 0) with a fixed sign of zero (WGSL's and Rust's `max` may pick either zero).
pub(crate) fn positive(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}
