//! The health check of NEF models. The NEF kernels keep no per-step findings of their own, so
//! the check runs on the host after each chunk of steps: the chunk's probe samples, and every
//! signal and weight as they stand at its end, are scanned for NaN and infinity. That costs a
//! readback of `sig` and `w` per chunk (on by default in debug builds only).

use super::Simulator;
use crate::error::{Error, Result};

impl Simulator {
    /// Scans what the chunk that ended at step `self.step` left behind; `first_sample[p]` is
    /// the index of probe p's first sample of that chunk.
    pub(super) fn check_health(&mut self, first_sample: &[usize]) -> Result<()> {
        let mut found = Vec::new();
        for (p, (layout, data)) in self.nef_plan.probes.iter().zip(&self.samples).enumerate() {
            let from = first_sample[p] * layout.width;
            if let Some(at) = data[from..].iter().position(|x| !x.is_finite()) {
                let row = (from + at) / layout.width;
                let t = (row as u64 + 1) * layout.every as u64;
                found.push(format!(
                    "probe {p} first reads {} at t = {} s (sample {row}, element {})",
                    data[from + at],
                    t as f64 * self.nef_plan.dt,
                    (from + at) % layout.width
                ));
            }
        }
        let sig = self.backend.read_f32("sig", 0, self.nef_plan.sig.len())?;
        if let Some(k) = sig.iter().position(|x| !x.is_finite()) {
            found.push(format!("{} is {}", self.name_signal(k), sig[k]));
        }
        let w = self.backend.read_f32("w", 0, self.nef_plan.w.len())?;
        if let Some(k) = w.iter().position(|x| !x.is_finite()) {
            found.push(format!("{} is {}", self.name_weight(k), w[k]));
        }
        if found.is_empty() {
            return Ok(());
        }
        Err(Error::Numerical(format!(
            "by step {} (t = {} s): {}. A learning rule that diverges (a PES learning rate too \
             large for its error and pre activity), or a transform or function that overflows \
             float32, does this: lower the learning rate or scale the signals down",
            self.step,
            self.step as f64 * self.nef_plan.dt,
            found.join("; ")
        )))
    }

    /// What `sig[k]` is: an ensemble's neuron input, activity or voltage, or a signal index.
    fn name_signal(&self, k: usize) -> String {
        for e in &self.nef_plan.built_ensembles {
            let n = e.n_neurons();
            for (what, at) in [
                ("input current", e.input),
                ("activity", e.out),
                ("voltage", e.voltage),
            ] {
                if (at..at + n).contains(&k) {
                    return format!("ensemble `{}` neuron {}'s {what}", e.name, k - at);
                }
            }
        }
        format!("signal {k}")
    }

    /// What `w[k]` is: a weight of a connection (its row and column), or an index.
    fn name_weight(&self, k: usize) -> String {
        for (i, c) in self.nef_plan.built_connections.iter().enumerate() {
            if (c.w_off..c.w_off + c.rows * c.cols).contains(&k) {
                let at = k - c.w_off;
                return format!(
                    "connection {i}'s weight at row {}, column {}",
                    at / c.cols,
                    at % c.cols
                );
            }
        }
        format!("matrix entry {k}")
    }
}
