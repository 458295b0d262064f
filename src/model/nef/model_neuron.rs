//! User-defined neuron models in NEF ensembles: a spiking [`NeuronModel`] driven by the
//! ensemble's current `J`, with its tuning measured by simulating its Rust twin, as Nengo
//! measures neuron types without an analytic rate (`nengo.neurons.settled_firingrate`: run
//! the neuron for a settling time, then count its spikes over a window).
//!
//! What the model's snippets see in an ensemble: `i_ext` is `J` (Nengo's `gain * x + bias`,
//! plus any input into `ens.neurons()`), `in_ex` and `in_in` are 0; `dt` and `t` are in ms (as
//! in a plain population; the network's `dt` is in seconds); `index` is the neuron's index in
//! the ensemble. A spike outputs `1 / dt` (dt in seconds), as Nengo's spikes of amplitude 1.
//! The built-in `izhikevich` reads `i_ext` plus its synaptic input, so in an ensemble it is
//! driven by `J` as Nengo's `Izhikevich` is.

use crate::error::{invalid, Result};
use crate::model::neuron_model::{NeuronInputs, NeuronModel, MAX_STATE_VARS};
use crate::model::Dist;
use rayon::prelude::*;
use std::sync::Arc;

/// The `dt` (s) at which Nengo's `settled_firingrate` measures rates, whatever the model's.
pub(crate) const NENGO_RATE_DT: f64 = 0.001;

/// Points of the rate table an ensemble interpolates its neurons' rates from.
const TABLE_POINTS: usize = 1025;

/// Currents of each probe of Nengo's search for the firing range (`NeuronType.gain_bias`), an
/// odd number so that 0 is one.
const SEARCH_POINTS: usize = 101;

/// Most steps one rate measurement may take (settling plus window), so that building an
/// ensemble stays bounded: 1.1 s at dt = 1 us.
const MAX_MEASURE_STEPS: usize = 1_100_000;

/// A spiking [`NeuronModel`] as an NEF neuron type, and how its rates are measured: run from
/// the centre of each state variable's initial distribution for `settle_s` seconds, then
/// spikes per second over `window_s` seconds (Nengo's `settled_firingrate`, whose defaults
/// are 0.1 s and 1 s; Nengo's `Izhikevich.rates` settles for 0.001 s). Rates are measured at
/// the network's `dt`, so decoders are solved for the neuron as it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelNeuron {
    pub model: NeuronModel,
    pub settle_s: f64,
    pub window_s: f64,
}

impl ModelNeuron {
    /// `model` with Nengo's default windows: 0.1 s of settling, 1 s of counting.
    pub fn new(model: NeuronModel) -> ModelNeuron {
        ModelNeuron {
            model,
            settle_s: 0.1,
            window_s: 1.0,
        }
    }

    /// The same model measured with other windows (seconds).
    pub fn rate_windows(mut self, settle_s: f64, window_s: f64) -> ModelNeuron {
        self.settle_s = settle_s;
        self.window_s = window_s;
        self
    }

    /// The model's declarations and snippets (checked in the NEF neuron kernel as well as in
    /// the neuron update), its Rust twin, which measures its rates, and the windows.
    pub(crate) fn validate(&self) -> Result<()> {
        let m = &self.model;
        m.check()?;
        super::neuron_kernel::generate(&[m], NENGO_RATE_DT * 1e3).validate(m.owner())?;
        if !m.has_cpu_twin() {
            return Err(invalid!(
                "neuron model `{}` has no Rust twin; an ensemble measures its neurons' rates \
                 by simulating the twin (to find gains, biases and decoders), so give it one \
                 with `NeuronModel::cpu_twin`",
                m.name()
            ));
        }
        if !(self.settle_s.is_finite() && self.settle_s >= 0.0) {
            return Err(invalid!(
                "neuron model `{}`: the settling time of its rate measurement must be >= 0 s, \
                 got {}",
                m.name(),
                self.settle_s
            ));
        }
        if !(self.window_s.is_finite() && self.window_s > 0.0) {
            return Err(invalid!(
                "neuron model `{}`: the counting window of its rate measurement must be a \
                 positive number of seconds, got {}",
                m.name(),
                self.window_s
            ));
        }
        Ok(())
    }

