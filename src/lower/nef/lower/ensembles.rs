//! Ensembles: encoders, gains and biases drawn from the network seed, and their signals (decoded
//! input, encoded currents, neuron inputs, biases, outputs, voltages, refractory times and live
//! mask) and operators (encoders, neurons).

use super::{context, span, EnsSignals, Lowering, ModelSignals, Op, OpRows};
use crate::error::{invalid, Error, Result};
use crate::lower::nef::layout::*;
use crate::lower::nef::plan::BuiltEnsemble;
use crate::model::nef::network::NefNetwork;
use crate::model::nef::{
    default_n_eval_points, Ensemble, ModelNeuron, NefDist, NefNeuron, RateCurve,
};
use crate::model::neuron_model::NeuronModel;
use crate::rng::{stream, KeyHasher, StreamRng};
use ndarray::Array2;
use rand::Rng;

/// Random streams of an ensemble, by purpose.
const DRAW_ENCODERS: u64 = 0;
const DRAW_MAX_RATES: u64 = 1;
const DRAW_INTERCEPTS: u64 = 2;
const DRAW_EVAL_POINTS: u64 = 3;
const DRAW_VOLTAGE: u64 = 4;

/// The key of an ensemble's random streams: its name, so that adding an ensemble leaves the
/// others' draws alone.
pub(super) fn ensemble_key(name: &str) -> u64 {
    KeyHasher::default().str("nef-ensemble").str(name).finish()
}

/// Gains, biases, and the max rates and intercepts they came from (empty when given directly).
struct GainBias {
    gain: Vec<f64>,
    bias: Vec<f64>,
    max_rates: Vec<f64>,
    intercepts: Vec<f64>,
}

/// What an ensemble draws from the network seed, and how its errors are labelled.
struct Draws<'e> {
    e: &'e Ensemble,
    name: &'e str,
    seed: u64,
    key: u64,
    /// The network's time step (s), at which a model's rates are measured.
    dt: f64,
}

