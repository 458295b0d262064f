//! State and parameters of user-defined neuron models between steps (`model::neuron_model`),
//! as GeNN's pull and push of a population's variables.

use super::nef_rules::finite_f32;
use super::Simulator;
use crate::error::{Error, Result};
use crate::model::neuron_model::{names, NeuronModel};
use crate::model::PopulationId;

impl Simulator {
    /// The values of state variable `var` of every neuron of `pop`, in neuron order (on
    /// several processes, a collective call: each value from the process that owns it).
    pub fn neuron_state(&mut self, pop: PopulationId, var: &str) -> Result<Vec<f32>> {
        let at = self.state_var(pop, var)?;
        let values = self.backend.read_f32("v", at.first, at.len())?;
        let values = values.into_iter().step_by(at.stride).collect();
        self.values_from_owners(self.plan.pops[pop.index].start, values)
    }

    /// Sets state variable `var` of every neuron of `pop` (one value per neuron), from the
    /// next step on.
    pub fn set_neuron_state(&mut self, pop: PopulationId, var: &str, values: &[f32]) -> Result<()> {
        let at = self.state_var(pop, var)?;
        if values.len() != at.count {
            return Err(Error::Simulation(format!(
                "population `{}` has {} neurons; got {} values of `{var}`",
                self.plan.pop_names[pop.index],
                at.count,
                values.len()
            )));
        }
        let what = format!("`{var}` of population `{}`", self.plan.pop_names[pop.index]);
        let values = finite_f32(values.iter().map(|&x| x as f64), &what)?;
        if at.stride == 1 {
            return self.backend.write_f32("v", at.first, &values);
        }
        // Interleaved with the other variables: read, replace every stride-th value, write.
        let mut all = self.backend.read_f32("v", at.first, at.len())?;
        for (slot, x) in all.iter_mut().step_by(at.stride).zip(&values) {
            *slot = *x;
        }
        self.backend.write_f32("v", at.first, &all)
    }

    /// The current value of parameter `name` of population `pop`. A parameter given per
    /// neuron (`Network::parameter_each`) is read with [`Simulator::neuron_param_each`].
    pub fn neuron_param(&mut self, pop: PopulationId, name: &str) -> Result<f32> {
        let at = self.param(pop, name)?;
        if at.stride != 0 {
            return Err(Error::Simulation(format!(
                "parameter `{name}` of population `{}` has a value per neuron; read them with \
                 Simulator::neuron_param_each",
                self.plan.pop_names[pop.index]
            )));
        }
        Ok(self.backend.read_f32("v", at.first, 1)?[0])
    }

    /// The current value of parameter `name` of each neuron of `pop`, in neuron order (the
    /// same value for each when the population shares one).
    pub fn neuron_param_each(&mut self, pop: PopulationId, name: &str) -> Result<Vec<f32>> {
        let at = self.param(pop, name)?;
        if at.stride == 0 {
            let x = self.backend.read_f32("v", at.first, 1)?[0];
            return Ok(vec![x; at.count]);
        }
        let values = self.backend.read_f32("v", at.first, at.len())?;
        Ok(values.into_iter().step_by(at.stride).collect())
    }

    /// Sets parameter `name` of population `pop` from the next step on (of every neuron, when
    /// it has a value per neuron).
    pub fn set_neuron_param(&mut self, pop: PopulationId, name: &str, value: f64) -> Result<()> {
        let at = self.param(pop, name)?;
        let what = format!(
            "parameter `{name}` of population `{}`",
            self.plan.pop_names[pop.index]
        );
        let value = finite_f32([value], &what)?;
        if at.stride == 0 {
            return self.backend.write_f32("v", at.first, &value);
        }
        let mut all = self.backend.read_f32("v", at.first, at.len())?;
        for slot in all.iter_mut().step_by(at.stride) {
            *slot = value[0];
        }
        self.backend.write_f32("v", at.first, &all)
    }

    /// The model of a user-defined population.
    fn custom_model(&self, pop: PopulationId) -> Result<&NeuronModel> {
        self.global(&pop.into())?;
        match self.plan.neuron_model(pop.index) {
            Some(model) => Ok(model),
            None => Err(Error::Simulation(format!(
                "population `{}` is not of a user-defined neuron model; record a built-in \
                 neuron's state with Network::probe_state",
                self.plan.pop_names[pop.index]
            ))),
        }
    }

    fn state_var(&self, pop: PopulationId, var: &str) -> Result<VarLayout> {
        let model = self.custom_model(pop)?;
        let Some(j) = model.state_names().position(|n| n == var) else {
            return Err(Error::Simulation(format!(
                "neuron model `{}` of population `{}` has no state variable `{var}`; it has {}",
                model.name(),
                self.plan.pop_names[pop.index],
                names(model.state_names())
            )));
        };
        let rec = &self.plan.pops[pop.index];
        let count = rec.count as usize;
        let rest = model.state.len() - 1;
        Ok(match j {
            0 => VarLayout {
                first: rec.start as usize,
                count,
                stride: 1,
            },
            _ => VarLayout {
                first: rec.aux as usize + j - 1,
                count,
                stride: rest,
            },
        })
    }

    /// Where parameter `name` of `pop` is in `v`: stride 0 for one value the population
    /// shares, else one per neuron (`PopRecord.each` apart).
    fn param(&self, pop: PopulationId, name: &str) -> Result<VarLayout> {
        let model = self.custom_model(pop)?;
        let rec = &self.plan.pops[pop.index];
        match model.param_names().position(|n| n == name) {
            Some(j) => Ok(VarLayout {
                first: rec.params as usize + j,
                count: rec.count as usize,
                stride: rec.each as usize,
            }),
            None => Err(Error::Simulation(format!(
                "neuron model `{}` of population `{}` has no parameter `{name}`; it has {}",
                model.name(),
                self.plan.pop_names[pop.index],
                names(model.param_names())
            ))),
        }
    }
}

/// Where a variable's values are in `v`: every `stride`-th value from `first`, `count` of them.
struct VarLayout {
    first: usize,
    count: usize,
    stride: usize,
}

impl VarLayout {
    /// Values to read to cover them all.
    fn len(&self) -> usize {
        (self.count - 1) * self.stride + 1
    }
}
