//! Neuron types of the NEF path and their tuning math, as Nengo 4 defines them
//! (`nengo/neurons.py`): gain and bias from max rates and intercepts, and the steady-state rate
//! used to build the activity matrix that decoders are solved from.
//!
//! Rates are in Hz and include `amplitude`, as Nengo's `rates()` do. A neuron's input current is
//! `J = gain * (encoder . x) / radius + bias`; the LIF threshold current is 1.
//!
//! Besides Nengo's four types, an ensemble takes any spiking [`NeuronModel`] (a user's WGSL
//! snippets with a Rust twin, or a built-in such as `izhikevich`): see [`ModelNeuron`], whose
//! rates are measured by simulation as Nengo measures types without an analytic rate.

pub use super::model_neuron::ModelNeuron;
use crate::error::{invalid, Result};
use crate::model::neuron_model::NeuronModel;
use ndarray::Array2;

/// A neuron type of an NEF ensemble.
#[derive(Clone, Debug, PartialEq)]
pub enum NefNeuron {
    Lif(Lif),
    LifRate(LifRate),
    RectifiedLinear(RectifiedLinear),
    SpikingRectifiedLinear(SpikingRectifiedLinear),
    /// A spiking [`NeuronModel`] driven by the current `J` (see [`ModelNeuron`]).
    Model(ModelNeuron),
}

/// Spiking leaky integrate-and-fire (Nengo's `LIF`): membrane RC time constant `tau_rc` and
/// refractory period `tau_ref` in seconds, voltage floor `min_voltage` (<= 0, may be -inf), and
/// the spike `amplitude` (a spike is `amplitude / dt` for one step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lif {
    pub tau_rc: f64,
    pub tau_ref: f64,
    pub min_voltage: f64,
    pub amplitude: f64,
}

/// The rate version of [`Lif`] (Nengo's `LIFRate`): outputs its steady-state firing rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LifRate {
    pub tau_rc: f64,
    pub tau_ref: f64,
    pub amplitude: f64,
}

/// `amplitude * max(J, 0)` (Nengo's `RectifiedLinear`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RectifiedLinear {
    pub amplitude: f64,
}

/// An integrate-and-fire neuron without leak whose rate is `amplitude * max(J, 0)` (Nengo's
/// `SpikingRectifiedLinear`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikingRectifiedLinear {
    pub amplitude: f64,
}

impl Default for Lif {
    /// Nengo's defaults: `tau_rc = 0.02`, `tau_ref = 0.002`, `min_voltage = 0`, `amplitude = 1`.
    fn default() -> Self {
        Lif {
            tau_rc: 0.02,
            tau_ref: 0.002,
            min_voltage: 0.0,
            amplitude: 1.0,
        }
    }
}

impl Default for LifRate {
    /// Nengo's defaults: `tau_rc = 0.02`, `tau_ref = 0.002`, `amplitude = 1`.
    fn default() -> Self {
        LifRate {
            tau_rc: 0.02,
            tau_ref: 0.002,
            amplitude: 1.0,
        }
    }
}

impl Default for RectifiedLinear {
    fn default() -> Self {
        RectifiedLinear { amplitude: 1.0 }
    }
}

impl Default for SpikingRectifiedLinear {
    fn default() -> Self {
        SpikingRectifiedLinear { amplitude: 1.0 }
    }
}

impl Default for NefNeuron {
    /// LIF with Nengo's defaults, Nengo's default neuron type.
    fn default() -> Self {
        NefNeuron::Lif(Lif::default())
    }
}

impl From<Lif> for NefNeuron {
    fn from(n: Lif) -> Self {
        NefNeuron::Lif(n)
    }
}

impl From<LifRate> for NefNeuron {
    fn from(n: LifRate) -> Self {
        NefNeuron::LifRate(n)
    }
}

impl From<RectifiedLinear> for NefNeuron {
    fn from(n: RectifiedLinear) -> Self {
        NefNeuron::RectifiedLinear(n)
    }
}

impl From<SpikingRectifiedLinear> for NefNeuron {
    fn from(n: SpikingRectifiedLinear) -> Self {
        NefNeuron::SpikingRectifiedLinear(n)
    }
}

impl From<ModelNeuron> for NefNeuron {
    fn from(n: ModelNeuron) -> Self {
        NefNeuron::Model(n)
    }
}

