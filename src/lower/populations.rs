//! Lowers populations: the population table of the merged neuron update, per-neuron initial
//! potentials and constant drives, spike-source schedules, and the parameters and state of
//! user-defined neuron models.

use super::fixed_point::ChannelScale;
use super::layout::{PopRecord, KIND_CUSTOM, KIND_LIF, KIND_SPIKE_SOURCE, LIF_ROW};
use super::propagators::Propagators;
use crate::error::Result;
use crate::model::neuron_model::NeuronModel;
use crate::model::neuron_parameters;
use crate::model::{LifCurrent, Network, NeuronKind};
use crate::rng::{stream, KeyHasher};

pub struct Populations {
    pub pops: Vec<PopRecord>,
    /// Per neuron its potential (a user-defined model's first state variable); then the
    /// parameters of every user-defined population, then the rest of their state, neuron-major
    /// (see `PopRecord.aux` and `params`).
    pub v_init: Vec<f32>,
    /// Per neuron: the constant part of a LifCurrent's v update, or a user-defined model's
    /// `i_ext` (pA); then the rows of LIF populations with per-neuron parameters (see
    /// `PopRecord.each`).
    pub v_drive: Vec<f32>,
    /// The distinct user-defined models: populations of kind `KIND_CUSTOM + k` run `k`.
    pub neuron_models: Vec<NeuronModel>,
    /// Spike-source schedules: per-neuron pointers, then sorted spike steps.
    pub aux: Vec<u32>,
    /// The per-neuron arrays the network was given, as built.
    pub arrays: Vec<NeuronArray>,
}

/// One per-neuron array of a network as built (a parameter, an initial state or the constant
/// input current of each neuron of a population): what a checkpoint keeps so that a network
/// that differs from its own is refused with the array named.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuronArray {
    pub population: String,
    /// A parameter's name (`v_th_mv`), `initial <var>`, or `input current` (pA).
    pub what: String,
    /// One value per neuron of the population.
    pub values: Vec<f64>,
}

/// `starts`: first global neuron of each population; `poisson_ranges`: (first, count) of each
/// population's Poisson sources in the plan's table.
pub fn lower(
    net: &Network,
    starts: &[u32],
    scales: &[[ChannelScale; 2]],
    poisson_ranges: &[(u32, u32)],
) -> Result<Populations> {
    let n = net.neuron_count() as usize;
    let mut out = Lowering {
        net,
        extra_current: extra_currents(net, starts)?,
        pops: Vec::new(),
        v_init: vec![0.0f32; n],
        v_drive: vec![0.0f32; n],
        aux: Vec::new(),
        neuron_models: Vec::new(),
        params: Vec::new(),
        vars: Vec::new(),
        rows: Vec::new(),
        arrays: Vec::new(),
    };
    for (p, pop) in net.populations.iter().enumerate() {
        let (p_start, p_count) = poisson_ranges[p];
        let [ex, inh] = scales[p];
        let mut rec = PopRecord {
            start: starts[p],
            count: pop.size,
            poisson_start: p_start,
            poisson_count: p_count,
            inv_scale_ex: ex.inverse_f32(),
            inv_scale_in: inh.inverse_f32(),
            ..Default::default()
        };
        let each = net.parameter_arrays(p)?;
        match &pop.kind {
            NeuronKind::Lif(lif) if each.is_empty() => out.lif(&mut rec, &pop.name, lif),
            NeuronKind::Lif(lif) => out.lif_each(&mut rec, &pop.name, lif, &each),
            NeuronKind::Custom(model) => out.custom(&mut rec, &pop.name, model, &each),
            NeuronKind::SpikeSource(times) => out.spike_source(&mut rec, times),
        }
        out.set_initial(p, &rec)?;
        out.keep_arrays(p, &rec, each);
        out.pops.push(rec);
    }
    out.finish()
}

/// Per neuron, the sum of the network's constant current inputs onto it (pA).
fn extra_currents(net: &Network, starts: &[u32]) -> Result<Vec<f64>> {
    let mut extra = vec![0.0f64; net.neuron_count() as usize];
    for c in &net.currents {
        let r = net.resolve(&c.target)?;
        let s = starts[c.target.pop.index];
        let first = (s + r.start) as usize;
        for (k, x) in extra[first..(s + r.end) as usize].iter_mut().enumerate() {
            *x += c.amplitude_pa.at(k);
        }
    }
    Ok(extra)
}

/// The tables being filled, population by population.
struct Lowering<'a> {
    net: &'a Network,
    extra_current: Vec<f64>,
    pops: Vec<PopRecord>,
    v_init: Vec<f32>,
    v_drive: Vec<f32>,
    aux: Vec<u32>,
    neuron_models: Vec<NeuronModel>,
    /// User-defined models' parameters and state after their first variable, each relative
    /// to its own section until `finish` knows where the sections start.
    params: Vec<f32>,
    vars: Vec<f32>,
    /// Rows of LIF populations with per-neuron parameters, relative to their section (after
    /// the neurons in `v_drive`).
    rows: Vec<f32>,
    arrays: Vec<NeuronArray>,
}

