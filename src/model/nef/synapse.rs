//! Synaptic filters of the NEF path, discretised as Nengo 4 does (`nengo/synapses.py`:
//! `LinearFilter` with zero-order hold).
//!
//! # Timing, as in a Nengo simulation
//!
//! Nengo's `LinearFilter` steps for `Lowpass` (`OneX`: `X = a X + b u; y = X`) and `Alpha`
//! (`NoD`: `x[t] = A x[t-1] + B u[t]; y[t] = C x[t]`) have no feed-through, so they first update
//! the state with this step's input and then read the output from the new state: the filter
//! itself adds no delay ([`DiscreteFilter::step`] does the same). The delay is in the simulator:
//! the filter writes its output signal as an *update*, which Nengo orders after every operator
//! that reads that signal. So within step `n`, the consumers of a filtered connection (the post
//! ensemble's input, a probe) read the output of step `n - 1`, and only then the filter consumes
//! `u[n]`. A value set on a Node at step `n` first appears in a probe with a `Lowpass` (or an
//! `Alpha`, or a post object behind a filtered connection) at step `n + 1`:
//! `probe[n] = y[n - 1]`, with `y` the sequence [`DiscreteFilter::step`] returns (Nengo's
//! `synapse.filt`). With no synapse (`Synapse::None`), there is no filter and no delay.

use crate::error::{invalid, Result};

/// A synapse model: the filter applied to what a connection carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Synapse {
    /// No filter, and no step of delay.
    None,
    /// First-order lowpass, impulse response `exp(-t / tau) / tau` (`tau` in seconds).
    Lowpass { tau: f64 },
    /// Alpha function, impulse response `t exp(-t / tau) / tau^2` (`tau` in seconds).
    Alpha { tau: f64 },
}

impl Default for Synapse {
    /// Nengo's default connection synapse: `Lowpass(0.005)`.
    fn default() -> Self {
        Synapse::Lowpass { tau: 0.005 }
    }
}

/// A linear filter of order 1 or 2 discretised for one time step `dt`, in state-space form.
///
/// One step ([`DiscreteFilter::step`]) is `x_new = A x + B u; y = C x_new + D u`, unused
/// entries zero. Realisations (exact zero-order hold, `a = exp(-dt / tau)`, `r = dt / tau`):
///
/// - Lowpass (order 1): `A = [[a, 0], [0, 0]]`, `B = [1 - a, 0]`, `C = [1, 0]`, `D = 0`;
///   so `y = a y_prev + (1 - a) u`.
/// - Alpha (order 2): two lowpasses in cascade, `x0` the first and `x1 = y` the second:
///   `A = [[a, 0], [r a, a]]`, `B = [1 - a, 1 - a - r a]`, `C = [0, 1]`, `D = 0`.
///   (Nengo's controllable canonical realisation has the same transfer function, so the same
///   output up to rounding.)
/// - `tau = 0` (Lowpass or Alpha): the identity, `A = 0`, `B = [1, 0]`, `C = [1, 0]`, as Nengo's
///   pass-through `NoX` step; it still sits behind the simulation's step of delay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiscreteFilter {
    /// Number of state variables in use: 1 or 2.
    pub order: usize,
    pub a: [[f64; 2]; 2],
    pub b: [f64; 2],
    pub c: [f64; 2],
    pub d: f64,
}

impl Synapse {
    /// A lowpass filter with time constant `tau` seconds.
    pub fn lowpass(tau: f64) -> Synapse {
        Synapse::Lowpass { tau }
    }

    /// An alpha filter with time constant `tau` seconds.
    pub fn alpha(tau: f64) -> Synapse {
        Synapse::Alpha { tau }
    }