/// A model with Nengo's measuring windows (`ModelNeuron::new`).
impl From<NeuronModel> for NefNeuron {
    fn from(model: NeuronModel) -> Self {
        NefNeuron::Model(ModelNeuron::new(model))
    }
}

/// The parameters of the LIF rate curve, shared by `Lif` and `LifRate`.
#[derive(Clone, Copy)]
struct LifCurve {
    tau_rc: f64,
    tau_ref: f64,
    amplitude: f64,
}

impl NefNeuron {
    /// The type's name, for messages (a model's own name).
    pub fn name(&self) -> &str {
        match self {
            NefNeuron::Lif(_) => "LIF",
            NefNeuron::LifRate(_) => "LIFRate",
            NefNeuron::RectifiedLinear(_) => "RectifiedLinear",
            NefNeuron::SpikingRectifiedLinear(_) => "SpikingRectifiedLinear",
            NefNeuron::Model(m) => m.model.name(),
        }
    }

    /// The type as a [`NeuronModel`] for a plain spiking population
    /// (`Network::neurons`): `Lif` and `SpikingRectifiedLinear` become the built-in models
    /// `nengo_lif` and `nengo_spiking_rectified_linear`, a model is itself. Rate types emit no
    /// spikes, so they cannot drive a spiking projection: an error says so.
    pub fn neuron_model(&self) -> Result<NeuronModel> {
        use crate::model::neuron_model::{nengo_lif, nengo_spiking_rectified_linear};
        match self {
            NefNeuron::Lif(p) => nengo_lif(*p),
            NefNeuron::SpikingRectifiedLinear(p) => nengo_spiking_rectified_linear(*p),
            NefNeuron::Model(m) => Ok(m.model.clone()),
            NefNeuron::LifRate(_) | NefNeuron::RectifiedLinear(_) => Err(invalid!(
                "{} neurons output a rate, not spikes, so a plain spiking population cannot \
                 use them (its projections carry spikes); use the spiking type (LIF or \
                 SpikingRectifiedLinear), or keep rate neurons in a NEF ensemble",
                self.name()
            )),
        }
    }

    fn lif_curve(&self) -> Option<LifCurve> {
        match *self {
            NefNeuron::Lif(Lif {
                tau_rc,
                tau_ref,
                amplitude,
                ..
            })
            | NefNeuron::LifRate(LifRate {
                tau_rc,
                tau_ref,
                amplitude,
            }) => Some(LifCurve {
                tau_rc,
                tau_ref,
                amplitude,
            }),
            _ => None,
        }
    }

    pub(crate) fn amplitude(&self) -> f64 {
        match *self {
            NefNeuron::Lif(n) => n.amplitude,
            NefNeuron::LifRate(n) => n.amplitude,
            NefNeuron::RectifiedLinear(n) => n.amplitude,
            NefNeuron::SpikingRectifiedLinear(n) => n.amplitude,
            // A model's spike is 1 / dt, as Nengo's `amplitude = 1`.
            NefNeuron::Model(_) => 1.0,
        }
    }

    /// Checks the parameters: `tau_rc > 0`, `tau_ref >= 0`, `min_voltage <= 0` (or -inf),
    /// `amplitude > 0`, all finite; a model's declarations and snippets (in the NEF neuron
    /// kernel, by naga, errors in the snippet's own lines), its Rust twin and its windows.
    pub fn validate(&self) -> Result<()> {
        if let NefNeuron::Model(m) = self {
            return m.validate();
        }
        let name = self.name();
        let amplitude = self.amplitude();
        if !(amplitude.is_finite() && amplitude > 0.0) {
            return Err(invalid!(
                "{name} neurons: amplitude must be a positive finite number, got {amplitude}"
            ));
        }
        if let Some(c) = self.lif_curve() {
            if !(c.tau_rc.is_finite() && c.tau_rc > 0.0) {
                return Err(invalid!(
                    "{name} neurons: tau_rc must be a positive number of seconds, got {}",
                    c.tau_rc
                ));
            }
            if !(c.tau_ref.is_finite() && c.tau_ref >= 0.0) {
                return Err(invalid!(
                    "{name} neurons: tau_ref must be a non-negative number of seconds, got {}",
                    c.tau_ref
                ));
            }
        }
        if let NefNeuron::Lif(n) = self {
            if n.min_voltage.is_nan() || n.min_voltage > 0.0 {
                return Err(invalid!(
                    "LIF neurons: min_voltage must be <= 0 (or -inf for no floor), got {}",
                    n.min_voltage
                ));
            }
        }
        Ok(())
    }

