//! Decoder solvers, as Nengo 4's `LstsqL2` with its default `Cholesky` least-squares solver
//! (`nengo/solvers.py`, `nengo/utils/least_squares_solvers.py`), and sign-constrained ones:
//! `Nnls` (non-negative, as Nengo's `NnlsL2`) and `Dale` (Dale's principle: each pre neuron's
//! outgoing weights share one sign), both through [`super::nnls`].
//!
//! The dense factorisation and solves are faer's (a pure-Rust dense linear algebra crate).

use super::nnls::nnls_gram;
use crate::error::{invalid, Error, Result};
pub use crate::model::nef::solver::{Excitatory, Solver};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::solvers::{Llt, Solve};
use faer::{Accum, Mat, Par, Side};
use ndarray::Array2;
use rand::Rng;

impl Solver {
    /// Solves for decoders (`n x d`) from activities (`m x n`) and targets (`m x d`). `Nnls`
    /// gives non-negative decoders; `Dale` with a `Mask` gives row `j` the sign of pre neuron
    /// `j` (a `Fraction` is drawn by the builder, not here: it is an error).
    pub fn solve(&self, activities: &Array2<f64>, targets: &Array2<f64>) -> Result<Array2<f64>> {
        self.validate()?;
        match self {
            Solver::LstsqL2 { reg, .. } => solve_lstsq_l2(activities, targets, *reg),
            Solver::Nnls { reg, .. } => solve_nnls_l2(activities, targets, *reg),
            Solver::Dale {
                reg,
                excitatory: Excitatory::Mask(mask),
            } => solve_dale_l2(activities, targets, *reg, mask),
            Solver::Dale { .. } => Err(invalid!(
                "Solver::Dale with an excitatory fraction: the mask is drawn when the network \
                 is built; to solve by hand, pass Excitatory::Mask"
            )),
        }
    }

    /// Post x pre neuron weights for [`Solver::solves_neuron_weights`] solvers, from the pre
    /// `activities` (`m x n_pre`) and the post neurons' target input `currents`
    /// (`m x n_post`), and the excitatory mask used (all `true` for `Nnls`). A Dale fraction
    /// is drawn from `rng`.
    pub fn solve_neuron_weights(
        &self,
        activities: &Array2<f64>,
        currents: &Array2<f64>,
        rng: &mut impl Rng,
    ) -> Result<(Array2<f64>, Vec<bool>)> {
        self.validate()?;
        let n = activities.ncols();
        let (x, mask) = match self {
            Solver::Nnls { reg, .. } => (solve_nnls_l2(activities, currents, *reg)?, vec![true; n]),
            Solver::Dale { reg, excitatory } => {
                let mask = excitatory.mask(n, rng)?;
                (solve_dale_l2(activities, currents, *reg, &mask)?, mask)
            }
            Solver::LstsqL2 { .. } => {
                return Err(invalid!(
                    "LstsqL2 solves decoders; its weights are the post encoders times them"
                ))
            }
        };
        Ok((x.reversed_axes(), mask))
    }
}

/// Non-negative regularised least squares, column by column: decoders `X >= 0` (`n x d`)
/// minimising `|A X - Y|^2 + m sigma^2 |X|^2` with `sigma = reg * max(A)`.
///
/// Errors as [`solve_lstsq_l2`], and an NNLS that does not converge (a clear error, see
/// [`super::nnls`]).
pub fn solve_nnls_l2(
    activities: &Array2<f64>,
    targets: &Array2<f64>,
    reg: f64,
) -> Result<Array2<f64>> {
    solve_signed_l2(activities, targets, reg, None)
}

/// As [`solve_nnls_l2`], but row `j` of the solution is `>= 0` where `excitatory[j]` and
/// `<= 0` elsewhere: Dale's principle for decoders, or for neuron weights (targets: post
/// currents; the solution transposed is post x pre).
pub fn solve_dale_l2(
    activities: &Array2<f64>,
    targets: &Array2<f64>,
    reg: f64,
    excitatory: &[bool],
) -> Result<Array2<f64>> {
    solve_signed_l2(activities, targets, reg, Some(excitatory))
}