impl Draws<'_> {
    fn ctx(&self, err: Error) -> Error {
        context(err, &format!("ensemble `{}`", self.name))
    }

    fn rng(&self, purpose: u64) -> StreamRng {
        stream(self.seed, self.key, purpose)
    }

    /// Encoders scaled to unit length.
    fn unit_encoders(&self) -> Result<Array2<f64>> {
        let (n, d) = (self.e.n_neurons, self.e.dimensions);
        let mut encoders = self
            .e
            .encoders
            .sample(n, d, &mut self.rng(DRAW_ENCODERS))
            .map_err(|err| self.ctx(err))?;
        for (i, mut row) in encoders.rows_mut().into_iter().enumerate() {
            let norm = row.dot(&row).sqrt();
            if !(norm.is_finite() && norm > 0.0) {
                return Err(invalid!(
                    "ensemble `{}`: encoder {i} has length {norm}; encoders must be non-zero \
                     and finite",
                    self.name
                ));
            }
            row /= norm;
        }
        Ok(encoders)
    }

    fn gain_bias(&self) -> Result<GainBias> {
        let e = self.e;
        if let Some((gain, bias)) = &e.gain_bias {
            return Ok(GainBias {
                gain: gain.clone(),
                bias: bias.clone(),
                max_rates: Vec::new(),
                intercepts: Vec::new(),
            });
        }
        let column = |dist: &NefDist, purpose| -> Result<Vec<f64>> {
            Ok(dist
                .sample(e.n_neurons, 1, &mut self.rng(purpose))?
                .column(0)
                .to_vec())
        };
        let max_rates = column(&e.max_rates, DRAW_MAX_RATES).map_err(|err| self.ctx(err))?;
        let intercepts = column(&e.intercepts, DRAW_INTERCEPTS).map_err(|err| self.ctx(err))?;
        let (gain, bias) = e
            .neuron
            .gain_bias_at(&max_rates, &intercepts, self.dt)
            .map_err(|err| self.ctx(err))?;
        Ok(GainBias {
            gain,
            bias,
            max_rates,
            intercepts,
        })
    }

    /// m x d, scaled by the radius.
    fn eval_points(&self) -> Result<Array2<f64>> {
        let e = self.e;
        let (n, d) = (e.n_neurons, e.dimensions);
        let m = match (&e.eval_points, e.n_eval_points) {
            (NefDist::Array(a), _) => a.nrows(),
            (_, Some(m)) => m,
            (_, None) => default_n_eval_points(n, d),
        };
        Ok(e.eval_points
            .sample(m, d, &mut self.rng(DRAW_EVAL_POINTS))
            .map_err(|err| self.ctx(err))?
            * e.radius)
    }

    /// Nengo starts LIF and spiking rectified linear voltages uniform in [0, 1).
    fn initial_voltages(&self) -> Result<Vec<f64>> {
        let e = self.e;
        let n = e.n_neurons;
        let mut vrng = self.rng(DRAW_VOLTAGE);
        Ok(match &e.initial_voltage {
            _ if !e.neuron.is_spiking() => vec![0.0; n],
            None if matches!(e.neuron, NefNeuron::Model(_)) => self.model_state(0),
            Some(dist) => dist
                .sample(n, 1, &mut vrng)
                .map_err(|err| self.ctx(err))?
                .column(0)
                .to_vec(),
            None => (0..n).map(|_| vrng.random::<f64>()).collect(),
        })
    }

    /// State variable `q` of a model's neurons, drawn from its initial distribution (keyed by
    /// the ensemble and the variable's name).
    fn model_state(&self, q: usize) -> Vec<f64> {
        let NefNeuron::Model(m) = &self.e.neuron else {
            return Vec::new();
        };
        let (var, init) = &m.model.state[q];
        let key = KeyHasher::default()
            .str("nef-neuron-state")
            .str(self.name)
            .str(var)
            .finish();
        let mut rng = stream(self.seed, key, 0);
        (0..self.e.n_neurons)
            .map(|_| init.sample(&mut rng))
            .collect()
    }

    /// A model's rate curve over the currents its neurons receive for inputs within the
    /// radius (and the ensemble's eval points, which may lie beyond it).
    fn rate_curve(
        &self,
        m: &ModelNeuron,
        gain: &[f64],
        bias: &[f64],
        points: &Array2<f64>,
    ) -> RateCurve {
        let reach = points
            .rows()
            .into_iter()
            .map(|p| p.dot(&p).sqrt() / self.e.radius)
            .fold(1.0, f64::max);
        let low = gain
            .iter()
            .zip(bias)
            .map(|(g, b)| b - g * reach)
            .fold(f64::INFINITY, f64::min);
        let high = gain
            .iter()
            .zip(bias)
            .map(|(g, b)| b + g * reach)
            .fold(f64::NEG_INFINITY, f64::max);
        RateCurve::measure(m, self.dt, low, high)
    }
}

/// Encoders times gain / radius: what turns the decoded input into currents.
fn scaled_encoders(encoders: &Array2<f64>, gain: &[f64], radius: f64) -> Array2<f64> {
    let mut scaled = encoders.clone();
    for (i, mut row) in scaled.rows_mut().into_iter().enumerate() {
        row *= gain[i] / radius;
    }
    scaled
}