    /// Checks that `tau` is finite and >= 0 (0 passes values through, as in Nengo).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Synapse::None => Ok(()),
            Synapse::Lowpass { tau } | Synapse::Alpha { tau } => {
                if tau.is_finite() && tau >= 0.0 {
                    Ok(())
                } else {
                    Err(invalid!(
                        "synapse {self:?}: tau must be a finite number of seconds >= 0, got \
                         {tau}; use Synapse::None for no filter"
                    ))
                }
            }
        }
    }

    /// The filter discretised for steps of `dt` seconds by zero-order hold; `None` for
    /// `Synapse::None`.
    pub fn discretize(&self, dt: f64) -> Result<Option<DiscreteFilter>> {
        self.validate()?;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(invalid!(
                "synapse {self:?}: the time step must be a positive number of seconds, got {dt}"
            ));
        }
        let (tau, second_order) = match *self {
            Synapse::None => return Ok(None),
            Synapse::Lowpass { tau } => (tau, false),
            Synapse::Alpha { tau } => (tau, true),
        };
        let r = dt / tau;
        if !r.is_finite() {
            return Ok(Some(DiscreteFilter {
                order: 1,
                a: [[0.0; 2]; 2],
                b: [1.0, 0.0],
                c: [1.0, 0.0],
                d: 0.0,
            }));
        }
        let a = (-r).exp();
        let one_minus_a = -(-r).exp_m1();
        Ok(Some(if second_order {
            DiscreteFilter {
                order: 2,
                a: [[a, 0.0], [r * a, a]],
                b: [one_minus_a, one_minus_a - r * a],
                c: [0.0, 1.0],
                d: 0.0,
            }
        } else {
            DiscreteFilter {
                order: 1,
                a: [[a, 0.0], [0.0, 0.0]],
                b: [one_minus_a, 0.0],
                c: [1.0, 0.0],
                d: 0.0,
            }
        }))
    }
}