/// The sign-constrained ridge problem as an NNLS in the flipped unknowns `u_j = s_j x_j`
/// (`s_j = -1` for inhibitory `j`): Gram matrix `S (A^T A + m sigma^2 I) S`, right-hand sides
/// `S A^T Y`. One Gram matrix for every column; the columns are solved in parallel, each on one
/// thread in a fixed order, so the result does not depend on the thread count.
fn solve_signed_l2(
    activities: &Array2<f64>,
    targets: &Array2<f64>,
    reg: f64,
    excitatory: Option<&[bool]>,
) -> Result<Array2<f64>> {
    use rayon::prelude::*;
    let (m, n) = activities.dim();
    let max = check_system(activities, reg)?;
    let d = targets.ncols();
    check_targets((m, n), targets)?;
    let sign: Vec<f64> = match excitatory {
        Some(mask) if mask.len() != n => {
            return Err(invalid!(
                "Solver::Dale: the excitatory mask has {} entries but there are {n} pre \
                 neurons; give one per pre neuron",
                mask.len()
            ))
        }
        Some(mask) => mask.iter().map(|&e| if e { 1.0 } else { -1.0 }).collect(),
        None => vec![1.0; n],
    };
    let a = Mat::<f64>::from_fn(m, n, |i, j| activities[[i, j]] * sign[j]);
    let y = Mat::<f64>::from_fn(m, d, |i, j| targets[[i, j]]);
    // Sequential products: the same sums in the same order whatever the thread count.
    let mut gram = Mat::<f64>::zeros(n, n);
    faer::linalg::matmul::matmul(
        gram.as_mut(),
        Accum::Replace,
        a.transpose(),
        a.as_ref(),
        1.0,
        Par::Seq,
    );
    let mut rhs = Mat::<f64>::zeros(n, d);
    faer::linalg::matmul::matmul(
        rhs.as_mut(),
        Accum::Replace,
        a.transpose(),
        y.as_ref(),
        1.0,
        Par::Seq,
    );
    let sigma = reg * max;
    let lambda = m as f64 * sigma * sigma;
    // Exactly symmetric (the NNLS checks it): the lower triangle mirrored.
    let g = Array2::from_shape_fn((n, n), |(i, j)| {
        let v = if i >= j { gram[(i, j)] } else { gram[(j, i)] };
        if i == j {
            v + lambda
        } else {
            v
        }
    });
    let columns = (0..d)
        .into_par_iter()
        .map(|k| {
            let c: Vec<f64> = (0..n).map(|j| rhs[(j, k)]).collect();
            nnls_gram(g.view(), &c, None).map(|s| s.x)
        })
        .collect::<Result<Vec<Vec<f64>>>>()?;
    Ok(Array2::from_shape_fn((n, d), |(j, k)| {
        let u = columns[k][j];
        if u == 0.0 {
            0.0
        } else {
            sign[j] * u
        }
    }))
}

