//! The LIF part of the neuron update's twin: `lif` of shaders/neuron_update.wgsl and the part
//! of its `main` around it (ring, refractory count, health checks), over a run of neurons of
//! one LIF population.

use super::{input_faults, Block, Outcome};
use crate::kernels::rounding::flush;
use crate::kernels::NeuronTables;
use crate::lower::layout::{PopRecord, ABLATED, BAD_I_EX, BAD_I_IN, BAD_V, LIF_ROW};
use std::ops::Range;

/// LIF neurons per pass of the LIF loop: their spikes are flagged on the stack, then appended.
const LIF_PASS: usize = 256;

/// LIF neurons `run` of the block (population `pop`), with the population's parameters or,
/// where it has them, each neuron's own row (`lif_row`). The kind and the parameter source
/// are decided here, once, so the loop itself has neither branch.
pub(super) fn lif_run(
    tables: &NeuronTables,
    pop: &PopRecord,
    health: bool,
    b: &mut Block,
    run: Range<usize>,
    out: &mut Outcome,
) {
    let run = LifRun {
        tables,
        pop,
        b,
        run,
        out,
    };
    // The widest vector instructions this CPU has (AVX2 where there is): the loop is inlined
    // into one copy per instruction set. Each float operation is still one IEEE operation.
    let arch = pulp::Arch::new();
    match (pop.each != 0, health) {
        (false, false) => arch.dispatch(LifLoop::<false, false>(run)),
        (false, true) => arch.dispatch(LifLoop::<false, true>(run)),
        (true, false) => arch.dispatch(LifLoop::<true, false>(run)),
        (true, true) => arch.dispatch(LifLoop::<true, true>(run)),
    }
}

/// The arguments of `lif_neurons`.
struct LifRun<'a, 'b> {
    tables: &'a NeuronTables<'a>,
    pop: &'a PopRecord,
    b: &'a mut Block<'b>,
    run: Range<usize>,
    out: &'a mut Outcome,
}

/// `lif_neurons` as an operation `pulp` compiles for each instruction set: with per-neuron
/// rows or not, with health checks or not.
struct LifLoop<'a, 'b, const OWN_ROWS: bool, const HEALTH: bool>(LifRun<'a, 'b>);

impl<const OWN_ROWS: bool, const HEALTH: bool> pulp::WithSimd
    for LifLoop<'_, '_, OWN_ROWS, HEALTH>
{
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        lif_neurons::<OWN_ROWS, HEALTH>(self.0)
    }
}

/// Twin of `lif` in the kernel (and of the part of `main` around it: ring, refractory count,
/// health checks) over neurons `run` of the block. Branch-free per neuron: a value the kernel
/// computes only on one side of a branch is computed always and selected, which gives the
/// same bits (float operations have no side effects here), and spikes are flagged per pass of
/// `LIF_PASS` neurons and appended after it.
#[inline(always)]
fn lif_neurons<const OWN_ROWS: bool, const HEALTH: bool>(
    LifRun {
        tables,
        pop,
        b,
        run,
        out,
    }: LifRun,
) {
    let base = b.first + run.start;
    let local_base = base as u32 - pop.start;
    let mut at = run.start;
    while at < run.end {
        // Slices of one length, zipped, so the loop has no bounds checks and can vectorise.
        let pass = at..run.end.min(at + LIF_PASS);
        let mut fired = [false; LIF_PASS];
        let fired = &mut fired[..pass.len()];
        let drive = &tables.v_drive[b.first + pass.start..b.first + pass.end];
        let ring = &mut b.ring[pass.start * 2..pass.end * 2];
        let pass_local = local_base + (pass.start - run.start) as u32;
        let mut any = false;
        for (k, (((((fired, v), cur), refr), drive), ring)) in fired
            .iter_mut()
            .zip(&mut b.v[pass.clone()])
            .zip(&mut b.i_syn[pass.clone()])
            .zip(&mut b.refractory[pass.clone()])
            .zip(drive)
            .zip(ring.chunks_exact_mut(2))
            .enumerate()
        {
            let q = if OWN_ROWS {
                lif_row(tables, pop, pass_local + k as u32)
            } else {
                *pop
            };
            let input = [
                std::mem::take(ring[0].get_mut()),
                std::mem::take(ring[1].get_mut()),
            ];
            let ablated = *refr & ABLATED;
            let mut r = *refr & !ABLATED;
            if r > 0 {
                r -= 1;
            }
            // `r == 0 && ablated == 0`, written so that it vectorises (with SSE2 only, the
            // compiler judges the short-circuit form not worth vectorising).
            let live = (r | ablated) == 0;
            // Rust never contracts a * b + c, so these are the unfused, individually rounded
            // operations that `rn` enforces in the kernel.
            let vm_old = *v;
            let syn = q.p21_ex * cur[0] + (q.p21_in * cur[1] + *drive);
            let integrated = q.p22 * vm_old + syn;
            let vm = if live { integrated } else { vm_old };
            let c0 = flush(q.p11_ex * cur[0] + input[0] as f32 * q.inv_scale_ex);
            let c1 = flush(q.p11_in * cur[1] + input[1] as f32 * q.inv_scale_in);
            if HEALTH {
                // v as integrated, before a reset could hide an overflow.
                let mut bad = input_faults(input);
                if !vm.is_finite() {
                    bad |= BAD_V;
                }
                if !c0.is_finite() {
                    bad |= BAD_I_EX;
                }
                if !c1.is_finite() {
                    bad |= BAD_I_IN;
                }
                out.report((b.first + pass.start + k) as u32, bad);
            }
            let spiked = live & (vm > q.v_th);
            *v = if spiked { q.v_reset } else { vm };
            *cur = [c0, c1];
            *refr = if spiked { q.n_ref } else { r } | ablated;
            *fired = spiked;
            any |= spiked;
        }
        if any {
            let hits = fired.iter().enumerate().filter(|(_, &f)| f);
            let first = b.first + pass.start;
            out.spikes.extend(hits.map(|(k, _)| (first + k) as u32));
        }
        at = pass.end;
    }
}

/// Twin of `lif_row` in the kernel: neuron `local`'s own row in place of the population's.
#[inline(always)]
fn lif_row(tables: &NeuronTables, shared: &PopRecord, local: u32) -> PopRecord {
    let row = &tables.v_drive[(shared.params + local * LIF_ROW) as usize..][..LIF_ROW as usize];
    PopRecord {
        p22: row[0],
        p21_ex: row[1],
        p21_in: row[2],
        p11_ex: row[3],
        p11_in: row[4],
        v_th: row[5],
        v_reset: row[6],
        n_ref: row[7] as u32,
        ..*shared
    }
}