    /// Checks that measuring at `dt` (s) stays within [`MAX_MEASURE_STEPS`] and counts at
    /// least one step.
    pub(crate) fn check_dt(&self, dt: f64) -> Result<()> {
        let (settle, window) = self.steps(dt);
        if window == 0 || settle + window > MAX_MEASURE_STEPS {
            return Err(invalid!(
                "neuron model `{}`: measuring its rates takes {settle} + {window} steps of dt = \
                 {dt} s; it needs 1 to {MAX_MEASURE_STEPS} steps in all: change the windows \
                 with `ModelNeuron::rate_windows` or the time step",
                self.model.name()
            ));
        }
        Ok(())
    }

    /// Settling and counting steps at `dt`.
    fn steps(&self, dt: f64) -> (usize, usize) {
        (
            (self.settle_s / dt).round() as usize,
            (self.window_s / dt).round() as usize,
        )
    }

    /// The firing rate (Hz) of one neuron of the model driven by the constant current `j`,
    /// stepped at `dt` (s): its Rust twin run exactly as the ensemble's kernel runs it (the
    /// same f32 inputs, refractory count and step times), from the centre of each state
    /// variable's initial distribution.
    pub fn measured_rate(&self, j: f64, dt: f64) -> f64 {
        if j.is_nan() {
            return f64::NAN;
        }
        let m = &self.model;
        let Some(twin) = m.twin.as_ref() else {
            return f64::NAN;
        };
        let (settle, window) = self.steps(dt);
        let dt_ms = (dt * 1e3) as f32;
        let n_ref = (m.refractory_ms / (dt * 1e3)).round() as u32;
        let params: Vec<f32> = m.params.iter().map(|(_, p)| *p as f32).collect();
        let mut state = [0f32; MAX_STATE_VARS];
        let state = &mut state[..m.state.len()];
        for (x, (_, init)) in state.iter_mut().zip(&m.state) {
            *x = centre(init) as f32;
        }
        let (mut left, mut count) = (0u32, 0u64);
        for step in 0..settle + window {
            left = left.saturating_sub(1);
            let refractory = left != 0;
            let inputs = NeuronInputs {
                params: &params,
                in_ex: 0.0,
                in_in: 0.0,
                i_ext: j as f32,
                dt: dt_ms,
                t: step as f32 * dt_ms,
                index: 0,
                refractory,
            };
            if twin(&inputs, state) && !refractory {
                left = n_ref;
                count += (step >= settle) as u64;
            }
        }
        count as f64 / (window as f64 * dt)
    }

    /// Rates at each current, measured in parallel; the order of the results is the order of
    /// the currents whatever the number of threads.
    fn measured_rates(&self, currents: &[f64], dt: f64) -> Vec<f64> {
        currents
            .par_iter()
            .map(|&j| self.measured_rate(j, dt))
            .collect()
    }

    /// Gains and biases as Nengo's `NeuronType.gain_bias` finds them for a type without an
    /// analytic rate: probe currents in [-Jr, Jr] (101 points, Jr = 10 doubling up to 10
    /// times) for the last silent one (the threshold) and the first reaching the largest max
    /// rate, measure 101 points between them, and read off the current of each max rate by
    /// linear interpolation (over the running maximum of the rates, so a curve that dips
    /// still gives the lowest current reaching the rate; Nengo's `np.interp` assumes it rises).
    /// Then `gain = (J_threshold - J_top) / (intercept - 1)` and `bias = J_top - gain`.
    pub(crate) fn gain_bias(
        &self,
        max_rates: &[f64],
        intercepts: &[f64],
        dt: f64,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        self.check_dt(dt)?;
        let name = self.model.name();
        let max_rate = max_rates.iter().copied().fold(0.0, f64::max);
        let (mut threshold, mut top) = (None, None);
        let mut jr = 10.0;
        for _ in 0..10 {
            let j = linspace(-jr, jr, SEARCH_POINTS);
            let rate = self.measured_rates(&j, dt);
            if threshold.is_none() {
                threshold = rate.iter().rposition(|&r| r <= 0.0).map(|k| j[k]);
            }
            if top.is_none() {
                top = rate.iter().position(|&r| r >= max_rate).map(|k| j[k]);
            }
            if threshold.is_some() && top.is_some() {
                break;
            }
            jr *= 2.0;
        }
        let Some(threshold) = threshold else {
            return Err(invalid!(
                "neuron model `{name}`: could not find its firing threshold: it fires at every \
                 current in [-5120, 5120]; give gains and biases with `Ensemble::gain_bias`"
            ));
        };
        let Some(top) = top else {
            return Err(invalid!(
                "neuron model `{name}`: no current in [-5120, 5120] makes it fire at {max_rate} \
                 Hz (measured over {} s at dt = {dt} s); lower max_rates or give gains and \
                 biases with `Ensemble::gain_bias`",
                self.window_s
            ));
        };
        let j = linspace(threshold, top, SEARCH_POINTS);
        let mut rate = self.measured_rates(&j, dt);
        for k in 1..rate.len() {
            rate[k] = rate[k].max(rate[k - 1]);
        }
        let mut gains = Vec::with_capacity(max_rates.len());
        let mut biases = Vec::with_capacity(max_rates.len());
        for (i, (&max_rate, &intercept)) in max_rates.iter().zip(intercepts).enumerate() {
            let j_top = interp(max_rate, &rate, &j);
            let gain = (threshold - j_top) / (intercept - 1.0);
            let bias = j_top - gain;
            if !(gain.is_finite() && gain > 0.0 && bias.is_finite()) {
                return Err(invalid!(
                    "neuron model `{name}` neuron {i}: max rate {max_rate} Hz and intercept \
                     {intercept} give gain {gain} and bias {bias}; the gain must be positive \
                     and finite: raise the max rate above the model's lowest firing rate or \
                     give gains and biases with `Ensemble::gain_bias`"
                ));
            }
            gains.push(gain);
            biases.push(bias);
        }
        Ok((gains, biases))
    }
}