    /// Whether the type emits spikes (`Lif`, `SpikingRectifiedLinear`) rather than rates.
    pub fn is_spiking(&self) -> bool {
        matches!(
            self,
            NefNeuron::Lif(_) | NefNeuron::SpikingRectifiedLinear(_) | NefNeuron::Model(_)
        )
    }

    /// Gain and bias that make neuron `i` start firing at `intercepts[i]` and fire at
    /// `max_rates[i]` Hz (before `amplitude`) at `x = 1`, as Nengo's `gain_bias` of the type.
    ///
    /// LIF: `x = 1 / (1 - exp((tau_ref - 1/max_rate) / tau_rc))`, `gain = (1 - x) /
    /// (intercept - 1)`, `bias = 1 - gain * intercept`. Rectified linear: `gain = max_rate /
    /// (1 - intercept)`, `bias = -intercept * gain`. Errors, as Nengo's checks: a max rate that is
    /// not positive or not below `1 / tau_ref`, an intercept that is not below 1, or a resulting
    /// gain that is not positive and finite. A model: Nengo's search over measured rates
    /// (`ModelNeuron::gain_bias`) at Nengo's `dt` of 1 ms.
    pub fn gain_bias(&self, max_rates: &[f64], intercepts: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        self.gain_bias_at(max_rates, intercepts, super::model_neuron::NENGO_RATE_DT)
    }

    /// [`gain_bias`](Self::gain_bias), with a model's rates measured at time step `dt` (s);
    /// the other types do not depend on it.
    pub(crate) fn gain_bias_at(
        &self,
        max_rates: &[f64],
        intercepts: &[f64],
        dt: f64,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        self.validate()?;
        let name = self.name();
        check_tuning(name, max_rates, intercepts)?;
        if let NefNeuron::Model(m) = self {
            return m.gain_bias(max_rates, intercepts, dt);
        }
        let mut gains = Vec::with_capacity(max_rates.len());
        let mut biases = Vec::with_capacity(max_rates.len());
        for (i, (&max_rate, &intercept)) in max_rates.iter().zip(intercepts).enumerate() {
            let (gain, bias) = match self.lif_curve() {
                Some(c) => {
                    if c.tau_ref > 0.0 && max_rate >= 1.0 / c.tau_ref {
                        return Err(invalid!(
                            "{name} neuron {i}: max rate {max_rate} Hz must be below the inverse \
                             refractory period 1/tau_ref = {:.3} Hz; lower max_rates or tau_ref",
                            1.0 / c.tau_ref
                        ));
                    }
                    let x = 1.0 / (1.0 - ((c.tau_ref - 1.0 / max_rate) / c.tau_rc).exp());
                    let gain = (1.0 - x) / (intercept - 1.0);
                    (gain, 1.0 - gain * intercept)
                }
                None => {
                    let gain = max_rate / (1.0 - intercept);
                    (gain, -intercept * gain)
                }
            };
            if !(gain.is_finite() && gain > 0.0 && bias.is_finite()) {
                return Err(invalid!(
                    "{name} neuron {i}: max rate {max_rate} Hz and intercept {intercept} give gain \
                     {gain} and bias {bias}; the gain must be positive and finite: lower the \
                     intercept below 1 or the max rate further below 1/tau_ref"
                ));
            }
            gains.push(gain);
            biases.push(bias);
        }
        Ok((gains, biases))
    }

    /// Steady-state firing rate in Hz (times `amplitude`) for a constant input current `j`, as
    /// Nengo's `rates()`: LIF types use the LIFRate curve `amplitude / (tau_ref + tau_rc *
    /// ln(1 + 1 / (j - 1)))` for `j > 1` and 0 otherwise; rectified linear types
    /// `amplitude * max(j, 0)`; a model the spikes per second of its Rust twin after Nengo's
    /// settling time, at Nengo's `dt` of 1 ms ([`ModelNeuron::measured_rate`]). A NaN current
    /// gives NaN.
    pub fn rate(&self, j: f64) -> f64 {
        if j.is_nan() {
            return f64::NAN;
        }
        if let NefNeuron::Model(m) = self {
            return m.measured_rate(j, super::model_neuron::NENGO_RATE_DT);
        }
        match self.lif_curve() {
            Some(c) => {
                let excess = j - 1.0;
                if excess > 0.0 {
                    c.amplitude / (c.tau_ref + c.tau_rc * (1.0 / excess).ln_1p())
                } else {
                    0.0
                }
            }
            None => self.amplitude() * j.max(0.0),
        }
    }

