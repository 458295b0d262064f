//! Non-negative least squares: Lawson and Hanson's active set method ("Solving Least Squares
//! Problems", 1974, chapter 23, algorithm NNLS), on the normal equations.
//!
//! Why it is here: Nengo's `Nnls`/`NnlsL2` solvers and Dale's principle (every pre neuron is
//! either excitatory or inhibitory, so all of its outgoing weights share one sign) need least
//! squares under sign constraints. A sign-constrained problem becomes a non-negative one by
//! flipping the sign of the inhibitory unknowns. The method is small enough to own (about 150
//! lines) and to test exhaustively against a brute-force solution, instead of binding a crate.
//!
//! # Problem
//!
//! [`nnls_gram`] minimises `f(x) = 1/2 x^T G x - c^T x` subject to `x >= 0`, for a symmetric
//! positive semi-definite `G`. With `G = A^T A + lambda I` and `c = A^T b` this is
//! `min |A x - b|^2 + lambda |x|^2, x >= 0` (halved, less a constant), the regularised problem
//! the NEF solvers need: the Gram matrix of the pre activities is formed once and shared by
//! every post neuron (every right-hand side). [`nnls`] is the plain `min |A x - b|, x >= 0`.
//!
//! Note that this is the regularised objective itself. Nengo's `NnlsL2` (and the forum recipe
//! `scipy.optimize.nnls(A.T @ A + reg * I, A.T @ b)`) instead minimise `|G x - c|` over
//! `x >= 0`: the same solution when no constraint is active, but not the minimiser of the
//! regularised least squares problem when some are.
//!
//! # Algorithm
//!
//! The unknowns are split into a passive set `P` (free, positive) and an active set `Z` (held at
//! zero). Starting from `x = 0`, `P = {}`:
//!
//! 1. The gradient's negative `w = c - G x` says which held variable would lower `f` if
//!    released. If no `j` in `Z` has `w_j > tol`, `x` satisfies the KKT conditions
//!    (`x >= 0`, `w <= 0`, `w_j = 0` where `x_j > 0`) and is optimal: stop.
//! 2. Move the `j` with the largest `w_j` into `P` and solve the unconstrained problem on `P`:
//!    `G_PP z = c_P`.
//! 3. While some `z_k <= 0`, step from `x` towards `z` as far as feasibility allows (the
//!    largest `alpha` in `[0, 1]` with `x + alpha (z - x) >= 0`), move the variables that reached
//!    zero back to `Z`, and solve again on the smaller `P`. Then `x = z`; back to 1.
//!
//! In exact arithmetic `f` falls at every pass of step 1, so no passive set repeats and the
//! method ends after finitely many passes (Lawson and Hanson, theorem 23.16).
//!
//! `G_PP` is factorised by Cholesky; adding a variable appends a row to the factor (`O(|P|^2)`),
//! removing one refactorises (`O(|P|^3)`, rarer).
//!
//! # Termination and tolerances
//!
//! In floating point the method is guarded so that it always ends, with an answer or an error:
//!
//! - `tol` for step 1 is `10 n eps (max|c| + max|G| sum x)`: the rounding error of computing
//!   `w` itself, so that noise in `w` does not release a variable.
//! - A variable whose column is numerically dependent on the passive ones (the new Cholesky
//!   pivot squared is below `DEPENDENT` times its diagonal entry of `G`: in exact arithmetic it
//!   would have `w_j = 0`) is not released; neither is one whose own `z_j` comes out `<= 0`
//!   (Lawson and Hanson's safeguard: it cannot happen in exact arithmetic). Either is held until
//!   `x` changes next.
//! - Every release (step 2) and every step of 3 counts as an iteration; past `max_iter`
//!   (default [`default_max_iter`]) the solver returns an error that says so rather than loop.
//!
//! Everything runs in a fixed order on one thread: a result depends on its inputs only.

use crate::error::{invalid, Error, Result};
use ndarray::{Array2, ArrayView2};

/// A column is numerically dependent on the passive ones when the squared Cholesky pivot it
/// would add is below this fraction of its own diagonal entry (its squared sine of the angle to
/// the passive columns' span, about 1e-11: an angle of 3 microradians).
const DEPENDENT: f64 = 1e-11;

