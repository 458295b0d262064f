//! Values in model files: durations, distributions, per-synapse lists, and neuron slices.

use super::Source;
use crate::error::{Error, Result};
use crate::model::{Dist, Values};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// `"1s"`, `"250ms"` or a bare number of seconds; seconds.
pub fn parse_duration(s: &str) -> std::result::Result<f64, String> {
    let s = s.trim();
    let (num, scale) = if let Some(x) = s.strip_suffix("ms") {
        (x, 1e-3)
    } else if let Some(x) = s.strip_suffix('s') {
        (x, 1.0)
    } else {
        (s, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
        _ => Err(format!(
            "`{s}` is not a duration; write e.g. 1s, 250ms or 0.5"
        )),
    }
}

/// A duration as written: text with a unit, or seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a duration such as \"1s\", \"250ms\" or 0.5 (seconds)"
)]
pub enum Duration {
    /// A number of seconds.
    Seconds(f64),
    /// Text with a unit: `"1s"`, `"250ms"`.
    Text(String),
}

impl Default for Duration {
    fn default() -> Self {
        Duration::Seconds(0.0)
    }
}

impl Duration {
    pub(super) fn seconds(&self, source: &Source, key: &str) -> Result<f64> {
        let s = match self {
            Duration::Seconds(s) if s.is_finite() && *s >= 0.0 => Ok(*s),
            Duration::Seconds(s) => Err(format!("{s} is not a duration")),
            Duration::Text(t) => parse_duration(t),
        };
        s.map_err(|e| Error::Validation(format!("{}: {key}: {e}", source.key(key))))
    }
}

/// A distribution as written: a number (constant), or a table, e.g. `{ uniform = [-60, -50] }`,
/// `{ normal = [87.8, 8.78], clip = [0, inf] }` (values outside are redrawn, NEST's `redraw`)
/// or `{ normal = [1.5, 0.75], clamp = [0.1, inf] }` (values outside are set to the bound).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a number, { uniform = [low, high] } or { normal = [mean, sd] } with an optional clip or clamp = [low, high]"
)]
pub enum DistSpec {
    /// A constant.
    Const(f64),
    /// A distribution table.
    Table(DistTable),
}

/// The table form of [`DistSpec`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistTable {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Uniform on `[low, high]`.
    pub uniform: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Normal, `[mean, sd]`.
    pub normal: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Redraw values outside `[low, high]` (normal only).
    pub clip: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Set values outside `[low, high]` to the bound (normal only).
    pub clamp: Option<[f64; 2]>,
}

impl DistSpec {
    /// The distribution, or what is wrong with the table.
    pub fn dist(&self) -> std::result::Result<Dist, String> {
        let t = match self {
            DistSpec::Const(c) => return Ok(Dist::Const(*c)),
            DistSpec::Table(t) => t,
        };
        let bounded = |d: Dist| match (t.clip, t.clamp) {
            (Some(_), Some(_)) => Err("give clip or clamp, not both".to_string()),
            (Some([lo, hi]), None) => Ok(d.clipped(lo, hi)),
            (None, Some([lo, hi])) => Ok(d.clamped(lo, hi)),
            (None, None) => Ok(d),
        };
        let d = match (t.uniform, t.normal) {
            (Some([lo, hi]), None) => {
                if t.clip.is_some() || t.clamp.is_some() {
                    return Err("clip and clamp go with normal, not uniform".into());
                }
                Dist::uniform(lo, hi)
            }
            (None, Some([mean, sd])) => bounded(Dist::normal(mean, sd))?,
            _ => {
                return Err(
                    "give exactly one of uniform = [low, high] or normal = [mean, sd]".into(),
                )
            }
        };
        d.validate("the distribution").map_err(|e| match e {
            Error::Validation(m) => m,
            other => other.to_string(),
        })?;
        Ok(d)
    }

    /// The file form of a distribution.
    pub fn of(d: &Dist) -> DistSpec {
        let table = |uniform, normal, clip, clamp| {
            DistSpec::Table(DistTable {
                uniform,
                normal,
                clip,
                clamp,
            })
        };
        let bounds =
            |lo: f64, hi: f64| (lo > f64::NEG_INFINITY || hi < f64::INFINITY).then_some([lo, hi]);
        match *d {
            Dist::Const(c) => DistSpec::Const(c),
            Dist::Uniform { low, high } => table(Some([low, high]), None, None, None),
            Dist::Normal {
                mean,
                sd,
                low,
                high,
            } => table(None, Some([mean, sd]), bounds(low, high), None),
            Dist::NormalClamped {
                mean,
                sd,
                low,
                high,
            } => table(None, Some([mean, sd]), None, bounds(low, high)),
        }
    }
}

/// Weights or delays of a projection: a distribution, or one value per synapse (with `pairs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a number, a distribution table, or a list of one value per synapse"
)]
pub enum ValuesSpec {
    /// A distribution.
    Dist(DistSpec),
    /// One value per synapse.
    Each(Vec<f64>),
}

impl ValuesSpec {
    /// The values, or what is wrong with the distribution.
    pub fn values(&self) -> std::result::Result<Values, String> {
        Ok(match self {
            ValuesSpec::Dist(d) => Values::Dist(d.dist()?),
            ValuesSpec::Each(v) => Values::Each(v.clone()),
        })
    }
}

/// `name` or `name[a:b]` (neurons a to b-1 of the population or ensemble).
pub fn parse_slice(text: &str) -> std::result::Result<(String, Option<Range<usize>>), String> {
    let text = text.trim();
    let Some(open) = text.find('[') else {
        return Ok((text.to_string(), None));
    };
    let bad = || format!("`{text}` is not a name or a slice like name[0:100]");
    let inner = text[open + 1..].strip_suffix(']').ok_or_else(bad)?;
    let (a, b) = inner.split_once(':').ok_or_else(bad)?;
    let a: usize = a.trim().parse().map_err(|_| bad())?;
    let b: usize = b.trim().parse().map_err(|_| bad())?;
    if a >= b {
        return Err(format!("`{text}`: the slice is empty"));
    }
    Ok((text[..open].trim().to_string(), Some(a..b)))
}