    /// Rates for many inputs at once, as Nengo's `rates(x, gain, bias)`: `x` holds one row per
    /// sample and one column per neuron (inputs already projected onto the encoders and divided
    /// by the radius); entry `(s, i)` of the result is `rate(gain[i] * x[s, i] + bias[i])`.
    pub fn rates(&self, x: &Array2<f64>, gain: &[f64], bias: &[f64]) -> Result<Array2<f64>> {
        let n = x.ncols();
        if gain.len() != n || bias.len() != n {
            return Err(invalid!(
                "{} rates: x has {n} columns (one per neuron) but there are {} gains and {} \
                 biases; give one of each per neuron",
                self.name(),
                gain.len(),
                bias.len()
            ));
        }
        Ok(Array2::from_shape_fn(x.raw_dim(), |(s, i)| {
            self.rate(gain[i] * x[[s, i]] + bias[i])
        }))
    }
}

/// The checks every type's `gain_bias` shares: one max rate and one intercept per neuron, max
/// rates positive, intercepts below 1.
fn check_tuning(name: &str, max_rates: &[f64], intercepts: &[f64]) -> Result<()> {
    if max_rates.len() != intercepts.len() {
        return Err(invalid!(
            "{name} neurons: {} max rates but {} intercepts; give one of each per neuron",
            max_rates.len(),
            intercepts.len()
        ));
    }
    for (i, (&max_rate, &intercept)) in max_rates.iter().zip(intercepts).enumerate() {
        if !(max_rate.is_finite() && max_rate > 0.0) {
            return Err(invalid!(
                "{name} neuron {i}: max rate must be a positive number of Hz, got {max_rate}"
            ));
        }
        if !(intercept.is_finite() && intercept < 1.0) {
            return Err(invalid!(
                "{name} neuron {i}: intercept must be below 1 (the neuron must start firing \
                 inside the represented range), got {intercept}; lower the intercepts, e.g. \
                 to at most 0.9"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated by benches/peers/nengo_reference_math.py (section neurons), Nengo 4.1.0.
    const MAX_RATES: [f64; 5] = [200.0, 250.0, 333.0, 400.0, 60.0];
    const INTERCEPTS: [f64; 5] = [-0.9, -0.2, 0.0, 0.5, 0.85];
    const J: [f64; 9] = [-1.0, 0.0, 0.5, 1.0, 1.0000001, 1.5, 2.0, 5.0, 40.0];
    const LIF_DEFAULT_GAIN: [f64; 5] = [
        3.252190516671798,
        7.923609953979204,
        19.444298764488828,
        79.00416662326435,
        6.16137772294643,
    ];
    const LIF_DEFAULT_BIAS: [f64; 5] = [
        3.9269714650046184,
        2.584721990795841,
        1.0,
        -38.50208331163218,
        -4.237171064504465,
    ];
    const LIF_DEFAULT_RATE: [f64; 9] = [
        0.0,
        0.0,
        0.0,
        0.0,
        3.082976002213181,
        41.71490687414833,
        63.04000219064139,
        154.72999475512455,
        398.98559354204565,
    ];
    const LIF_CUSTOM_GAIN: [f64; 5] = [
        6.319297871402049,
        13.476388638910318,
        24.46585698968151,
        65.67166659166823,
        18.11705231285349,
    ];
    const LIF_CUSTOM_BIAS: [f64; 5] = [
        6.687368084261844,
        3.695277727782064,
        1.0,
        -31.835833295834114,
        -14.399494465925468,
    ];
    const LIF_CUSTOM_RATE: [f64; 9] = [
        0.0,
        0.0,
        0.0,
        0.0,
        0.6196517950246994,
        8.939647902408286,
        14.022350887159437,
        41.12796718625364,
        220.66380623411126,
    ];
    const LIFRATE_CUSTOM_GAIN: [f64; 5] = [
        1.2559211307113667,
        2.9340097201564994,
        6.165866965197091,
        19.016663889550088,
        1.874233417571025,
    ];
    const LIFRATE_CUSTOM_BIAS: [f64; 5] = [
        2.1303290176402303,
        1.5868019440313,
        1.0,
        -8.508331944775044,
        -0.5930984049353711,
    ];
    const LIFRATE_CUSTOM_RATE: [f64; 9] = [
        0.0,
        0.0,
        0.0,
        0.0,
        12.294001896036082,
        160.17782446570288,
        237.20650986127634,
        535.9867517356282,
        1140.7854244785099,
    ];
    const RELU_GAIN: [f64; 5] = [
        105.26315789473685,
        208.33333333333334,
        333.0,
        800.0,
        399.99999999999994,
    ];
    const RELU_BIAS: [f64; 5] = [
        94.73684210526316,
        41.66666666666667,
        -0.0,
        -400.0,
        -339.99999999999994,
    ];
    const RELU_RATE: [f64; 9] = [0.0, 0.0, 0.125, 0.25, 0.250000025, 0.375, 0.5, 1.25, 10.0];
    const SPIKING_RELU_GAIN: [f64; 5] = [
        105.26315789473685,
        208.33333333333334,
        333.0,
        800.0,
        399.99999999999994,
    ];
    const SPIKING_RELU_BIAS: [f64; 5] = [
        94.73684210526316,
        41.66666666666667,
        -0.0,
        -400.0,
        -339.99999999999994,
    ];
    const SPIKING_RELU_RATE: [f64; 9] = [0.0, 0.0, 1.5, 3.0, 3.0000003, 4.5, 6.0, 15.0, 120.0];
    const LIF_NOREF_GAIN: [f64; 2] = [21.671296103406547, 66.33388888796257];
    const LIF_NOREF_BIAS: [f64; 2] = [-1.167129610340655, 34.166944443981286];

    #[track_caller]
    fn assert_close(got: &[f64], want: &[f64], rtol: f64) {
        assert_eq!(got.len(), want.len());
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= rtol * w.abs().max(1e-300),
                "index {i}: got {g}, want {w}"
            );
        }
    }

    /// A neuron type with Nengo's gains, biases and rates for it.
    type Case = (NefNeuron, &'static [f64], &'static [f64], &'static [f64]);

    fn cases() -> Vec<Case> {
        vec![
            (
                Lif::default().into(),
                &LIF_DEFAULT_GAIN,
                &LIF_DEFAULT_BIAS,
                &LIF_DEFAULT_RATE,
            ),
            (
                Lif {
                    tau_rc: 0.05,
                    tau_ref: 0.001,
                    amplitude: 0.5,
                    ..Lif::default()
                }
                .into(),
                &LIF_CUSTOM_GAIN,
                &LIF_CUSTOM_BIAS,
                &LIF_CUSTOM_RATE,
            ),
            (
                LifRate {
                    tau_rc: 0.01,
                    tau_ref: 0.0015,
                    amplitude: 2.0,
                }
                .into(),
                &LIFRATE_CUSTOM_GAIN,
                &LIFRATE_CUSTOM_BIAS,
                &LIFRATE_CUSTOM_RATE,
            ),
            (
                RectifiedLinear { amplitude: 0.25 }.into(),
                &RELU_GAIN,
                &RELU_BIAS,
                &RELU_RATE,
            ),
            (
                SpikingRectifiedLinear { amplitude: 3.0 }.into(),
                &SPIKING_RELU_GAIN,
                &SPIKING_RELU_BIAS,
                &SPIKING_RELU_RATE,
            ),
        ]
    }

    #[test]
    fn gain_bias_matches_nengo() {
        for (neuron, gain, bias, _) in cases() {
            let (g, b) = neuron.gain_bias(&MAX_RATES, &INTERCEPTS).unwrap();
            assert_close(&g, gain, 1e-12);
            assert_close(&b, bias, 1e-12);
        }
        let (g, b) = NefNeuron::from(LifRate {
            tau_ref: 0.0,
            ..LifRate::default()
        })
        .gain_bias(&[1000.0, 5000.0], &[0.1, -0.5])
        .unwrap();
        assert_close(&g, &LIF_NOREF_GAIN, 1e-12);
        assert_close(&b, &LIF_NOREF_BIAS, 1e-12);
    }

    #[test]
    fn rate_matches_nengo() {
        for (neuron, _, _, rate) in cases() {
            let r: Vec<f64> = J.iter().map(|&j| neuron.rate(j)).collect();
            assert_close(&r, rate, 1e-12);
        }
        assert!(NefNeuron::default().rate(f64::NAN).is_nan());
    }

    #[test]
    fn tuning_curves_hit_max_rate_and_intercept() {
        for (neuron, _, _, _) in cases() {
            let (g, b) = neuron.gain_bias(&MAX_RATES, &INTERCEPTS).unwrap();
            let amp = neuron.amplitude();
            for i in 0..MAX_RATES.len() {
                let at_one = neuron.rate(g[i] + b[i]);
                assert!((at_one - amp * MAX_RATES[i]).abs() < 1e-9 * MAX_RATES[i]);
                assert_eq!(neuron.rate(g[i] * (INTERCEPTS[i] - 1e-9) + b[i]), 0.0);
                assert!(neuron.rate(g[i] * (INTERCEPTS[i] + 1e-6) + b[i]) > 0.0);
            }
            let x = Array2::from_shape_fn((2, 5), |(s, _)| s as f64);
            let r = neuron.rates(&x, &g, &b).unwrap();
            assert_eq!(r[[1, 3]], neuron.rate(g[3] + b[3]));
        }
    }

    #[test]
    fn spiking_and_defaults() {
        assert!(NefNeuron::default().is_spiking());
        assert_eq!(NefNeuron::default(), NefNeuron::Lif(Lif::default()));
        assert!(!NefNeuron::from(LifRate::default()).is_spiking());
        assert!(!NefNeuron::from(RectifiedLinear::default()).is_spiking());
        assert!(NefNeuron::from(SpikingRectifiedLinear::default()).is_spiking());
    }

    fn err(r: Result<(Vec<f64>, Vec<f64>)>) -> String {
        match r {
            Err(crate::Error::Validation(m)) => m,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bad_tuning_is_a_clear_error() {
        let lif = NefNeuron::default();
        let m = err(lif.gain_bias(&[500.0], &[0.0]));
        assert!(m.contains("below the inverse refractory period"), "{m}");
        let m = err(lif.gain_bias(&[200.0], &[1.0]));
        assert!(m.contains("intercept must be below 1"), "{m}");
        let m = err(lif.gain_bias(&[200.0], &[1.5]));
        assert!(m.contains("intercept must be below 1"), "{m}");
        let m = err(lif.gain_bias(&[0.0], &[0.0]));
        assert!(m.contains("max rate must be a positive"), "{m}");
        let m = err(lif.gain_bias(&[f64::NAN], &[0.0]));
        assert!(m.contains("max rate must be a positive"), "{m}");
        let m = err(lif.gain_bias(&[200.0, 300.0], &[0.0]));
        assert!(m.contains("2 max rates but 1 intercepts"), "{m}");
        let relu = NefNeuron::from(RectifiedLinear::default());
        let m = err(relu.gain_bias(&[200.0], &[1.0]));
        assert!(m.contains("intercept must be below 1"), "{m}");
        // the rectified linear types have no refractory limit
        assert!(relu.gain_bias(&[1e6], &[0.0]).is_ok());
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let bad: Vec<NefNeuron> = vec![
            Lif {
                tau_rc: 0.0,
                ..Lif::default()
            }
            .into(),
            Lif {
                tau_ref: -0.001,
                ..Lif::default()
            }
            .into(),
            Lif {
                min_voltage: 0.5,
                ..Lif::default()
            }
            .into(),
            LifRate {
                tau_rc: f64::INFINITY,
                ..LifRate::default()
            }
            .into(),
            RectifiedLinear { amplitude: 0.0 }.into(),
            SpikingRectifiedLinear {
                amplitude: f64::NAN,
            }
            .into(),
        ];
        for n in bad {
            assert!(
                matches!(n.validate(), Err(crate::Error::Validation(_))),
                "{n:?}"
            );
        }
        assert!(NefNeuron::from(Lif {
            min_voltage: f64::NEG_INFINITY,
            ..Lif::default()
        })
        .validate()
        .is_ok());
    }
}