/// A solution of [`nnls_gram`] or [`nnls`].
#[derive(Clone, Debug, PartialEq)]
pub struct NnlsSolution {
    /// The minimiser, all entries `>= 0`.
    pub x: Vec<f64>,
    /// Iterations used: releases of a variable plus steps back towards feasibility.
    pub iterations: usize,
}

/// The default iteration limit for `n` unknowns: `5 n + 50`. The method usually needs about
/// as many iterations as the solution has positive entries; a problem that needs several times
/// more is cycling on rounding error.
pub fn default_max_iter(n: usize) -> usize {
    5 * n + 50
}

/// Cholesky factor of `G_PP` for the passive set, in the order variables were released.
struct Factor<'a> {
    g: ArrayView2<'a, f64>,
    /// The passive variables, in the factor's order.
    idx: Vec<usize>,
    /// Lower triangular, row `k` at `k * n`.
    l: Vec<f64>,
    n: usize,
}

impl<'a> Factor<'a> {
    fn new(g: ArrayView2<'a, f64>) -> Factor<'a> {
        let n = g.nrows();
        Factor {
            g,
            idx: Vec::with_capacity(n),
            l: vec![0.0; n * n],
            n,
        }
    }

    /// Appends variable `j` to the factor; false (and no change) if its column is numerically
    /// dependent on the passive ones.
    fn try_push(&mut self, j: usize) -> bool {
        let (n, p) = (self.n, self.idx.len());
        let gjj = self.g[[j, j]];
        if !positive(gjj) {
            return false;
        }
        let (done, rest) = self.l.split_at_mut(p * n);
        let row = &mut rest[..p + 1];
        let mut norm2 = 0.0;
        for k in 0..p {
            let lk = &done[k * n..k * n + k + 1];
            let mut s = self.g[[self.idx[k], j]];
            for t in 0..k {
                s -= lk[t] * row[t];
            }
            let v = s / lk[k];
            row[k] = v;
            norm2 += v * v;
        }
        let d2 = gjj - norm2;
        if !positive(d2 - DEPENDENT * gjj) {
            return false;
        }
        row[p] = d2.sqrt();
        self.idx.push(j);
        true
    }

    /// Removes the variable appended last.
    fn pop(&mut self) {
        self.idx.pop();
    }

    /// Refactorises for the passive variables `keep` (in order); returns those dropped as
    /// numerically dependent.
    fn rebuild(&mut self, keep: &[usize]) -> Vec<usize> {
        self.idx.clear();
        keep.iter()
            .copied()
            .filter(|&j| !self.try_push(j))
            .collect()
    }

    /// Solves `G_PP z = c_P`; `z[k]` belongs to variable `idx[k]`.
    fn solve(&self, c: &[f64]) -> Vec<f64> {
        let (n, p) = (self.n, self.idx.len());
        let mut z: Vec<f64> = self.idx.iter().map(|&j| c[j]).collect();
        for k in 0..p {
            let row = &self.l[k * n..k * n + k + 1];
            let mut s = z[k];
            for t in 0..k {
                s -= row[t] * z[t];
            }
            z[k] = s / row[k];
        }
        for k in (0..p).rev() {
            let mut s = z[k];
            for (t, &zt) in z.iter().enumerate().skip(k + 1) {
                s -= self.l[t * n + k] * zt;
            }
            z[k] = s / self.l[k * n + k];
        }
        z
    }
}

/// `v > 0`, and false for NaN (so a NaN is never taken as positive).
fn positive(v: f64) -> bool {
    v > 0.0
}

fn not_converged(max_iter: usize, n: usize) -> Error {
    Error::Build(format!(
        "non-negative least squares did not converge in {max_iter} iterations ({n} unknowns): \
         the problem is too badly conditioned; increase the solver's reg"
    ))
}

/// Minimises `1/2 x^T G x - c^T x` over `x >= 0` (Lawson-Hanson, see the module doc).
///
/// `g`: symmetric positive semi-definite, `n x n` (`A^T A + lambda I` for a regularised least
/// squares problem); `c`: `n` (`A^T b`). Symmetry and finiteness are checked; definiteness is
/// assumed. `max_iter`: `None` for [`default_max_iter`].
///
/// Errors: shapes that do not match, non-finite or non-symmetric input, a negative diagonal
/// entry, or no convergence within `max_iter` iterations.
pub fn nnls_gram(g: ArrayView2<f64>, c: &[f64], max_iter: Option<usize>) -> Result<NnlsSolution> {
    let n = c.len();
    if g.dim() != (n, n) {
        return Err(invalid!(
            "nnls: the Gram matrix is {} x {} but the right-hand side has {n} entries; it must \
             be {n} x {n}",
            g.nrows(),
            g.ncols()
        ));
    }
    if g.iter().chain(c).any(|v| !v.is_finite()) {
        return Err(invalid!(
            "nnls: the Gram matrix and right-hand side must be finite"
        ));
    }
    let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..n {
        if g[[i, i]] < 0.0 {
            return Err(invalid!(
                "nnls: diagonal entry {i} of the Gram matrix is {}; a Gram matrix has none \
                 below zero",
                g[[i, i]]
            ));
        }
        for j in 0..i {
            if (g[[i, j]] - g[[j, i]]).abs() > 1e-12 * gmax {
                return Err(invalid!(
                    "nnls: the Gram matrix is not symmetric: entries ({i}, {j}) and ({j}, {i}) \
                     are {} and {}",
                    g[[i, j]],
                    g[[j, i]]
                ));
            }
        }
    }
    let max_iter = max_iter.unwrap_or_else(|| default_max_iter(n));
    let cmax = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut x = vec![0.0; n];
    let mut w = c.to_vec();
    let mut passive = vec![false; n];
    // Refused for release until x changes (dependent column, or z_j <= 0).
    let mut held = vec![false; n];
    let mut factor = Factor::new(g);
    let mut iterations = 0;
    loop {
        let tol = 10.0 * n as f64 * f64::EPSILON * (cmax + gmax * x.iter().sum::<f64>());
        let mut best: Option<usize> = None;
        for j in 0..n {
            if !passive[j] && !held[j] && w[j] > tol && best.is_none_or(|b| w[j] > w[b]) {
                best = Some(j);
            }
        }
        let Some(j) = best else { break };
        iterations += 1;
        if iterations > max_iter {
            return Err(not_converged(max_iter, n));
        }
        if !factor.try_push(j) {
            held[j] = true;
            continue;
        }
        let mut z = factor.solve(c);
        if !positive(z[z.len() - 1]) {
            factor.pop();
            held[j] = true;
            continue;
        }
        passive[j] = true;
        while z.iter().any(|&v| !positive(v)) {
            iterations += 1;
            if iterations > max_iter {
                return Err(not_converged(max_iter, n));
            }
            // The longest step from x towards z that keeps every passive variable >= 0.
            let (mut alpha, mut limit) = (f64::INFINITY, factor.idx[0]);
            for (k, &i) in factor.idx.iter().enumerate() {
                if !positive(z[k]) {
                    let d = x[i] - z[k];
                    let a = if d > 0.0 { x[i] / d } else { 0.0 };
                    if a < alpha {
                        (alpha, limit) = (a, i);
                    }
                }
            }
            for (k, &i) in factor.idx.iter().enumerate() {
                x[i] += alpha * (z[k] - x[i]);
            }
            x[limit] = 0.0;
            let keep: Vec<usize> = factor.idx.iter().copied().filter(|&i| x[i] > 0.0).collect();
            for &i in &factor.idx {
                if !positive(x[i]) {
                    passive[i] = false;
                    x[i] = 0.0;
                }
            }
            for i in factor.rebuild(&keep) {
                passive[i] = false;
                x[i] = 0.0;
            }
            z = factor.solve(c);
        }
        for (k, &i) in factor.idx.iter().enumerate() {
            x[i] = z[k];
        }
        for (j, wj) in w.iter_mut().enumerate() {
            let row = g.row(j);
            *wj = c[j] - factor.idx.iter().map(|&i| row[i] * x[i]).sum::<f64>();
        }
        held.fill(false);
    }
    Ok(NnlsSolution { x, iterations })
}

/// Minimises `|A x - b|` over `x >= 0`, through [`nnls_gram`] with `G = A^T A`, `c = A^T b`.
/// Forming `A^T A` squares the condition number: fine for the well-scaled problems of the NEF
/// solvers (which add a ridge anyway), not for nearly singular ones.
pub fn nnls(a: ArrayView2<f64>, b: &[f64]) -> Result<NnlsSolution> {
    if a.nrows() != b.len() {
        return Err(invalid!(
            "nnls: A is {} x {} but b has {} entries; give one per row of A",
            a.nrows(),
            a.ncols(),
            b.len()
        ));
    }
    let g: Array2<f64> = a.t().dot(&a);
    let c = a.t().dot(&ndarray::ArrayView1::from(b)).to_vec();
    nnls_gram(g.view(), &c, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use rand::Rng;
    use rand_distr::StandardNormal;

    /// `|A x - b|^2 + lambda |x|^2`.
    fn objective(a: &Array2<f64>, b: &[f64], lambda: f64, x: &[f64]) -> f64 {
        let r = a.dot(&ndarray::ArrayView1::from(x));
        let res: f64 = r.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
        res + lambda * x.iter().map(|v| v * v).sum::<f64>()
    }

    /// Solves `G z = c` by Cholesky; `None` if `G` is numerically singular.
    fn solve_spd(g: &Array2<f64>, c: &[f64]) -> Option<Vec<f64>> {
        let n = c.len();
        let mut l = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..=i {
                let s = g[[i, j]] - (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum::<f64>();
                if i == j {
                    if !positive(s - 1e-9 * g[[i, i]]) || g[[i, i]] <= 0.0 {
                        return None;
                    }
                    l[[i, i]] = s.sqrt();
                } else {
                    l[[i, j]] = s / l[[j, j]];
                }
            }
        }
        let mut y = c.to_vec();
        for i in 0..n {
            y[i] = (y[i] - (0..i).map(|k| l[[i, k]] * y[k]).sum::<f64>()) / l[[i, i]];
        }
        for i in (0..n).rev() {
            y[i] = (y[i] - (i + 1..n).map(|k| l[[k, i]] * y[k]).sum::<f64>()) / l[[i, i]];
        }
        Some(y)
    }

    /// The optimum by enumeration: every support set whose sub-problem is non-singular, its
    /// unconstrained minimiser, the best feasible one. (Some optimum always has a support with
    /// independent columns, whose unconstrained minimiser it is.)
    fn brute_force(a: &Array2<f64>, b: &[f64], lambda: f64) -> (Vec<f64>, f64) {
        let n = a.ncols();
        let mut g = a.t().dot(a);
        for i in 0..n {
            g[[i, i]] += lambda;
        }
        let c = a.t().dot(&ndarray::ArrayView1::from(b)).to_vec();
        let (mut best, mut best_f) = (vec![0.0; n], objective(a, b, lambda, &vec![0.0; n]));
        for set in 1u32..(1 << n) {
            let s: Vec<usize> = (0..n).filter(|&j| set & (1 << j) != 0).collect();
            let gs = Array2::from_shape_fn((s.len(), s.len()), |(i, j)| g[[s[i], s[j]]]);
            let cs: Vec<f64> = s.iter().map(|&j| c[j]).collect();
            let Some(z) = solve_spd(&gs, &cs) else {
                continue;
            };
            if z.iter().any(|&v| v < 0.0) {
                continue;
            }
            let mut x = vec![0.0; n];
            for (k, &j) in s.iter().enumerate() {
                x[j] = z[k];
            }
            let f = objective(a, b, lambda, &x);
            if f < best_f {
                (best, best_f) = (x, f);
            }
        }
        (best, best_f)
    }

    /// A random small problem of one of several kinds, degenerate ones included.
    fn problem(case: u64) -> (Array2<f64>, Vec<f64>, f64) {
        let mut rng = stream(17, 0x6e6e6c73, case);
        let mut normal = move || -> f64 { rng.sample(StandardNormal) };
        let kind = case % 6;
        let n = 1 + (case / 6 % 8) as usize;
        let m = match case / 144 % 3 {
            0 => n + 3,
            1 => n,
            _ => (n / 2).max(1), // fewer rows than unknowns
        };
        let mut a = Array2::from_shape_fn((m, n), |_| normal());
        match kind {
            // rank deficient: A = U V with inner size r < n
            1 => {
                let r = (n / 2).max(1);
                let u = Array2::from_shape_fn((m, r), |_| normal());
                let v = Array2::from_shape_fn((r, n), |_| normal());
                a = u.dot(&v);
            }
            // a duplicated column, a zero column, a negated column
            2 if n >= 3 => {
                let c0 = a.column(0).to_owned();
                a.column_mut(1).assign(&c0);
                a.column_mut(2).fill(0.0);
                if n >= 4 {
                    a.column_mut(3).assign(&(-&c0));
                }
            }
            // non-negative "rates", as the NEF problems have
            3 => a.mapv_inplace(|v| v.abs() * 50.0),
            _ => {}
        }
        let b: Vec<f64> = if kind == 4 {
            // an exact non-negative solution with zeros in it
            let x: Vec<f64> = (0..n)
                .map(|j| if j % 2 == 0 { normal().abs() } else { 0.0 })
                .collect();
            a.dot(&ndarray::ArrayView1::from(&x[..])).to_vec()
        } else {
            (0..m).map(|_| normal()).collect()
        };
        let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1.0);
        let lambda = match case / 48 % 3 {
            0 => 0.0,
            1 => 1e-3 * scale * scale,
            _ => 0.5 * scale * scale,
        };
        (a, b, lambda)
    }

    fn solve(a: &Array2<f64>, b: &[f64], lambda: f64) -> NnlsSolution {
        let mut g = a.t().dot(a);
        for i in 0..a.ncols() {
            g[[i, i]] += lambda;
        }
        let c = a.t().dot(&ndarray::ArrayView1::from(b)).to_vec();
        let sol = nnls_gram(g.view(), &c, None).unwrap();
        check_kkt(&g, &c, &sol.x);
        sol
    }

    /// KKT conditions: x >= 0; gradient's negative w = c - G x <= 0; w = 0 where x > 0.
    #[track_caller]
    fn check_kkt(g: &Array2<f64>, c: &[f64], x: &[f64]) {
        let gmax = g.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let cmax = c.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let tol = 1e-8 * (cmax + gmax * x.iter().sum::<f64>()).max(1e-300);
        let w = ndarray::Array1::from(c.to_vec()) - g.dot(&ndarray::ArrayView1::from(x));
        for (j, (&xj, &wj)) in x.iter().zip(&w).enumerate() {
            assert!(xj >= 0.0, "x[{j}] = {xj} < 0");
            assert!(wj <= tol, "w[{j}] = {wj} > {tol}: not optimal");
            if xj > 0.0 {
                assert!(wj.abs() <= tol, "x[{j}] = {xj} > 0 but w[{j}] = {wj}");
            }
        }
    }

    #[test]
    fn agrees_with_brute_force_on_random_small_problems() {
        let (mut most, mut constrained, mut unique) = (0, 0, 0);
        for case in 0..1296 {
            let (a, b, lambda) = problem(case);
            let sol = solve(&a, &b, lambda);
            let (bx, bf) = brute_force(&a, &b, lambda);
            let f = objective(&a, &b, lambda, &sol.x);
            let scale = b.iter().map(|v| v * v).sum::<f64>().max(1e-300);
            assert!(
                (f - bf).abs() <= 1e-9 * scale,
                "case {case}: objective {f}, brute force {bf} (x {:?} vs {bx:?})",
                sol.x
            );
            // strictly convex (a ridge, or full column rank): the minimiser is unique
            if lambda > 0.0 {
                let xs = bx.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
                for (p, q) in sol.x.iter().zip(&bx) {
                    assert!(
                        (p - q).abs() <= 1e-6 * xs,
                        "case {case}: {:?} vs {bx:?}",
                        sol.x
                    );
                }
            }
            most = most.max(sol.iterations);
            constrained += (sol.x.contains(&0.0) && bx.iter().any(|&v| v > 0.0)) as usize;
            unique += (lambda > 0.0) as usize;
        }
        // the cases exercise the constraints, and both unique and non-unique minimisers
        eprintln!("{constrained} of 1296 cases with active constraints; {most} iterations at most");
        assert!(
            constrained > 400 && unique > 400 && unique < 1000,
            "{constrained} {unique}"
        );
        assert!(most <= default_max_iter(8), "{most} iterations");
    }

    #[test]
    fn unconstrained_solution_when_it_is_positive() {
        // b = A x with x > 0 and A of full column rank: NNLS finds x itself
        let a = ndarray::array![
            [1.0, 0.2, 0.0],
            [0.1, 1.0, 0.3],
            [0.0, 0.4, 1.0],
            [1.0, 1.0, 1.0]
        ];
        let x = [0.5, 1.5, 2.0];
        let b = a.dot(&ndarray::arr1(&x)).to_vec();
        let sol = nnls(a.view(), &b).unwrap();
        for (p, q) in sol.x.iter().zip(x) {
            assert!((p - q).abs() < 1e-12, "{:?}", sol.x);
        }
        assert!(sol.iterations >= 3);
    }

    #[test]
    fn all_negative_targets_give_zero() {
        let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
        let sol = nnls(a.view(), &[-1.0, -2.0]).unwrap();
        assert_eq!(sol.x, vec![0.0, 0.0]);
        assert_eq!(sol.iterations, 0);
        let empty = nnls_gram(Array2::zeros((0, 0)).view(), &[], None).unwrap();
        assert!(empty.x.is_empty());
    }

    #[test]
    fn a_large_rates_problem_converges_within_the_default_limit() {
        // 100 rectified "tuning curves" over 300 points, targets of mixed sign
        let (m, n) = (300, 100);
        let mut rng = stream(3, 0x7261746573, 0);
        let params: Vec<(f64, f64, f64)> = (0..n)
            .map(|_| {
                let e = if rng.random::<bool>() { 1.0 } else { -1.0 };
                (
                    e,
                    rng.random_range(1.0..20.0),
                    rng.random_range(-10.0..10.0),
                )
            })
            .collect();
        let a = Array2::from_shape_fn((m, n), |(i, j)| {
            let x = -1.0 + 2.0 * i as f64 / (m - 1) as f64;
            let (e, g, b) = params[j];
            (g * e * x + b).max(0.0)
        });
        for k in 0..4 {
            let b: Vec<f64> = (0..m)
                .map(|i| {
                    let x = -1.0 + 2.0 * i as f64 / (m - 1) as f64;
                    (k as f64 + 1.0) * x * x - 0.5 * x - 0.3 * k as f64
                })
                .collect();
            let amax = a.iter().fold(0.0f64, |s, v| s.max(*v));
            for lambda in [0.0, m as f64 * (0.01 * amax).powi(2)] {
                let sol = solve(&a, &b, lambda);
                assert!(sol.iterations <= default_max_iter(n));
            }
        }
    }

    #[test]
    fn too_few_iterations_is_an_error_not_a_hang() {
        let (a, b, _) = problem(6 * 7); // 8 unknowns, random
        let c = a.t().dot(&ndarray::ArrayView1::from(&b[..])).to_vec();
        let g = a.t().dot(&a);
        let full = nnls_gram(g.view(), &c, None).unwrap();
        assert!(full.iterations > 1);
        let e = nnls_gram(g.view(), &c, Some(1)).unwrap_err().to_string();
        assert!(e.contains("did not converge in 1 iterations"), "{e}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let g = ndarray::array![[2.0, 1.0], [1.0, 2.0]];
        let e = nnls_gram(g.view(), &[1.0], None).unwrap_err().to_string();
        assert!(e.contains("2 x 2") && e.contains("1 entries"), "{e}");
        let e = nnls_gram(g.view(), &[1.0, f64::NAN], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("finite"), "{e}");
        let skew = ndarray::array![[2.0, 1.0], [0.0, 2.0]];
        let e = nnls_gram(skew.view(), &[1.0, 1.0], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not symmetric"), "{e}");
        let neg = ndarray::array![[-2.0, 0.0], [0.0, 2.0]];
        assert!(nnls_gram(neg.view(), &[1.0, 1.0], None).is_err());
        let e = nnls(g.view(), &[1.0, 2.0, 3.0]).unwrap_err().to_string();
        assert!(e.contains("3 entries"), "{e}");
    }
}