impl Lowering<'_> {
    pub(super) fn ensemble(
        &mut self,
        index: usize,
        name: &str,
        e: &Ensemble,
    ) -> Result<BuiltEnsemble> {
        let draws = Draws {
            e,
            name,
            seed: self.net.seed,
            key: ensemble_key(name),
            dt: self.net.dt,
        };
        if let NefNeuron::Model(m) = &e.neuron {
            m.check_dt(self.net.dt).map_err(|err| draws.ctx(err))?;
        }
        let encoders = draws.unit_encoders()?;
        let GainBias {
            gain,
            bias,
            max_rates,
            intercepts,
        } = draws.gain_bias()?;
        let eval_points = draws.eval_points()?;
        let scaled_encoders = scaled_encoders(&encoders, &gain, e.radius);
        let v0 = draws.initial_voltages()?;
        let model = match &e.neuron {
            NefNeuron::Model(m) => Some(ModelLayout {
                kind: self.neuron_model_kind(&m.model),
                state: (1..m.model.state.len())
                    .map(|q| draws.model_state(q))
                    .collect(),
                params: m.model.params.iter().map(|(_, p)| *p).collect(),
                n_ref: (m.model.refractory_ms / (self.net.dt * 1e3)).round() as f32,
            }),
            _ => None,
        };
        let rate_curve = match &e.neuron {
            NefNeuron::Model(m) => Some(draws.rate_curve(m, &gain, &bias, &eval_points)),
            _ => None,
        };

        let encoders_w = self.w.len();
        let signals = self
            .ensemble_signals(
                index,
                name,
                (e.n_neurons, e.dimensions),
                &scaled_encoders,
                NeuronStart {
                    bias: &bias,
                    v0,
                    model,
                },
            )
            .map_err(|err| draws.ctx(err))?;
        let built = BuiltEnsemble {
            name: name.to_string(),
            neuron: e.neuron.clone(),
            radius: e.radius,
            gain,
            bias,
            encoders,
            scaled_encoders,
            eval_points,
            max_rates,
            intercepts,
            input: signals.input as usize,
            out: signals.out as usize,
            voltage: signals.voltage as usize,
            encoders_w,
            rate_curve,
        };
        self.ens.push(signals);
        Ok(built)
    }

    /// Lays out the ensemble's signals in the order `EnsRecord` relies on (biases just before
    /// the outputs, refractory times and the live mask just after the voltages), and adds its
    /// encoder and neuron operators.
    fn ensemble_signals(
        &mut self,
        index: usize,
        name: &str,
        (n, d): (usize, usize),
        scaled_encoders: &Array2<f64>,
        start: NeuronStart,
    ) -> Result<EnsSignals> {
        let NeuronStart { bias, v0, model } = start;
        let input = self.alloc(d, 0.0);
        let j_enc = self.matvec(scaled_encoders, input, format!("encoders of `{name}`"))?;
        let neuron_in = self.alloc(n, 0.0);
        let bias_at = self.alloc_values(bias.iter().copied());
        let out = self.alloc(n, 0.0);
        debug_assert_eq!(out, bias_at + n as u32, "EnsRecord.bias is out - n");
        let voltage = self.alloc_values(v0);
        let refractory = self.alloc(n, 0.0);
        // 1 for a live neuron, 0 for an ablated one (`Simulator::ablate`).
        let _alive = self.alloc(n, 1.0);
        debug_assert_eq!(
            refractory,
            voltage + n as u32,
            "EnsRecord.refractory is voltage + n"
        );
        // A model's other state variables (variable-major) and its parameters.
        let model = model.map(|m| {
            let state = self.alloc_values(m.state.into_iter().flatten());
            let params = self.alloc_values(m.params.iter().copied());
            ModelSignals {
                kind: m.kind,
                state,
                params,
                n_ref: m.n_ref,
            }
        });
        self.ops.push(Op {
            rows: OpRows::Neurons(
                (0..n as u32)
                    .map(|i| NeuronRow {
                        ens: index as u32,
                        index: i,
                    })
                    .collect(),
            ),
            reads: vec![span(j_enc, n as u32), span(neuron_in, n as u32)],
            writes: vec![span(out, n as u32)],
            what: format!("neurons of `{name}`"),
        });
        Ok(EnsSignals {
            input,
            j_enc,
            neuron_in,
            out,
            voltage,
            model,
        })
    }

    /// The kind of ensembles of `model`: `NEF_CUSTOM + k` for the `k`-th distinct model
    /// (models of the same code share one function of the kernel, and on the CPU the first
    /// one's Rust twin).
    fn neuron_model_kind(&mut self, model: &NeuronModel) -> u32 {
        let k = match self.neuron_models.iter().position(|m| m.same_code(model)) {
            Some(k) => k,
            None => {
                self.neuron_models.push(model.clone());
                self.neuron_models.len() - 1
            }
        };
        NEF_CUSTOM + k as u32
    }
}