impl DiscreteFilter {
    /// One step with this step's input `u`: updates the state `x` (start from zeros) to
    /// `A x + B u` and returns `C x_new + D u`, the filter's output for this step. In a
    /// simulation this output is what the filter's consumers read on the *next* step (see the
    /// module docs).
    #[inline]
    pub fn step(&self, x: &mut [f64; 2], u: f64) -> f64 {
        let x0 = self.a[0][0] * x[0] + self.a[0][1] * x[1] + self.b[0] * u;
        let x1 = self.a[1][0] * x[0] + self.a[1][1] * x[1] + self.b[1] * u;
        *x = [x0, x1];
        self.c[0] * x0 + self.c[1] * x1 + self.d * u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated by benches/peers/nengo_reference_math.py (sections synapse and timing),
    // Nengo 4.1.0, dt = 0.001: `synapse.filt(U, dt=0.001, y0=0)`, and the probes of a real
    // `nengo.Simulator` on a Node that outputs U[n] at step n.
    const U: [f64; 30] = [
        0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        1.0, -2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
    ];
    const LOWPASS_5MS: [f64; 30] = [
        0.0,
        0.0,
        0.18126924692201812,
        0.3296799539643607,
        0.4511883639059735,
        0.5506710358827783,
        0.6321205588285576,
        0.6988057880877978,
        0.7534030360583934,
        0.7981034820053445,
        0.8347011117784133,
        1.5897417044514595,
        1.4828396698070359,
        1.3953156864770384,
        1.3236571096928849,
        1.2649880291578985,
        1.2169538486690963,
        1.1776267879040156,
        1.1454285138274776,
        0.575259055878928,
        0.6522515269567017,
        0.7152876307835421,
        0.766897227540793,
        0.8091515915599079,
        0.843746538834109,
        0.8720704860686088,
        0.8952601727180518,
        0.9142462823321929,
        0.9297907941545995,
        0.9425175640251882,
    ];
    const LOWPASS_20MS: [f64; 30] = [
        0.0,
        0.0,
        0.04877057549928599,
        0.09516258196404043,
        0.1392920235749422,
        0.18126924692201812,
        0.22119921692859512,
        0.2591817793182821,
        0.29531191028128656,
        0.3296799539643607,
        0.36237184837822667,
        0.5885516422845105,
        0.608618215478531,
        0.6277061303495806,
        0.6458631166272877,
        0.6631345762348984,
        0.6795636968177332,
        0.6951915597347961,
        0.7100572427835699,
        0.5778861914170069,
        0.5984729247877949,
        0.6180556313244392,
        0.6366832779934577,
        0.6544024436142308,
        0.6712574353303117,
        0.6872903994003636,
        0.7025414265857598,
        0.7170486523983689,
        0.730848352459199,
        0.7439750332063448,
    ];
    const ALPHA_5MS: [f64; 30] = [
        0.0,
        0.0,
        0.017523096306421772,
        0.06155193555010498,
        0.12190138224955768,
        0.1912078645890011,
        0.2642411176571153,
        0.33737273379315524,
        0.4081672865401442,
        0.4750690532138956,
        0.5371631129795573,
        0.6640865355158486,
        0.8215452502152639,
        0.9329567456138078,
        1.009841047786171,
        1.0610547742966276,
        1.0933781910727034,
        1.111976954278817,
        1.12076467886957,
        1.0701178268858347,
        0.9878579266017711,
        0.9331164372594482,
        0.898619815817048,
        0.8788272437686886,
        0.8695414458050252,
        0.8676036668922052,
        0.8706550850335021,
        0.87695059682911,
        0.8852138283070209,
        0.8945245440119062,
    ];
    const ALPHA_2MS: [f64; 30] = [
        0.0,
        0.0,
        0.09020401043104988,
        0.2642411176571154,
        0.4421745996289254,
        0.5939941502901619,
        0.7127025048163543,
        0.8008517265285444,
        0.864111774599567,
        0.9084218055563295,
        0.9389005190396676,
        1.320388359729687,
        1.669584414554246,
        1.694382662650576,
        1.5960024086976146,
        1.4675383623803333,
        1.3478956697025035,
        1.2500210286329676,
        1.1753071743214483,
        0.8500687245993365,
        0.5597899299712622,
        0.5211548254351681,
        0.5810756753021763,
        0.6679764011692714,
        0.75134866158503,
        0.8205153353390577,
        0.8737478112924262,
        0.9128770715203739,
        0.9407601300547254,
        0.9601891394439084,
    ];
    const SIM_CONN_LOWPASS_5MS: [f64; 30] = [
        0.0,
        0.0,
        0.0,
        0.18126924692201812,
        0.3296799539643607,
        0.4511883639059735,
        0.5506710358827783,
        0.6321205588285576,
        0.6988057880877978,
        0.7534030360583934,
        0.7981034820053445,
        0.8347011117784133,
        1.5897417044514595,
        1.4828396698070359,
        1.3953156864770384,
        1.3236571096928849,
        1.2649880291578985,
        1.2169538486690963,
        1.1776267879040156,
        1.1454285138274776,
        0.575259055878928,
        0.6522515269567017,
        0.7152876307835421,
        0.766897227540793,
        0.8091515915599079,
        0.843746538834109,
        0.8720704860686088,
        0.8952601727180518,
        0.9142462823321929,
        0.9297907941545995,
    ];
    const SIM_PROBE_LOWPASS_5MS: [f64; 30] = [
        0.0,
        0.0,
        0.0,
        0.18126924692201812,
        0.3296799539643607,
        0.4511883639059735,
        0.5506710358827783,
        0.6321205588285576,
        0.6988057880877978,
        0.7534030360583934,
        0.7981034820053445,
        0.8347011117784133,
        1.5897417044514595,
        1.4828396698070359,
        1.3953156864770384,
        1.3236571096928849,
        1.2649880291578985,
        1.2169538486690963,
        1.1776267879040156,
        1.1454285138274776,
        0.575259055878928,
        0.6522515269567017,
        0.7152876307835421,
        0.766897227540793,
        0.8091515915599079,
        0.843746538834109,
        0.8720704860686088,
        0.8952601727180518,
        0.9142462823321929,
        0.9297907941545995,
    ];
    const SIM_PROBE_LOWPASS_20MS: [f64; 30] = [
        0.0,
        0.0,
        0.0,
        0.04877057549928599,
        0.09516258196404043,
        0.1392920235749422,
        0.18126924692201812,
        0.22119921692859512,
        0.2591817793182821,
        0.29531191028128656,
        0.3296799539643607,
        0.36237184837822667,
        0.5885516422845105,
        0.608618215478531,
        0.6277061303495806,
        0.6458631166272877,
        0.6631345762348984,
        0.6795636968177332,
        0.6951915597347961,
        0.7100572427835699,
        0.5778861914170069,
        0.5984729247877949,
        0.6180556313244392,
        0.6366832779934577,
        0.6544024436142308,
        0.6712574353303117,
        0.6872903994003636,
        0.7025414265857598,
        0.7170486523983689,
        0.730848352459199,
    ];
    const SIM_PROBE_ALPHA_5MS: [f64; 30] = [
        0.0,
        0.0,
        0.0,
        0.017523096306421772,
        0.06155193555010498,
        0.12190138224955768,
        0.1912078645890011,
        0.2642411176571153,
        0.33737273379315524,
        0.4081672865401442,
        0.4750690532138956,
        0.5371631129795573,
        0.6640865355158486,
        0.8215452502152639,
        0.9329567456138078,
        1.009841047786171,
        1.0610547742966276,
        1.0933781910727034,
        1.111976954278817,
        1.12076467886957,
        1.0701178268858347,
        0.9878579266017711,
        0.9331164372594482,
        0.898619815817048,
        0.8788272437686886,
        0.8695414458050252,
        0.8676036668922052,
        0.8706550850335021,
        0.87695059682911,
        0.8852138283070209,
    ];
    const SIM_PROBE_ALPHA_2MS: [f64; 30] = [
        0.0,
        0.0,
        0.0,
        0.09020401043104988,
        0.2642411176571154,
        0.4421745996289254,
        0.5939941502901619,
        0.7127025048163543,
        0.8008517265285444,
        0.864111774599567,
        0.9084218055563295,
        0.9389005190396676,
        1.320388359729687,
        1.669584414554246,
        1.694382662650576,
        1.5960024086976146,
        1.4675383623803333,
        1.3478956697025035,
        1.2500210286329676,
        1.1753071743214483,
        0.8500687245993365,
        0.5597899299712622,
        0.5211548254351681,
        0.5810756753021763,
        0.6679764011692714,
        0.75134866158503,
        0.8205153353390577,
        0.8737478112924262,
        0.9128770715203739,
        0.9407601300547254,
    ];

    fn run(syn: Synapse) -> Vec<f64> {
        let f = syn.discretize(0.001).unwrap().unwrap();
        let mut x = [0.0; 2];
        U.iter().map(|&u| f.step(&mut x, u)).collect()
    }

    #[track_caller]
    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= 1e-12, "step {i}: got {g}, want {w}");
        }
    }

    fn cases() -> [(Synapse, &'static [f64; 30], &'static [f64; 30]); 4] {
        [
            (
                Synapse::lowpass(0.005),
                &LOWPASS_5MS,
                &SIM_PROBE_LOWPASS_5MS,
            ),
            (
                Synapse::lowpass(0.02),
                &LOWPASS_20MS,
                &SIM_PROBE_LOWPASS_20MS,
            ),
            (Synapse::alpha(0.005), &ALPHA_5MS, &SIM_PROBE_ALPHA_5MS),
            (Synapse::alpha(0.002), &ALPHA_2MS, &SIM_PROBE_ALPHA_2MS),
        ]
    }

    #[test]
    fn filters_match_nengo_filt() {
        for (syn, filt, _) in cases() {
            assert_close(&run(syn), filt);
        }
    }

    #[test]
    fn a_simulation_sees_the_filter_one_step_late() {
        for (syn, _, probe) in cases() {
            let y = run(syn);
            assert_eq!(probe[0], 0.0);
            assert_close(&y[..29], &probe[1..]);
        }
        // a post Node behind a Lowpass connection sees the same as a Lowpass probe
        assert_eq!(SIM_CONN_LOWPASS_5MS, SIM_PROBE_LOWPASS_5MS);
    }

    #[test]
    fn zero_tau_passes_through_and_none_has_no_filter() {
        for syn in [Synapse::lowpass(0.0), Synapse::alpha(0.0)] {
            assert_eq!(run(syn), U.to_vec());
        }
        assert_eq!(Synapse::None.discretize(0.001).unwrap(), None);
        assert_eq!(Synapse::default(), Synapse::Lowpass { tau: 0.005 });
    }

    #[test]
    fn dc_gain_is_one() {
        for syn in [Synapse::lowpass(0.01), Synapse::alpha(0.01)] {
            let f = syn.discretize(0.001).unwrap().unwrap();
            let mut x = [0.0; 2];
            let y = (0..5000).map(|_| f.step(&mut x, 2.5)).last().unwrap();
            assert!((y - 2.5).abs() < 1e-12, "{syn:?}: {y}");
        }
    }

    #[test]
    fn bad_parameters_are_rejected() {
        for syn in [
            Synapse::lowpass(-0.001),
            Synapse::alpha(f64::NAN),
            Synapse::lowpass(f64::INFINITY),
        ] {
            assert!(matches!(syn.validate(), Err(crate::Error::Validation(_))));
            assert!(syn.discretize(0.001).is_err());
        }
        for dt in [0.0, -1.0, f64::NAN] {
            let e = Synapse::default().discretize(dt).unwrap_err().to_string();
            assert!(e.contains("time step"), "{e}");
        }
    }
}
