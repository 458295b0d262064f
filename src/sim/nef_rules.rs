//! The variables of synapse models (`model::plasticity`) between steps: per-synapse state and
//! per-rule parameters, read and written where they live (`w` and `sig`).

use super::Simulator;
use crate::error::{Error, Result};
use crate::lower::nef::BuiltRule;
use crate::model::nef::LearningRuleId;
use ndarray::Array2;

impl Simulator {
    fn model_rule(&self, rule: LearningRuleId) -> Result<&BuiltRule> {
        if rule.net != self.nef_net_id {
            return Err(Error::Simulation(
                "this learning rule belongs to another network".into(),
            ));
        }
        self.nef_plan
            .rules
            .iter()
            .find(|r| r.index == rule.index)
            .ok_or_else(|| {
                Error::Simulation(format!(
                    "learning rule {} has no synapse model (it is PES); its weights are \
                     `weights(conn)`",
                    rule.index
                ))
            })
    }

    /// Where state variable `var` of a rule's model starts in `w`, and its shape.
    fn state_region(&self, rule: LearningRuleId, var: &str) -> Result<(usize, (usize, usize))> {
        let r = self.model_rule(rule)?;
        let k = r
            .model
            .state_names()
            .position(|n| n == var)
            .ok_or_else(|| {
                Error::Simulation(format!(
                    "synapse model `{}` has no state variable `{var}`; it has {:?}",
                    r.model.name(),
                    r.model.state_names().collect::<Vec<_>>()
                ))
            })?;
        let c = &self.nef_plan.built_connections[r.conn];
        Ok((r.state_off + k * r.stride, (c.rows, c.cols)))
    }

    /// State variable `var` of every synapse of a rule now, in the shape of the connection's
    /// weights (`weights(conn)`: post rows x pre columns).
    pub fn rule_state(&mut self, rule: LearningRuleId, var: &str) -> Result<Array2<f32>> {
        let (at, shape) = self.state_region(rule, var)?;
        let values = self.backend.read_f32("w", at, shape.0 * shape.1)?;
        Array2::from_shape_vec(shape, values)
            .map_err(|e| Error::Simulation(format!("state has an inconsistent shape: {e}")))
    }

    /// Replaces state variable `var` of every synapse of a rule between steps. Values must be
    /// finite in float32. Lesioned synapses keep their values but are never updated.
    pub fn set_rule_state(
        &mut self,
        rule: LearningRuleId,
        var: &str,
        values: &Array2<f64>,
    ) -> Result<()> {
        let (at, shape) = self.state_region(rule, var)?;
        if values.dim() != shape {
            return Err(Error::Simulation(format!(
                "state `{var}` is {}x{} (post x pre); got a {}x{} array",
                shape.0,
                shape.1,
                values.nrows(),
                values.ncols()
            )));
        }
        let floats = finite_f32(values.iter().copied(), &format!("state `{var}`"))?;
        self.backend.write_f32("w", at, &floats)
    }

    /// Where parameter `name` of a rule's model is in `sig`.
    fn param_at(&self, rule: LearningRuleId, name: &str) -> Result<usize> {
        let r = self.model_rule(rule)?;
        let k = r
            .model
            .params
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| {
                Error::Simulation(format!(
                    "synapse model `{}` has no parameter `{name}`; it has {:?}",
                    r.model.name(),
                    r.model.params.iter().map(|(n, _)| n).collect::<Vec<_>>()
                ))
            })?;
        Ok(r.params_off + k)
    }

    /// A rule's parameter now.
    pub fn rule_param(&mut self, rule: LearningRuleId, name: &str) -> Result<f32> {
        let at = self.param_at(rule, name)?;
        Ok(self.backend.read_f32("sig", at, 1)?[0])
    }

    /// Changes a rule's parameter from the next step on (a learning rate annealed by the host,
    /// learning switched off with a zero rate). `reset` restores the built value.
    pub fn set_rule_param(&mut self, rule: LearningRuleId, name: &str, value: f64) -> Result<()> {
        let at = self.param_at(rule, name)?;
        let v = finite_f32([value], &format!("parameter `{name}`"))?;
        self.backend.write_f32("sig", at, &v)
    }
}

/// The values as f32, or an error naming `what` and the first value that is not finite in
/// float32.
pub(super) fn finite_f32(values: impl IntoIterator<Item = f64>, what: &str) -> Result<Vec<f32>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if crate::model::nef::fits_f32(v) {
                Ok(v as f32)
            } else {
                Err(Error::Simulation(format!(
                    "{what}: value {i} is {v}; it must be finite in float32"
                )))
            }
        })
        .collect()
}