/// Checks a system's activities and `reg`; returns `max(A)`.
fn check_system(activities: &Array2<f64>, reg: f64) -> Result<f64> {
    let (m, n) = activities.dim();
    if m == 0 || n == 0 {
        return Err(invalid!(
            "decoder solver: activities are {m} x {n}; need at least one eval point and one \
             neuron"
        ));
    }
    if !(reg.is_finite() && reg >= 0.0) {
        return Err(invalid!(
            "decoder solver: reg must be a finite number >= 0, got {reg}"
        ));
    }
    check_finite("activities", activities)?;
    if activities.iter().all(|&v| v == 0.0) {
        return Err(Error::Build(
            "decoder solver: the activity matrix is all zero: no evaluation point falls in \
             the firing range of any neuron; check the intercepts, encoders and eval points"
                .into(),
        ));
    }
    Ok(activities.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}

/// Nengo's `LstsqL2` with its `Cholesky` solver. `activities`: `m` eval points x `n` neurons
/// (rates in Hz); `targets`: `m x d`. Returns decoders, `n x d`, minimising
/// `|A X - Y|^2 + m sigma^2 |X|^2` with `sigma = reg * max(A)`.
///
/// As Nengo: with at least as many eval points as neurons (`m >= n`, always so with Nengo's
/// default eval point count) it solves `(A^T A + m sigma^2 I) X = A^T Y`; with fewer (`m < n`)
/// it solves `(A A^T + m sigma^2 I) Z = Y` and returns `X = A^T Z`, the same minimiser from a
/// smaller system.
///
/// Errors: shape mismatch, empty or non-finite inputs, negative or non-finite `reg`
/// (validation); activities all zero, or a Gram matrix that is not positive definite (build).
pub fn solve_lstsq_l2(
    activities: &Array2<f64>,
    targets: &Array2<f64>,
    reg: f64,
) -> Result<Array2<f64>> {
    LstsqL2Factor::new(activities, reg)?.solve(targets)
}

/// The factorised system of [`solve_lstsq_l2`] for one activity matrix: decoding several
/// functions from one ensemble over the same eval points factorises once.
pub struct LstsqL2Factor {
    a: Mat<f64>,
    llt: Llt<f64>,
    /// `m < n`: the system is `A A^T`, and decoders are `A^T Z`.
    transpose: bool,
}

impl LstsqL2Factor {
    /// Checks the activities and factorises the regularised Gram matrix.
    pub fn new(activities: &Array2<f64>, reg: f64) -> Result<LstsqL2Factor> {
        let (m, n) = activities.dim();
        let max = check_system(activities, reg)?;
        let sigma = reg * max;
        let a = Mat::<f64>::from_fn(m, n, |i, j| activities[[i, j]]);
        let transpose = m < n;
        // Only the lower triangle: the Cholesky factorisation reads no more, and the product
        // costs half a full one (numpy's A.T @ A does the same through syrk).
        let size = if transpose { m } else { n };
        let mut gram = Mat::<f64>::zeros(size, size);
        let (lhs, rhs) = if transpose {
            (a.as_ref(), a.transpose())
        } else {
            (a.transpose(), a.as_ref())
        };
        triangular::matmul(
            gram.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            1.0,
            faer::get_global_parallelism(),
        );
        let lambda = m as f64 * sigma * sigma;
        for i in 0..gram.nrows() {
            gram[(i, i)] += lambda;
        }
        let llt = gram.llt(Side::Lower).map_err(|e| {
            Error::Build(format!(
                "decoder solver: the regularised Gram matrix ({0} x {0}) is not positive \
                 definite ({e:?}): the activities are degenerate for reg = {reg}; increase reg",
                gram.nrows()
            ))
        })?;
        Ok(LstsqL2Factor { a, llt, transpose })
    }

    /// Decoders (`n x d`) for targets (`m x d`).
    pub fn solve(&self, targets: &Array2<f64>) -> Result<Array2<f64>> {
        let (m, n) = (self.a.nrows(), self.a.ncols());
        let d = targets.ncols();
        check_targets((m, n), targets)?;
        let y = Mat::<f64>::from_fn(m, d, |i, j| targets[[i, j]]);
        let x = if self.transpose {
            self.a.transpose() * self.llt.solve(&y)
        } else {
            self.llt.solve(self.a.transpose() * &y)
        };
        Ok(Array2::from_shape_fn((n, d), |(i, j)| x[(i, j)]))
    }
}

/// Targets (`m x d`) for activities of shape `(m, n)`: one finite row per eval point.
fn check_targets((m, n): (usize, usize), targets: &Array2<f64>) -> Result<()> {
    if targets.nrows() != m {
        return Err(invalid!(
            "decoder solver: activities are {m} x {n} (eval points x neurons) but targets \
             are {} x {}; give one target row per eval point",
            targets.nrows(),
            targets.ncols()
        ));
    }
    check_finite("targets", targets)
}

fn check_finite(name: &str, a: &Array2<f64>) -> Result<()> {
    if let Some(((r, c), v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(invalid!(
            "decoder solver: {name} entry ({r}, {c}) is {v}; every entry must be finite \
             (check the gains, biases and the function being decoded)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::nef::{Lif, NefNeuron};

    // Generated by benches/peers/nengo_reference_math.py (section decoders), Nengo 4.1.0.
    // ENS1: Ensemble(20, 1, eval_points=linspace(-1, 1, 750)), seed 3, default LIF; decoders
    // of the identity and of x^2 (Nengo's `weights`, d x n). ENS2: Ensemble(30, 2), seed 11,
    // connection with 12 eval points (fewer than neurons) decoding [x0 * x1, x0].
    const ENS1_GAIN: [f64; 20] = [
        20.595697380995148,
        4.963644148272583,
        51.125302485505586,
        10.8109197570018,
        13.189136062843216,
        10.145902409852507,
        45.9920314610557,
        6.0172575511264155,
        28.956587137871352,
        29.49014451349248,
        118.132841376344,
        18.791608698717777,
        7.373988552999559,
        3.6607876185951858,
        27.168361618750048,
        4.524023603025836,
        28.584452404781146,
        57.279751960801406,
        9.581867875159304,
        11.985929518298923,
    ];
    const ENS1_BIAS: [f64; 20] = [
        16.713609626448424,
        4.339453209386619,
        -19.316329740799784,
        -1.091043273217585,
        12.356682722278991,
        -0.4461379193788153,
        -11.834098095964569,
        5.044864489134258,
        -18.458612124527924,
        -12.175020589572007,
        -100.91874569468526,
        1.9756597827096676,
        7.2837310704618705,
        4.26958034678259,
        6.987894733386311,
        3.9365991660416566,
        -1.8678274884184485,
        -46.04092469659468,
        4.42691546443101,
        0.586694895033072,
    ];
    const ENS1_ENCODERS: [f64; 20] = [
        1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0, -1.0, -1.0,
        -1.0, 1.0, -1.0, 1.0,
    ];
    const ENS1_DEC_IDENTITY: [f64; 20] = [
        0.00042458244273390223,
        0.00027155269518253946,
        -0.00018100026397642281,
        0.0003796055064656284,
        -0.000494075369245173,
        0.00034970829500232694,
        -0.0002549009407196908,
        -0.0003602277114447008,
        0.0003518591508150751,
        -0.0001791047195691137,
        -0.00023586943760965336,
        0.00044299152411560557,
        0.00034870026019733754,
        0.0002566387963313444,
        -0.00027889982951003476,
        -0.00030419799755886947,
        -0.0003782679684853655,
        0.00021633476482713245,
        -0.0002626140790374624,
        0.00036577942798249335,
    ];
    const ENS1_DEC_SQUARE: [f64; 20] = [
        -0.0001822155619432359,
        0.00019617273920705575,
        0.0004852565477044668,
        0.0006363477553358008,
        -0.00037449757929753323,
        0.0005718097318733892,
        0.0002917291127592441,
        -0.0001262476451127241,
        0.0007935223262849854,
        0.0006644924693889218,
        0.0007070840090396569,
        0.000455826124779904,
        -1.7510173642876584e-05,
        5.4366923601133305e-05,
        0.000431635607970081,
        -7.59041370896144e-05,
        0.00030819759989603917,
        0.0005272437384317226,
        0.00024075451845066966,
        0.0005021285298154999,
    ];
    const ENS2_GAIN: [f64; 30] = [
        10.236844779004821,
        9.183663420516718,
        3.996436849125678,
        15.510752405950184,
        21.38173253118878,
        4.589796033122775,
        8.548098244143823,
        14.767724303179126,
        29.708400905870544,
        24.827123023493982,
        11.616198846797968,
        168.11692723397368,
        142.01752422369077,
        92.72333554371279,
        3.9424242698819163,
        4.512619795368126,
        4.650526458498513,
        18.812221750801722,
        7.995271577987088,
        12.402334840811664,
        4.619421792500643,
        22.549759653071977,
        18.09766194035915,
        5.03662961775468,
        5.124099899246619,
        9.145593624452824,
        18.078441495487972,
        18.422312862965363,
        31.147856194515,
        6.29086975663852,
    ];
    const ENS2_BIAS: [f64; 30] = [
        -2.4000907186315845,
        9.692277060143173,
        4.070771053612816,
        1.1859309416637247,
        -4.963966608725652,
        4.25392712439595,
        4.780857740945327,
        8.3610837166398,
        -3.153983182553416,
        -1.8666486086004577,
        3.902151834349159,
        -148.754364029024,
        -113.26644071306492,
        -54.51694779472151,
        4.183462405616684,
        4.986281516620498,
        4.267236693157859,
        7.755722900618107,
        0.07756884829355415,
        5.24782303477995,
        3.0024965540957083,
        9.09946475540077,
        17.029280694916466,
        2.1765083277023667,
        2.944888893022589,
        -0.015676906830352833,
        13.583272709898313,
        1.1694698649547397,
        -9.674520650054422,
        2.8122731019293274,
    ];
    const ENS2_ENCODERS: [f64; 60] = [
        -0.8602665285951254,
        -0.5098445839458261,
        0.860266537816296,
        0.5098445683868403,
        0.9936750008583133,
        0.11229422366814429,
        -0.9936719641010409,
        -0.1123210922292875,
        -0.39662155211453326,
        -0.9179822135522336,
        0.21869510147809434,
        -0.9757932427463751,
        -0.4167904714081912,
        0.9090025868738425,
        -0.5966769189589333,
        0.8024815601505585,
        0.41679047145730164,
        -0.9090025868513248,
        -0.011040795966206923,
        0.999939048554677,
        -0.5788093157694087,
        -0.8154629212775704,
        -0.2186951015082007,
        0.9757932427396276,
        0.57880931392524,
        0.8154629225865472,
        0.011040795903179275,
        -0.9999390485553729,
        0.9461013752273618,
        0.32387063434787505,
        -0.8714743672939756,
        0.4904410536951048,
        0.596676919500076,
        -0.8024815597481977,
        0.7504751519107546,
        -0.660898665730632,
        -0.9461012953785233,
        -0.3238708676047916,
        -0.1970938878482201,
        -0.9803846180825531,
        -0.9543719437501953,
        0.2986204831930894,
        -0.7504751512603628,
        0.6608986664691765,
        0.19709388774272868,
        0.9803846181037607,
        0.8714743683860064,
        -0.4904410517546539,
        -0.9955710024327847,
        0.0940126540151922,
        0.3966215526117095,
        0.9179822133374246,
        -0.7356870020028704,
        -0.6773216629372107,
        0.9543719448359073,
        -0.2986204797232232,
        0.7356870060978005,
        0.6773216584894174,
        0.9955709990737046,
        -0.09401268958702244,
    ];
    const ENS2_DEC: [f64; 60] = [
        0.000518710060882245,
        -0.00019514903917526363,
        -3.262088666625338e-05,
        -0.00022131549439964552,
        0.0004982638054385134,
        5.628746590679191e-05,
        -0.0001860377190052679,
        0.00017641959068709516,
        -0.0006324063250565317,
        -0.0002868142559112486,
        -0.0002935462345790948,
        0.0,
        0.0,
        -1.450855062250101e-05,
        -8.638648122658908e-05,
        0.00043835725492229254,
        0.0001232936975302495,
        0.0007969959469111272,
        0.0002184287108558178,
        -0.00011541656876523765,
        0.00014388572068792571,
        5.590031289386742e-05,
        -0.0002561412911838332,
        -6.820598913616657e-05,
        0.00020616227245926584,
        0.00030725348331495317,
        -7.27167867643427e-05,
        -0.0007709354967015278,
        0.0,
        -0.0001755345414468218,
        -0.00014240796620475796,
        0.0003198350433971383,
        0.000300440408345773,
        -0.0004541808874608492,
        -0.00021053012421895257,
        9.302883661276484e-05,
        -0.0002303964257911201,
        -0.00027488912094586563,
        0.00044934674468749975,
        0.00013173596902166509,
        -0.00038104986071621613,
        0.0,
        0.0,
        -0.0004272019236438911,
        0.00028448344052214164,
        -0.0004051163169832804,
        0.00020502424168539245,
        0.0004238039590674172,
        -0.00032015217819968844,
        -8.926152738643563e-05,
        -0.00028246854912950876,
        -0.0002615314189014679,
        0.0002590679116455748,
        0.0002778047234888229,
        -0.0003537843228255385,
        0.000127680062514732,
        -0.0003230660302567355,
        0.0005115270434573147,
        0.0,
        0.0004071379689797711,
    ];

    /// Nengo's `get_activities`: rates of `gain * (x . e) + bias`, radius 1.
    fn activities(
        eval_points: &Array2<f64>,
        encoders: &[f64],
        gain: &[f64],
        bias: &[f64],
    ) -> Array2<f64> {
        let n = gain.len();
        let d = eval_points.ncols();
        let enc = Array2::from_shape_vec((n, d), encoders.to_vec()).unwrap();
        let x = eval_points.dot(&enc.t());
        NefNeuron::from(Lif::default())
            .rates(&x, gain, bias)
            .unwrap()
    }

    #[track_caller]
    fn assert_decoders(got: &Array2<f64>, want_dxn: &[f64]) {
        let (n, d) = got.dim();
        let want = Array2::from_shape_vec((d, n), want_dxn.to_vec()).unwrap();
        let scale = want.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        for ((i, j), &g) in got.indexed_iter() {
            let w = want[[j, i]];
            assert!(
                (g - w).abs() <= 1e-6 * scale,
                "decoder ({i}, {j}): got {g}, want {w}"
            );
        }
    }

    fn ens1() -> (Array2<f64>, Array2<f64>) {
        let m = 750;
        let ep = Array2::from_shape_fn((m, 1), |(i, _)| -1.0 + 2.0 * i as f64 / (m - 1) as f64);
        let a = activities(&ep, &ENS1_ENCODERS, &ENS1_GAIN, &ENS1_BIAS);
        (ep, a)
    }

    #[test]
    fn decoders_match_nengo() {
        let (ep, a) = ens1();
        let dec = solve_lstsq_l2(&a, &ep, 0.1).unwrap();
        assert_decoders(&dec, &ENS1_DEC_IDENTITY);
        let sq = ep.mapv(|x| x * x);
        let dec = Solver::default().solve(&a, &sq).unwrap();
        assert_decoders(&dec, &ENS1_DEC_SQUARE);
        // both targets at once: columns are independent
        let both = ndarray::concatenate![ndarray::Axis(1), ep, sq];
        let dec2 = solve_lstsq_l2(&a, &both, 0.1).unwrap();
        assert!((&dec2.column(1) - &dec.column(0))
            .iter()
            .all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn fewer_eval_points_than_neurons_matches_nengo() {
        let angles = (0..12).map(|k| 2.0 * std::f64::consts::PI * k as f64 / 12.0);
        let radii = (0..12).map(|k| 0.2 + 0.8 * k as f64 / 11.0);
        let rows: Vec<f64> = angles
            .zip(radii)
            .flat_map(|(t, r)| [r * t.cos(), r * t.sin()])
            .collect();
        let ep = Array2::from_shape_vec((12, 2), rows).unwrap();
        let a = activities(&ep, &ENS2_ENCODERS, &ENS2_GAIN, &ENS2_BIAS);
        assert_eq!(a.dim(), (12, 30));
        let targets = Array2::from_shape_fn((12, 2), |(i, j)| {
            if j == 0 {
                ep[[i, 0]] * ep[[i, 1]]
            } else {
                ep[[i, 0]]
            }
        });
        let dec = solve_lstsq_l2(&a, &targets, 0.1).unwrap();
        assert_decoders(&dec, &ENS2_DEC);
    }

    #[test]
    fn both_normal_equation_forms_agree() {
        // with reg > 0 the two forms have the same minimiser; check it on a system small
        // enough to take either path by slicing the eval points
        let (ep, a) = ens1();
        let rows: Vec<usize> = (0..750).step_by(50).collect(); // 15 < 20 neurons
        let a_small = a.select(ndarray::Axis(0), &rows);
        let y_small = ep.select(ndarray::Axis(0), &rows);
        let fat = solve_lstsq_l2(&a_small, &y_small, 0.1).unwrap();
        // tall form by hand: (A^T A + m s^2 I) X = A^T Y
        let m = rows.len() as f64;
        let s = 0.1 * a_small.iter().copied().fold(0.0, f64::max);
        let mut g = a_small.t().dot(&a_small);
        for i in 0..20 {
            g[[i, i]] += m * s * s;
        }
        let resid = g.dot(&fat) - a_small.t().dot(&y_small);
        let scale = a_small
            .t()
            .dot(&y_small)
            .iter()
            .fold(0.0f64, |t, v| t.max(v.abs()));
        assert!(resid.iter().all(|v| v.abs() < 1e-9 * scale));
    }

    fn err(r: Result<Array2<f64>>) -> crate::Error {
        r.unwrap_err()
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let (ep, a) = ens1();
        let short = ep.slice(ndarray::s![..10, ..]).to_owned();
        let e = err(solve_lstsq_l2(&a, &short, 0.1)).to_string();
        assert!(e.contains("750 x 20") && e.contains("10 x 1"), "{e}");
        let mut bad = a.clone();
        bad[[3, 4]] = f64::NAN;
        let e = err(solve_lstsq_l2(&bad, &ep, 0.1)).to_string();
        assert!(e.contains("(3, 4)") && e.contains("finite"), "{e}");
        let mut bad = ep.clone();
        bad[[7, 0]] = f64::INFINITY;
        let e = err(solve_lstsq_l2(&a, &bad, 0.1)).to_string();
        assert!(e.contains("targets entry (7, 0)"), "{e}");
        let e = err(solve_lstsq_l2(&a, &ep, -1.0)).to_string();
        assert!(e.contains("reg"), "{e}");
        assert!(Solver::lstsq_l2(f64::NAN).validate().is_err());
        let zero = Array2::zeros((5, 3));
        let e = err(solve_lstsq_l2(&zero, &Array2::zeros((5, 1)), 0.1));
        assert!(
            matches!(&e, Error::Build(m) if m.contains("all zero")),
            "{e}"
        );
        // reg = 0 with fewer active neurons than unknowns: singular Gram matrix
        let mut rank1 = Array2::zeros((5, 3));
        rank1.column_mut(0).fill(1.0);
        let e = err(solve_lstsq_l2(&rank1, &Array2::ones((5, 1)), 0.0));
        assert!(
            matches!(&e, Error::Build(m) if m.contains("increase reg")),
            "{e}"
        );
        let e = err(solve_lstsq_l2(
            &Array2::zeros((0, 3)),
            &Array2::zeros((0, 1)),
            0.1,
        ));
        assert!(e.to_string().contains("at least one eval point"), "{e}");
    }

    #[test]
    fn sign_constrained_solvers_keep_their_signs_and_fit() {
        let (ep, a) = ens1();
        let sq = ep.mapv(|x| x * x);
        let objective = |d: &Array2<f64>, reg: f64| {
            let m = a.nrows() as f64;
            let sigma = reg * a.iter().copied().fold(0.0, f64::max);
            let r = a.dot(d) - &sq;
            r.iter().map(|v| v * v).sum::<f64>()
                + m * sigma * sigma * d.iter().map(|v| v * v).sum::<f64>()
        };
        let free = solve_lstsq_l2(&a, &sq, 0.1).unwrap();
        let nonneg = Solver::nnls(0.1).solve(&a, &sq).unwrap();
        assert!(nonneg.iter().all(|&v| v >= 0.0));
        assert!(free.iter().any(|&v| v < 0.0), "the constraint is active");
        // the constrained minimum is at least the free one, and not far from it for x^2
        let (f, c) = (objective(&free, 0.1), objective(&nonneg, 0.1));
        assert!(c >= f * (1.0 - 1e-12) && c < 3.0 * f, "{c} vs {f}");

        // An exact signed solution is recovered (reg 0), signs as the mask says.
        let mask: Vec<bool> = (0..20).map(|j| j % 3 != 1).collect();
        let truth = Array2::from_shape_fn((20, 2), |(j, k)| {
            let s = if mask[j] { 1.0 } else { -1.0 };
            if (j + k) % 4 == 0 {
                0.0
            } else {
                s * 1e-3 * (1.0 + j as f64 + k as f64)
            }
        });
        let y = a.dot(&truth);
        let dale = Solver::Dale {
            reg: 0.0,
            excitatory: Excitatory::Mask(mask.clone()),
        };
        let got = dale.solve(&a, &y).unwrap();
        for ((j, k), &v) in got.indexed_iter() {
            assert!(
                if mask[j] { v >= 0.0 } else { v <= 0.0 },
                "({j}, {k}) = {v}"
            );
            assert!(
                (v - truth[[j, k]]).abs() < 1e-6 * 2e-2,
                "({j}, {k}): {v} vs {}",
                truth[[j, k]]
            );
        }
        // With every neuron excitatory and a positive free solution, Dale is the free solution.
        let pos = Array2::from_shape_fn((20, 1), |(j, _)| 1e-3 * (1.0 + j as f64));
        let y = a.dot(&pos);
        let all = Solver::Dale {
            reg: 0.01,
            excitatory: Excitatory::Mask(vec![true; 20]),
        };
        let free = solve_lstsq_l2(&a, &y, 0.01).unwrap();
        assert!(free.iter().all(|&v| v > 0.0));
        let got = all.solve(&a, &y).unwrap();
        for (p, q) in got.iter().zip(&free) {
            assert!((p - q).abs() < 1e-9 * q.abs().max(1e-3), "{p} vs {q}");
        }
    }

    #[test]
    fn excitatory_masks() {
        use crate::rng::stream;
        let m = Excitatory::Fraction(0.7)
            .mask(10, &mut stream(1, 2, 3))
            .unwrap();
        assert_eq!(m.iter().filter(|&&e| e).count(), 7);
        assert_eq!(
            m,
            Excitatory::Fraction(0.7)
                .mask(10, &mut stream(1, 2, 3))
                .unwrap()
        );
        // rounded to the nearest whole neuron
        let m = Excitatory::Fraction(0.25)
            .mask(10, &mut stream(1, 2, 3))
            .unwrap();
        assert_eq!(m.iter().filter(|&&e| e).count(), 3);
        assert!(Excitatory::Fraction(1.01)
            .mask(10, &mut stream(1, 2, 3))
            .is_err());
        let e = Excitatory::Mask(vec![true; 3])
            .mask(4, &mut stream(1, 2, 3))
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 entries") && e.contains("4 neurons"), "{e}");
        assert!(Solver::dale(0.1, f64::NAN).validate().is_err());
        assert!(Solver::dale(0.1, 1.0).weights() && Solver::dale(0.1, 0.0).solves_neuron_weights());
        assert!(!Solver::nnls(0.1).weights() && !Solver::nnls(0.1).solves_neuron_weights());
        let w = Solver::LstsqL2 {
            reg: 0.1,
            weights: true,
        };
        assert!(w.weights() && !w.solves_neuron_weights());
    }

    #[test]
    fn solver_defaults() {
        assert_eq!(
            Solver::default(),
            Solver::LstsqL2 {
                reg: 0.1,
                weights: false
            }
        );
        assert!(!Solver::lstsq_l2(0.01).weights());
        assert!(Solver::LstsqL2 {
            reg: 0.1,
            weights: true
        }
        .weights());
    }
}
