//! Sign-constrained solvers (issue 4, Dale's principle): `Solver::Dale` neuron -> neuron weights
//! with excitatory and inhibitory pre neurons, `Solver::Nnls` decoders and weights, and their
//! errors.

mod common;

use lamina::lower::nef::build_nef;
use lamina::prelude::*;
use ndarray::Array2;
use std::time::Instant;

fn rmse(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// Weights whose sign disagrees with their pre neuron's (post x pre, as `sim.weights`).
fn sign_violations(w: &Array2<f32>, excitatory: &[bool]) -> usize {
    assert_eq!(w.ncols(), excitatory.len());
    w.indexed_iter()
        .filter(|&((_, j), &v)| if excitatory[j] { v < 0.0 } else { v > 0.0 })
        .count()
}

const RAMP_SECONDS: f64 = 4.0;

/// x from -1 to 1 over the run.
fn ramp(t: f64) -> f64 {
    -1.0 + 2.0 * t / RAMP_SECONDS
}

/// pre (100) -> post (100) computing x^2 under Dale's principle, and the same into `baseline`
/// through the unconstrained weight solver.
struct Square {
    net: NefNetwork,
    dale: ConnectionId,
    baseline: ConnectionId,
    p_post: NefProbeId,
    p_baseline: NefProbeId,
}

fn square_network(seed: u64, solver: Solver) -> lamina::Result<Square> {
    let mut net = NefNetwork::new().with_seed(seed);
    let stim = net.node("stim", Node::function(1, |t| vec![ramp(t)]))?;
    let pre = net.ensemble("pre", Ensemble::new(100, 1))?;
    let post = net.ensemble("post", Ensemble::new(100, 1))?;
    let base = net.ensemble("baseline", Ensemble::new(100, 1))?;
    net.connect(stim, pre, Connection::new())?;
    let square = |x: &[f64]| vec![x[0] * x[0]];
    let dale = net.connect(
        pre,
        post,
        Connection::new().function(1, square).solver(solver),
    )?;
    let baseline = net.connect(
        pre,
        base,
        Connection::new()
            .function(1, square)
            .solver(Solver::LstsqL2 {
                reg: 0.1,
                weights: true,
            }),
    )?;
    let probe = Probe::new().synapse(Synapse::lowpass(0.05));
    let p_post = net.probe(post, probe)?;
    let p_baseline = net.probe(base, probe)?;
    Ok(Square {
        net,
        dale,
        baseline,
        p_post,
        p_baseline,
    })
}

on_every_backend! {
    fn dale_weights_compute_the_square_with_the_signs_of_their_pre_neurons(backend: BackendChoice) {
        let s = square_network(1, Solver::dale(0.1, 0.7))?;
        let mut sim = Simulator::new(&s.net, backend)?;
        let built = sim.nef_plan().built_connections[s.dale.index()].clone();
        let excitatory = built.excitatory.clone().expect("a Dale connection reports its mask");
        assert_eq!(excitatory.iter().filter(|&&e| e).count(), 70);
        assert!(built.decoders.is_none(), "Dale solves weights, not decoders");
        let w = sim.weights(s.dale)?;
        assert_eq!(w.dim(), (100, 100));
        assert_eq!(sign_violations(&w, &excitatory), 0);
        // both signs are used, and not trivially: most weights are non-zero
        assert!(w.iter().any(|&v| v > 0.0) && w.iter().any(|&v| v < 0.0));
        assert!(sim.nef_plan().built_connections[s.baseline.index()].excitatory.is_none());

        sim.run(RAMP_SECONDS)?;
        // the ideal lags the input by the filters on the way (5 + 5 + 50 ms); the first
        // 0.3 s are the probe filter settling
        let t = sim.trange(s.p_post)?;
        let ideal: Vec<f64> = t.iter().map(|&t| ramp(t - 0.06).powi(2)).collect();
        let from = 300;
        let col = |p| -> lamina::Result<Vec<f64>> {
            Ok(sim.data(p)?.column(0).iter().map(|&v| v as f64).collect())
        };
        let dale = rmse(&col(s.p_post)?[from..], &ideal[from..]);
        let base = rmse(&col(s.p_baseline)?[from..], &ideal[from..]);
        eprintln!("x^2 rmse: Dale {dale:.4}, LstsqL2 weights {base:.4}");
        // measured: 0.0146 and 0.0109 (seed 1, both backends)
        assert!(dale < 0.03, "Dale rmse {dale}");
        assert!(dale < 2.0 * base, "Dale rmse {dale} against the unconstrained {base}");
        // the weights as simulated are still the solved ones
        assert_eq!(sign_violations(&sim.weights(s.dale)?, &excitatory), 0);
        Ok(())
    }

    fn nnls_decoders_are_non_negative(backend: BackendChoice) {
        let mut net = NefNetwork::new().with_seed(2);
        let stim = net.node("stim", Node::function(1, |t| vec![ramp(t)]))?;
        let pre = net.ensemble("pre", Ensemble::new(50, 1))?;
        let out = net.node("out", Node::passthrough(1))?;
        net.connect(stim, pre, Connection::new())?;
        // x^2 >= 0: a non-negative decoding can fit it
        let conn = net.connect(
            pre,
            out,
            Connection::new().function(1, |x| vec![x[0] * x[0]]).solver(Solver::nnls(0.1)),
        )?;
        let p = net.probe(out, Probe::new().synapse(Synapse::lowpass(0.05)))?;
        let mut sim = Simulator::new(&net, backend)?;
        let built = sim.nef_plan().built_connections[conn.index()].clone();
        let d = built.decoders.expect("Nnls without weights solves decoders");
        assert_eq!(d.dim(), (1, 50));
        assert!(d.iter().all(|&v| v >= 0.0), "{d:?}");
        assert!(d.iter().filter(|&&v| v > 0.0).count() >= 3);
        assert!(built.excitatory.is_none());
        assert!(sim.weights(conn)?.iter().all(|&v| v >= 0.0));
        sim.run(RAMP_SECONDS)?;
        let t = sim.trange(p)?;
        let y: Vec<f64> = sim.data(p)?.column(0).iter().map(|&v| v as f64).collect();
        let ideal: Vec<f64> = t.iter().map(|&t| ramp(t - 0.06).powi(2)).collect();
        let e = rmse(&y[300..], &ideal[300..]);
        eprintln!("x^2 rmse, non-negative decoders: {e:.4}");
        // measured: 0.0368
        assert!(e < 0.07, "rmse {e}");
        Ok(())
    }
}

#[test]
fn nnls_weights_are_non_negative_and_report_all_excitatory() -> lamina::Result<()> {
    let s = square_network(
        3,
        Solver::Nnls {
            reg: 0.1,
            weights: true,
        },
    )?;
    let plan = build_nef(&s.net)?;
    let c = &plan.built_connections[s.dale.index()];
    assert_eq!((c.rows, c.cols), (100, 100));
    assert_eq!(c.excitatory, Some(vec![true; 100]));
    let w = &plan.w[c.w_off..c.w_off + c.rows * c.cols];
    assert!(w.iter().all(|&v| v >= 0.0));
    assert!(w.iter().filter(|&&v| v > 0.0).count() > 100);
    Ok(())
}

#[test]
fn an_explicit_mask_is_used_as_given_and_a_fraction_is_a_property_of_the_pre_neurons(
) -> lamina::Result<()> {
    let mask: Vec<bool> = (0..100).map(|j| j % 3 != 0).collect();
    let s = square_network(
        4,
        Solver::Dale {
            reg: 0.1,
            excitatory: Excitatory::Mask(mask.clone()),
        },
    )?;
    let plan = build_nef(&s.net)?;
    let c = &plan.built_connections[s.dale.index()];
    assert_eq!(c.excitatory.as_ref(), Some(&mask));
    let w = Array2::from_shape_vec((100, 100), plan.w[c.w_off..c.w_off + 10_000].to_vec()).unwrap();
    assert_eq!(sign_violations(&w, &mask), 0);

    // The fraction's draw depends on the seed and the pre ensemble, not on the connection:
    // two Dale connections from `pre` share their mask, and a larger fraction keeps the
    // excitatory neurons of a smaller one.
    let masks = |seed: u64, fractions: [f64; 2]| -> lamina::Result<Vec<Vec<bool>>> {
        let mut net = NefNetwork::new().with_seed(seed);
        let pre = net.ensemble("pre", Ensemble::new(40, 1))?;
        let a = net.ensemble("a", Ensemble::new(10, 1))?;
        let b = net.ensemble("b", Ensemble::new(10, 1))?;
        let ca = net.connect(
            pre,
            a,
            Connection::new().solver(Solver::dale(0.1, fractions[0])),
        )?;
        let cb = net.connect(
            pre,
            b,
            Connection::new().solver(Solver::dale(0.1, fractions[1])),
        )?;
        let plan = build_nef(&net)?;
        Ok([ca, cb]
            .iter()
            .map(|c| {
                plan.built_connections[c.index()]
                    .excitatory
                    .clone()
                    .unwrap()
            })
            .collect())
    };
    let same = masks(5, [0.7, 0.7])?;
    assert_eq!(same[0], same[1]);
    assert_eq!(same[0].iter().filter(|&&e| e).count(), 28);
    let nested = masks(5, [0.25, 0.7])?;
    assert_eq!(nested[1], same[0]);
    assert_eq!(nested[0].iter().filter(|&&e| e).count(), 10);
    assert!(nested[0]
        .iter()
        .zip(&nested[1])
        .all(|(&small, &large)| !small || large));
    assert_ne!(
        masks(6, [0.7, 0.7])?[0],
        same[0],
        "another seed draws another mask"
    );
    let edges = masks(5, [0.0, 1.0])?;
    assert!(edges[0].iter().all(|&e| !e) && edges[1].iter().all(|&e| e));
    Ok(())
}

#[test]
fn dale_weights_do_not_depend_on_the_thread_count() -> lamina::Result<()> {
    let s = square_network(7, Solver::dale(0.1, 0.7))?;
    let weights = |threads: usize| -> lamina::Result<Vec<f32>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let start = Instant::now();
        let plan = pool.install(|| build_nef(&s.net))?;
        eprintln!(
            "build with {threads} threads: {:.3} s",
            start.elapsed().as_secs_f64()
        );
        let c = &plan.built_connections[s.dale.index()];
        Ok(plan.w[c.w_off..c.w_off + c.rows * c.cols].to_vec())
    };
    let one = weights(1)?;
    let three = weights(3)?;
    assert!(one == three, "Dale weights differ between 1 and 3 threads");
    Ok(())
}