/// A deterministic start for a rate measurement: the middle of the initial distribution.
fn centre(init: &Dist) -> f64 {
    match *init {
        Dist::Const(c) => c,
        Dist::Uniform { low, high } => 0.5 * (low + high),
        Dist::Normal { mean, .. } | Dist::NormalClamped { mean, .. } => mean,
    }
}

/// `n` evenly spaced points from `a` to `b` inclusive, as `np.linspace`.
fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    let step = (b - a) / (n - 1) as f64;
    (0..n)
        .map(|k| if k == n - 1 { b } else { a + k as f64 * step })
        .collect()
}

/// `np.interp(x, xp, fp)` for non-decreasing `xp`: the last segment starting at or below `x`,
/// the end values outside.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let last = xp.len() - 1;
    if x <= xp[0] {
        return fp[0];
    }
    if x >= xp[last] {
        return fp[last];
    }
    let k = xp.partition_point(|&v| v <= x) - 1;
    fp[k] + (fp[k + 1] - fp[k]) * (x - xp[k]) / (xp[k + 1] - xp[k])
}

/// An ensemble's rates as a function of the current: measured once on a grid of
/// [`TABLE_POINTS`] currents spanning what its neurons receive for inputs within the radius,
/// and interpolated linearly, so that the cost of building an ensemble does not grow with
/// its neurons or evaluation points. A current outside the grid is measured on its own.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RateCurve {
    neuron: ModelNeuron,
    dt: f64,
    low: f64,
    high: f64,
    rates: Arc<Vec<f64>>,
}

impl RateCurve {
    /// The curve of `neuron` at `dt` (s) over currents `low ..= high`.
    pub fn measure(neuron: &ModelNeuron, dt: f64, low: f64, high: f64) -> RateCurve {
        let (low, high) = if high > low {
            (low, high)
        } else {
            (low - 0.5, low + 0.5)
        };
        let currents = linspace(low, high, TABLE_POINTS);
        RateCurve {
            rates: Arc::new(neuron.measured_rates(&currents, dt)),
            neuron: neuron.clone(),
            dt,
            low,
            high,
        }
    }

