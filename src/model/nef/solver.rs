//! How a decoded connection's decoders (or full weights) are solved for: the choice of solver
//! and its parameters, as data. The solving itself is `lower::nef::solvers`.

use crate::error::{invalid, Result};
use rand::Rng;

/// How the decoders (or full weights) of a connection are solved for.
///
/// Every variant uses Nengo's regularisation convention: `reg` is the noise amplitude relative
/// to the largest activity, `sigma = reg * max(A)`, and the ridge is `m sigma^2` for `m` eval
/// points: it minimises `|A X - Y|^2 + m sigma^2 |X|^2` (with constraints for `Nnls`, `Dale`).
#[derive(Clone, Debug, PartialEq)]
pub enum Solver {
    /// Regularised least squares: `reg` is the noise amplitude relative to the largest
    /// activity; `weights` solves for the full connection weight matrix (post encoders, gain
    /// and radius folded in) instead of decoders.
    LstsqL2 { reg: f64, weights: bool },
    /// Non-negative regularised least squares (Nengo's `NnlsL2`). Without `weights`: decoders
    /// `>= 0`. With `weights` (ensemble -> ensemble only): post x pre neuron weights `>= 0`
    /// fitted to the post neurons' input currents, as [`Solver::Dale`] with every pre neuron
    /// excitatory. Unlike Nengo's, it minimises the regularised objective itself (see
    /// [`crate::lower::nef::nnls`]).
    Nnls { reg: f64, weights: bool },
    /// Dale's principle: each pre neuron is excitatory (all its weights `>= 0`) or inhibitory
    /// (all `<= 0`). Always solves post x pre neuron weights (ensemble -> ensemble only): for
    /// every post neuron `i`, `min |A w_i - J_i|^2 + m sigma^2 |w_i|^2` under the signs, where
    /// `A` are the pre rates at the eval points and `J_i = gain_i e_i . (transform f(x)) /
    /// radius` the current the post neuron needs (its bias is added as usual). The built
    /// connection reports the mask in `BuiltConnection::excitatory`. The signs hold for the
    /// solved weights: PES on such a connection, or `set_weights`, may change them.
    Dale { reg: f64, excitatory: Excitatory },
}

/// Which pre neurons of a [`Solver::Dale`] connection are excitatory.
#[derive(Clone, Debug, PartialEq)]
pub enum Excitatory {
    /// One flag per pre neuron: `true` excitatory, `false` inhibitory.
    Mask(Vec<bool>),
    /// This fraction of the pre neurons, rounded to the nearest whole neuron, is excitatory.
    /// Which ones is drawn from the network seed and the pre ensemble's name, so it is a
    /// property of the neurons: every Dale connection from one ensemble with the same fraction
    /// gets the same mask, and a larger fraction keeps the excitatory neurons of a smaller one.
    Fraction(f64),
}

impl Excitatory {
    /// The mask for `n` pre neurons: a `Mask` checked against `n`, or a `Fraction` drawn from
    /// `rng` (one uniform number per neuron; the `round(fraction n)` smallest are excitatory).
    pub fn mask(&self, n: usize, rng: &mut impl Rng) -> Result<Vec<bool>> {
        match self {
            Excitatory::Mask(mask) => {
                if mask.len() != n {
                    return Err(invalid!(
                        "Solver::Dale: the excitatory mask has {} entries but the pre ensemble has {n} neurons; give one per pre neuron",
                        mask.len()
                    ));
                }
                Ok(mask.clone())
            }
            Excitatory::Fraction(f) => {
                check_fraction(*f)?;
                let draws: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by(|&a, &b| draws[a].total_cmp(&draws[b]).then(a.cmp(&b)));
                let count = (f * n as f64).round() as usize;
                let mut mask = vec![false; n];
                for &i in &order[..count.min(n)] {
                    mask[i] = true;
                }
                Ok(mask)
            }
        }
    }
}

fn check_fraction(f: f64) -> Result<()> {
    if (0.0..=1.0).contains(&f) {
        Ok(())
    } else {
        Err(invalid!(
            "Solver::Dale: the excitatory fraction must be in [0, 1], got {f}"
        ))
    }
}

impl Default for Solver {
    /// Nengo's default: `LstsqL2(reg=0.1, weights=False)`.
    fn default() -> Self {
        Solver::LstsqL2 {
            reg: 0.1,
            weights: false,
        }
    }
}

impl Solver {
    /// `LstsqL2` solving for decoders with regularisation `reg`.
    pub fn lstsq_l2(reg: f64) -> Solver {
        Solver::LstsqL2 {
            reg,
            weights: false,
        }
    }

    /// `Nnls` solving for non-negative decoders with regularisation `reg`.
    pub fn nnls(reg: f64) -> Solver {
        Solver::Nnls {
            reg,
            weights: false,
        }
    }

    /// `Dale` with a `fraction` of excitatory pre neurons drawn from the network seed.
    pub fn dale(reg: f64, fraction: f64) -> Solver {
        Solver::Dale {
            reg,
            excitatory: Excitatory::Fraction(fraction),
        }
    }

    /// The regularisation `reg`.
    pub fn reg(&self) -> f64 {
        match *self {
            Solver::LstsqL2 { reg, .. } | Solver::Nnls { reg, .. } | Solver::Dale { reg, .. } => {
                reg
            }
        }
    }

    /// Whether the solver solves for the full weight matrix rather than decoders.
    pub fn weights(&self) -> bool {
        match *self {
            Solver::LstsqL2 { weights, .. } | Solver::Nnls { weights, .. } => weights,
            Solver::Dale { .. } => true,
        }
    }

    /// Whether the solver solves the post x pre neuron weights directly from the post currents
    /// ([`Solver::solve_neuron_weights`]) rather than as post encoders times decoders.
    pub fn solves_neuron_weights(&self) -> bool {
        matches!(
            self,
            Solver::Nnls { weights: true, .. } | Solver::Dale { .. }
        )
    }

    /// Checks that `reg` is finite and >= 0, and a Dale fraction is in [0, 1].
    pub fn validate(&self) -> Result<()> {
        let reg = self.reg();
        if !(reg.is_finite() && reg >= 0.0) {
            let name = match self {
                Solver::LstsqL2 { .. } => "LstsqL2",
                Solver::Nnls { .. } => "Nnls",
                Solver::Dale { .. } => "Dale",
            };
            return Err(invalid!(
                "{name} solver: reg must be a finite number >= 0 (Nengo's default is 0.1), got \
                 {reg}"
            ));
        }
        if let Solver::Dale {
            excitatory: Excitatory::Fraction(f),
            ..
        } = self
        {
            check_fraction(*f)?;
        }
        Ok(())
    }
}