/// The initial values of an ensemble's neurons: biases, first state variable (the voltage),
/// and a model's other state and parameters.
struct NeuronStart<'b> {
    bias: &'b [f64],
    v0: Vec<f64>,
    model: Option<ModelLayout>,
}

/// What a model's ensemble needs besides the common signals: its kind, the initial values
/// of its state after the first variable (per variable, per neuron) and its parameters.
struct ModelLayout {
    kind: u32,
    state: Vec<Vec<f64>>,
    params: Vec<f64>,
    n_ref: f32,
}

/// Nengo's firing rates of an ensemble's neurons at the given points (rows).
pub fn ensemble_rates(ens: &BuiltEnsemble, points: &Array2<f64>) -> Array2<f64> {
    use rayon::prelude::*;
    let n = ens.gain.len();
    let rows: Vec<f64> = (0..points.nrows())
        .into_par_iter()
        .flat_map_iter(|p| {
            let point = points.row(p);
            (0..n).map(move |i| {
                let x = ens.encoders.row(i).dot(&point) / ens.radius;
                let j = ens.gain[i] * x + ens.bias[i];
                match &ens.rate_curve {
                    Some(curve) => curve.rate(j),
                    None => ens.neuron.rate(j),
                }
            })
        })
        .collect();
    Array2::from_shape_vec((points.nrows(), n), rows).expect("rows of n rates")
}

pub(super) fn ensemble_records(
    net: &NefNetwork,
    sigs: &[EnsSignals],
    built: &[BuiltEnsemble],
) -> Vec<EnsRecord> {
    sigs.iter()
        .zip(built)
        .map(|(s, b)| ensemble_record(net.dt, s, b))
        .collect()
}