#[test]
fn dale_solve_time_for_100_by_100() -> lamina::Result<()> {
    // The solve alone, on the activities the builder uses: 750 eval points x 100 pre neurons,
    // 100 post neurons.
    let s = square_network(8, Solver::dale(0.1, 0.7))?;
    let plan = build_nef(&s.net)?;
    let pre = &plan.built_ensembles[0];
    let post = &plan.built_ensembles[1];
    let a = lamina::lower::nef::ensemble_rates(pre, &pre.eval_points);
    let currents = pre
        .eval_points
        .mapv(|x| x * x)
        .dot(&post.scaled_encoders.t());
    let start = Instant::now();
    let (w, mask) = Solver::dale(0.1, 0.7).solve_neuron_weights(
        &a,
        &currents,
        &mut lamina::rng::stream(1, 2, 3),
    )?;
    eprintln!(
        "Dale solve, {} eval points x 100 pre -> 100 post: {:.3} s",
        a.nrows(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(w.dim(), (100, 100));
    assert_eq!(mask.len(), 100);
    Ok(())
}

#[test]
fn bad_dale_and_nnls_inputs_are_errors() -> lamina::Result<()> {
    let mut net = NefNetwork::new();
    let stim = net.node("stim", Node::function(1, |t| vec![t]))?;
    let pre = net.ensemble("pre", Ensemble::new(20, 1))?;
    let post = net.ensemble("post", Ensemble::new(10, 1))?;
    let sink = net.node("sink", Node::passthrough(1))?;
    let err = |r: lamina::Result<ConnectionId>| r.unwrap_err().to_string();

    let e = err(net.connect(
        pre,
        post,
        Connection::new().solver(Solver::Dale {
            reg: 0.1,
            excitatory: Excitatory::Mask(vec![true; 19]),
        }),
    ));
    assert!(e.contains("19 entries") && e.contains("20 neurons"), "{e}");
    for f in [1.5, -0.1, f64::NAN] {
        let e = err(net.connect(pre, post, Connection::new().solver(Solver::dale(0.1, f))));
        assert!(e.contains("fraction") && e.contains("[0, 1]"), "{e}");
    }
    for reg in [f64::NAN, -1.0, f64::INFINITY] {
        let e = err(net.connect(pre, post, Connection::new().solver(Solver::dale(reg, 0.5))));
        assert!(e.contains("Dale solver: reg"), "{e}");
        let e = err(net.connect(pre, post, Connection::new().solver(Solver::nnls(reg))));
        assert!(e.contains("Nnls solver: reg"), "{e}");
    }
    // Dale solves neuron weights: an ensemble on both ends
    for e in [
        err(net.connect(pre, sink, Connection::new().solver(Solver::dale(0.1, 0.5)))),
        err(net.connect(
            pre,
            post.neurons(),
            Connection::new()
                .transform(Array2::zeros((10, 1)))
                .solver(Solver::dale(0.1, 0.5)),
        )),
        err(net.connect(stim, post, Connection::new().solver(Solver::dale(0.1, 0.5)))),
    ] {
        assert!(
            e.contains("Solver::Dale") && e.contains("ensemble on both ends"),
            "{e}"
        );
    }
    let e = err(net.connect(
        pre,
        sink,
        Connection::new().solver(Solver::Nnls {
            reg: 0.1,
            weights: true,
        }),
    ));
    assert!(e.contains("ensemble on both ends"), "{e}");
    // nothing above was added: the network still builds
    build_nef(&net)?;

    // By hand: a fraction needs the builder's draw; a mask must fit the activities.
    let a = Array2::from_shape_fn((5, 3), |(i, j)| (i + j) as f64);
    let y = Array2::ones((5, 1));
    let e = Solver::dale(0.1, 0.5)
        .solve(&a, &y)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Excitatory::Mask"), "{e}");
    let two = Solver::Dale {
        reg: 0.1,
        excitatory: Excitatory::Mask(vec![true, false]),
    };
    let e = two.solve(&a, &y).unwrap_err().to_string();
    assert!(e.contains("2 entries") && e.contains("3 pre"), "{e}");
    let e = Solver::nnls(0.1)
        .solve(&Array2::zeros((5, 3)), &y)
        .unwrap_err()
        .to_string();
    assert!(e.contains("all zero"), "{e}");
    Ok(())
}