    /// The rate (Hz) at current `j`.
    pub fn rate(&self, j: f64) -> f64 {
        if j.is_nan() {
            return f64::NAN;
        }
        if !(self.low..=self.high).contains(&j) {
            return self.neuron.measured_rate(j, self.dt);
        }
        let x = (j - self.low) / (self.high - self.low) * (TABLE_POINTS - 1) as f64;
        let k = (x.floor() as usize).min(TABLE_POINTS - 2);
        let f = x - k as f64;
        self.rates[k] + (self.rates[k + 1] - self.rates[k]) * f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::neuron_model::{izhikevich, IzhikevichParams};

    fn integrator() -> ModelNeuron {
        // Integrate-and-fire without leak: v += J dt (dt in s), fire at 1, reset to 0: rate
        // floor(1 / (J dt)) steps per spike.
        ModelNeuron::new(
            NeuronModel::new("iaf")
                .state("v", 0.0)
                .update("if (!refractory) {\n    v = rn(v + rn(i_ext * rn(dt * 0.001)));\n}")
                .threshold("v >= 1.0")
                .reset("v = 0.0;")
                .cpu_twin(|x, s| {
                    if !x.refractory {
                        s[0] += x.i_ext * (x.dt * 0.001);
                    }
                    let fired = !x.refractory && s[0] >= 1.0;
                    if fired {
                        s[0] = 0.0;
                    }
                    fired
                }),
        )
    }

    #[test]
    fn a_measured_rate_counts_spikes_over_the_window() {
        let n = integrator();
        // J = 100: v reaches 1 after 10 steps of 1 ms (in f32, 0.1 * 10 may round below 1,
        // so 10 or 11 steps): about 100 or 91 Hz.
        let r = n.measured_rate(100.0, 0.001);
        assert!((90.0..=100.0).contains(&r), "{r}");
        assert_eq!(n.measured_rate(-5.0, 0.001), 0.0);
        assert!(n.measured_rate(f64::NAN, 0.001).is_nan());
        // Refractory steps slow it: 10 ms without integrating after each spike.
        let slow = ModelNeuron::new(n.model.clone().refractory_ms(10.0));
        assert!(slow.measured_rate(100.0, 0.001) < r * 0.6);
    }

    #[test]
    fn gain_and_bias_put_the_intercept_and_max_rate_where_asked() {
        let n = ModelNeuron::new(izhikevich(IzhikevichParams::default()));
        let (max_rates, intercepts) = ([40.0, 60.0, 80.0], [-0.5, 0.0, 0.5]);
        let (g, b) = n.gain_bias(&max_rates, &intercepts, 0.001).unwrap();
        for i in 0..3 {
            let at_one = n.measured_rate(g[i] + b[i], 0.001);
            assert!((at_one - max_rates[i]).abs() <= 4.0, "{i}: {at_one}");
            assert_eq!(
                n.measured_rate(g[i] * (intercepts[i] - 0.05) + b[i], 0.001),
                0.0
            );
            assert!(n.measured_rate(g[i] * (intercepts[i] + 0.2) + b[i], 0.001) > 0.0);
        }
        // The same inputs give the same bits (measurement is parallel, results are ordered).
        assert_eq!(n.gain_bias(&max_rates, &intercepts, 0.001).unwrap(), (g, b));
    }

    #[test]
    fn the_table_interpolates_between_measured_points_and_measures_outside() {
        let n = ModelNeuron::new(izhikevich(IzhikevichParams::default()));
        let curve = RateCurve::measure(&n, 0.001, 0.0, 64.0);
        // Grid points are exact measurements (64 / 1024 = 1/16 per point).
        for j in [0.0, 10.0, 32.5, 64.0] {
            assert_eq!(curve.rate(j), n.measured_rate(j, 0.001), "J = {j}");
        }
        let (a, b) = (
            n.measured_rate(20.0, 0.001),
            n.measured_rate(20.0625, 0.001),
        );
        assert_eq!(curve.rate(20.03125), 0.5 * (a + b));
        assert_eq!(curve.rate(80.0), n.measured_rate(80.0, 0.001));
    }

    #[test]
    fn a_model_that_never_fires_fast_enough_is_a_clear_error() {
        let n = integrator().rate_windows(0.0, 0.01);
        let err = n.gain_bias(&[1e6], &[0.0], 0.001).unwrap_err().to_string();
        assert!(
            err.contains("no current in [-5120, 5120] makes it fire at"),
            "{err}"
        );
    }

    #[test]
    fn linspace_and_interp_follow_numpy() {
        assert_eq!(linspace(-1.0, 1.0, 5), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        let (xp, fp) = ([0.0, 1.0, 1.0, 3.0], [10.0, 20.0, 30.0, 40.0]);
        assert_eq!(interp(-1.0, &xp, &fp), 10.0);
        assert_eq!(interp(0.5, &xp, &fp), 15.0);
        assert_eq!(interp(2.0, &xp, &fp), 35.0);
        assert_eq!(interp(5.0, &xp, &fp), 40.0);
    }
}
