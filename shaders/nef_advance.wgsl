// Advances the step counter at the end of a step (one thread), so a whole chunk of steps is
// recorded into one submission.

@group(0) @binding(0) var<storage, read_write> control: NefControl;

@compute @workgroup_size(1)
fn main() {
    control.step = control.step + 1u;
}