impl Lowering<'_> {
    fn lif(&mut self, rec: &mut PopRecord, name: &str, lif: &crate::model::LifCurrent) {
        let net = self.net;
        let pr = Propagators::new(lif, net.dt_ms);
        rec.kind = KIND_LIF;
        rec.n_ref = (lif.t_ref_ms / net.dt_ms).round() as u32;
        rec.p22 = pr.p22 as f32;
        rec.p21_ex = pr.p21_ex as f32;
        rec.p21_in = pr.p21_in as f32;
        rec.p11_ex = pr.p11_ex as f32;
        rec.p11_in = pr.p11_in as f32;
        rec.v_th = lif.v_th_mv as f32;
        rec.v_reset = lif.v_reset_mv as f32;
        let key = KeyHasher::default().str("v_init").str(name).finish();
        for i in 0..rec.count {
            let g = (rec.start + i) as usize;
            let v0 = lif.v_init_mv.sample(&mut stream(net.seed, key, i as u64));
            self.v_init[g] = v0 as f32;
            self.v_drive[g] = pr.v_drive(lif, lif.i_e_pa + self.extra_current[g]) as f32;
        }
    }

    /// A LIF population whose parameters differ from neuron to neuron (`each`, from
    /// `Network::parameter_arrays`): each neuron's row holds exactly what `lif` would put in
    /// the record of a population of that neuron alone, computed the same way, so it runs
    /// bit for bit as that population would.
    fn lif_each(
        &mut self,
        rec: &mut PopRecord,
        name: &str,
        lif: &LifCurrent,
        each: &[(String, Vec<f64>)],
    ) {
        let net = self.net;
        // The population's own values stay in the record (the kernel reads the rows instead);
        // its longest refractory period bounds every counter a checkpoint may hold.
        self.lif(rec, name, lif);
        rec.each = LIF_ROW;
        rec.params = self.rows.len() as u32;
        let mut longest = 0;
        for i in 0..rec.count {
            let g = (rec.start + i) as usize;
            let own = neuron_parameters(lif, each, i as usize);
            let pr = Propagators::new(&own, net.dt_ms);
            let n_ref = (own.t_ref_ms / net.dt_ms).round() as u32;
            longest = longest.max(n_ref);
            self.v_drive[g] = pr.v_drive(&own, own.i_e_pa + self.extra_current[g]) as f32;
            self.rows.extend([
                pr.p22 as f32,
                pr.p21_ex as f32,
                pr.p21_in as f32,
                pr.p11_ex as f32,
                pr.p11_in as f32,
                own.v_th_mv as f32,
                own.v_reset_mv as f32,
                n_ref as f32,
            ]);
        }
        rec.n_ref = longest;
    }

    fn custom(
        &mut self,
        rec: &mut PopRecord,
        name: &str,
        model: &NeuronModel,
        each: &[(String, Vec<f64>)],
    ) {
        let net = self.net;
        let k = match self.neuron_models.iter().position(|m| m.same_code(model)) {
            Some(k) => k,
            None => {
                self.neuron_models.push(model.clone());
                self.neuron_models.len() - 1
            }
        };
        rec.kind = KIND_CUSTOM + k as u32;
        rec.n_ref = (model.refractory_ms / net.dt_ms).round() as u32;
        // Relative to their sections for now: the sections' starts are known at the end.
        rec.params = self.params.len() as u32;
        rec.aux = self.vars.len() as u32;
        if each.is_empty() {
            self.params
                .extend(model.params.iter().map(|(_, p)| *p as f32));
        } else {
            // One row of parameters per neuron, in the model's order.
            rec.each = model.params.len() as u32;
            let columns: Vec<Option<&Vec<f64>>> = model
                .params
                .iter()
                .map(|(n, _)| each.iter().find(|(e, _)| e == n).map(|(_, v)| v))
                .collect();
            for i in 0..rec.count as usize {
                for ((_, shared), column) in model.params.iter().zip(&columns) {
                    self.params
                        .push(column.map_or(*shared, |values| values[i]) as f32);
                }
            }
        }
        let rest = model.state.len() - 1;
        let first = self.vars.len();
        let (start, size) = (rec.start, rec.count);
        self.vars.resize(first + size as usize * rest, 0.0);
        for (j, (var, init)) in model.state.iter().enumerate() {
            let key = KeyHasher::default()
                .str("neuron_state")
                .str(name)
                .str(var)
                .finish();
            for i in 0..size {
                let x = init.sample(&mut stream(net.seed, key, i as u64)) as f32;
                match j {
                    0 => self.v_init[(start + i) as usize] = x,
                    _ => self.vars[first + i as usize * rest + j - 1] = x,
                }
            }
        }
        for i in start..start + size {
            self.v_drive[i as usize] = self.extra_current[i as usize] as f32;
        }
    }

    fn spike_source(&mut self, rec: &mut PopRecord, times: &[Vec<f64>]) {
        let (aux, size) = (&mut self.aux, rec.count as usize);
        rec.kind = KIND_SPIKE_SOURCE;
        rec.aux = aux.len() as u32;
        let ptr_base = aux.len();
        aux.resize(ptr_base + size + 1, 0);
        let mut steps_all = Vec::new();
        for (i, t) in times.iter().enumerate() {
            let mut steps: Vec<u32> = t
                .iter()
                .map(|t| (t / self.net.dt_ms).round() as u32)
                .collect();
            steps.sort_unstable();
            steps.dedup();
            aux[ptr_base + i] = (ptr_base + size + 1 + steps_all.len()) as u32;
            steps_all.extend(steps);
        }
        aux[ptr_base + size] = (ptr_base + size + 1 + steps_all.len()) as u32;
        aux.extend(steps_all);
    }

    /// Writes the network's per-neuron initial values for population `p` over what its
    /// distributions drew (later arrays win where they overlap).
    fn set_initial(&mut self, p: usize, rec: &PopRecord) -> Result<()> {
        let net = self.net;
        for init in net.initial.iter().filter(|i| i.target.pop.index == p) {
            let range = net.resolve(&init.target)?;
            let (j, rest) = match &net.populations[p].kind {
                NeuronKind::Custom(model) => (
                    model.state_names().position(|v| v == init.var).unwrap_or(0),
                    model.state.len() - 1,
                ),
                _ => (0, 0),
            };
            for (k, &x) in init.values.iter().enumerate() {
                let local = range.start as usize + k;
                match j {
                    0 => self.v_init[rec.start as usize + local] = x as f32,
                    _ => self.vars[rec.aux as usize + local * rest + j - 1] = x as f32,
                }
            }
        }
        Ok(())
    }

    /// Keeps population `p`'s per-neuron arrays as built: its parameters (`each`), initial
    /// states and constant currents given per neuron.
    fn keep_arrays(&mut self, p: usize, rec: &PopRecord, each: Vec<(String, Vec<f64>)>) {
        let net = self.net;
        let population = &net.populations[p].name;
        let neurons = rec.start as usize..(rec.start + rec.count) as usize;
        let mut keep = |what: String, values: Vec<f64>| {
            self.arrays.push(NeuronArray {
                population: population.clone(),
                what,
                values,
            })
        };
        for (name, values) in each {
            keep(name, values);
        }
        let mut vars: Vec<&str> = Vec::new();
        for init in net.initial.iter().filter(|i| i.target.pop.index == p) {
            if !vars.contains(&init.var.as_str()) {
                vars.push(&init.var);
            }
        }
        for var in vars {
            let values = match &net.populations[p].kind {
                NeuronKind::Custom(model)
                    if model.state_names().position(|v| v == var) != Some(0) =>
                {
                    let j = model.state_names().position(|v| v == var).unwrap_or(0);
                    let rest = model.state.len() - 1;
                    (0..rec.count as usize)
                        .map(|k| self.vars[rec.aux as usize + k * rest + j - 1] as f64)
                        .collect()
                }
                _ => self.v_init[neurons.clone()]
                    .iter()
                    .map(|&x| x as f64)
                    .collect(),
            };
            keep(format!("initial {var}"), values);
        }
        let per_neuron_current = net.currents.iter().any(|c| {
            c.target.pop.index == p && matches!(c.amplitude_pa, crate::model::PerNeuron::Each(_))
        });
        if per_neuron_current {
            keep("input current".into(), self.extra_current[neurons].to_vec());
        }
    }

    /// Places the user-defined models' parameters and state after the potentials, and the
    /// LIF rows after the neurons' drives.
    fn finish(mut self) -> Result<Populations> {
        let n = self.net.neuron_count() as u32;
        if self.aux.is_empty() {
            self.aux.push(0);
        }
        let vars_start = n as usize + self.params.len();
        if vars_start + self.vars.len() > u32::MAX as usize {
            return Err(crate::Error::Build(format!(
                "the user-defined neuron models hold {} state values, more than a u32 index \
                 reaches; split the model into smaller networks",
                self.vars.len()
            )));
        }
        for rec in self.pops.iter_mut().filter(|r| r.kind >= KIND_CUSTOM) {
            rec.params += n;
            rec.aux += vars_start as u32;
        }
        if n as usize + self.rows.len() > u32::MAX as usize {
            return Err(crate::Error::Build(format!(
                "the per-neuron parameters of LIF populations hold {} values, more than a u32 \
                 index reaches; split the network",
                self.rows.len()
            )));
        }
        for rec in self
            .pops
            .iter_mut()
            .filter(|r| r.kind == KIND_LIF && r.each != 0)
        {
            rec.params += n;
        }
        self.v_init.extend(self.params);
        self.v_init.extend(self.vars);
        self.v_drive.extend(self.rows);
        Ok(Populations {
            pops: self.pops,
            v_init: self.v_init,
            v_drive: self.v_drive,
            neuron_models: self.neuron_models,
            aux: self.aux,
            arrays: self.arrays,
        })
    }
}