/// What the neuron kernel reads of one ensemble: its signals, and its neuron parameters in
/// float32 with the constants that depend on `dt` computed here in float64.
fn ensemble_record(dt: f64, s: &EnsSignals, b: &BuiltEnsemble) -> EnsRecord {
    let mut r = EnsRecord {
        n: b.gain.len() as u32,
        j_enc: s.j_enc,
        neuron_in: s.neuron_in,
        bias: s.out - b.gain.len() as u32,
        out: s.out,
        voltage: s.voltage,
        refractory: s.voltage + b.gain.len() as u32,
        dt: dt as f32,
        ..EnsRecord::default()
    };
    match b.neuron {
        NefNeuron::Lif(p) => {
            r.kind = NEF_LIF;
            r.tau_rc = p.tau_rc as f32;
            r.inv_tau_rc = (1.0 / p.tau_rc) as f32;
            r.tau_ref = p.tau_ref as f32;
            r.min_voltage = p.min_voltage as f32;
            r.amplitude = p.amplitude as f32;
            r.amp_over_dt = (p.amplitude / dt) as f32;
            r.expm1_dt = (-dt / p.tau_rc).exp_m1() as f32;
        }
        NefNeuron::LifRate(p) => {
            r.kind = NEF_LIF_RATE;
            r.tau_rc = p.tau_rc as f32;
            r.tau_ref = p.tau_ref as f32;
            r.amplitude = p.amplitude as f32;
        }
        NefNeuron::RectifiedLinear(p) => {
            r.kind = NEF_RELU;
            r.amplitude = p.amplitude as f32;
        }
        NefNeuron::SpikingRectifiedLinear(p) => {
            r.kind = NEF_SPIKING_RELU;
            r.amplitude = p.amplitude as f32;
            r.amp_over_dt = (p.amplitude / dt) as f32;
        }
        NefNeuron::Model(_) => {
            let m = s
                .model
                .as_ref()
                .expect("a model's ensemble has its model signals");
            r.kind = m.kind;
            r.params = m.params;
            r.state = m.state;
            r.n_ref = m.n_ref;
            r.amplitude = 1.0;
            r.amp_over_dt = (1.0 / dt) as f32;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use crate::lower::nef::layout::{EnsRecord, MatVecRow, NeuronRow, NEF_LIF};
    use crate::lower::nef::{build_nef, NefDispatch};
    use crate::model::nef::{Ensemble, NefDist, NefNetwork};
    use ndarray::array;

    #[test]
    fn an_ensemble_lays_out_its_signals_gain_bias_rows_and_encoders() {
        let mut net = NefNetwork::new().with_seed(1);
        let encoders = array![[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]];
        net.ensemble(
            "a",
            Ensemble::new(3, 2)
                .radius(2.0)
                .encoders(NefDist::Array(encoders))
                .gain_bias(vec![1.0, 2.0, 3.0], vec![0.5, -0.25, 0.125])
                .n_eval_points(7),
        )
        .unwrap();
        let plan = build_nef(&net).unwrap();
        let b = &plan.built_ensembles[0];
        // input 0..2, encoded currents 2..5, neuron input 5..8, biases 8..11, outputs 11..14,
        // voltages 14..17, refractory times 17..20, live mask 20..23.
        assert_eq!((b.input, b.out, b.voltage, b.encoders_w), (0, 11, 14, 0));
        assert_eq!((b.bias_at(), b.alive_at()), (8, 20));
        assert_eq!(plan.sig.len(), 23);
        assert_eq!(plan.sig[8..11], [0.5, -0.25, 0.125]);
        assert!(plan.sig[14..17].iter().all(|v| (0.0..1.0).contains(v)));
        assert_eq!(plan.sig[17..20], [0.0; 3]);
        assert_eq!(plan.sig[20..23], [1.0; 3]);
        assert_eq!(
            plan.ensembles[0],
            EnsRecord {
                n: 3,
                j_enc: 2,
                neuron_in: 5,
                bias: 8,
                out: 11,
                voltage: 14,
                refractory: 17,
                kind: NEF_LIF,
                ..plan.ensembles[0]
            }
        );
        // Unit encoders times gain / radius, row-major.
        let scaled = [0.5, 0.0, 0.0, 1.0, 0.6 * 1.5, 0.8 * 1.5];
        assert_eq!(plan.w, scaled.map(|x: f64| x as f32));
        assert_eq!(
            b.scaled_encoders.row(2).to_vec(),
            vec![0.6 * 1.5, 0.8 * 1.5]
        );
        assert!(b.max_rates.is_empty() && b.intercepts.is_empty());
        assert_eq!(b.eval_points.dim(), (7, 2));
        assert!(b
            .eval_points
            .rows()
            .into_iter()
            .all(|p| p.dot(&p).sqrt() <= 2.0 + 1e-12));

        let encode = (0..3)
            .map(|r| MatVecRow {
                dst: 2 + r,
                w_off: 2 * r,
                x_off: 0,
                cols: 2,
            })
            .collect();
        let neurons = (0..3).map(|index| NeuronRow { ens: 0, index }).collect();
        assert_eq!(
            plan.dispatches,
            [
                NefDispatch::MatVec { rows: encode },
                NefDispatch::Neurons { rows: neurons },
                NefDispatch::Advance
            ]
        );
    }

    #[test]
    fn a_zero_encoder_is_refused_with_the_ensemble_and_row() {
        let mut net = NefNetwork::new();
        net.ensemble(
            "z",
            Ensemble::new(2, 1).encoders(NefDist::Array(array![[1.0], [0.0]])),
        )
        .unwrap();
        let err = build_nef(&net).err().unwrap().to_string();
        assert!(
            err.contains("ensemble `z`: encoder 1 has length 0"),
            "{err}"
        );
    }
}
