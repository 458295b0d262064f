//! Property tests of the two builders, the spiking `Network` and the NEF `NefNetwork`:
//!
//! - random valid networks build and run on the CPU twin without a panic, and a second,
//!   independent build of the same description gives the same spikes, states and probe data bit
//!   for bit: run in two pieces, again after ablating neurons and `reset()`, and (spiking) with
//!   its populations, projections and Poisson inputs added in the opposite order;
//! - random invalid inputs are refused with an error that says something, never with a panic
//!   and never silently.
//!
//! The generators draw raw numbers that are resolved against the network as it is built (a
//! population index modulo the candidates, a slice modulo a size, the sizes of a one-to-one rule
//! trimmed to match), so every case, and every case shrinking makes of it, is valid: a failure is
//! reduced to a small network. The runner's seed is fixed and no failure file is written, so
//! a run is reproducible.

use lamina::model::nef::NefObj;
use lamina::prelude::*;
use ndarray::Array2;
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed, TestCaseError};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x1a3_1a3),
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    }
}

/// Runs `attempt`, which must refuse its input: no panic, an `Err`, and a message (that
/// contains `needle`, where one is given).
fn assert_refused(
    case: &dyn std::fmt::Debug,
    needle: Option<&str>,
    attempt: impl FnOnce() -> Result<()>,
) -> std::result::Result<(), TestCaseError> {
    match catch_unwind(AssertUnwindSafe(attempt)) {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(TestCaseError::fail(format!(
                "{case:?} panicked instead of returning an error: {msg}"
            )))
        }
        Ok(Ok(())) => Err(TestCaseError::fail(format!(
            "{case:?} was accepted: built and ran without an error"
        ))),
        Ok(Err(e)) => {
            let msg = e.to_string();
            // Every message names its stage ("invalid model: ...") and then says what was wrong.
            let detail = msg.split_once(": ").map_or("", |(_, d)| d.trim());
            prop_assert!(!detail.is_empty(), "{case:?}: empty error message `{msg}`");
            if let Some(needle) = needle {
                prop_assert!(
                    msg.contains(needle),
                    "{case:?}: the error `{msg}` does not mention `{needle}`"
                );
            }
            Ok(())
        }
    }
}

fn non_finite() -> impl Strategy<Value = f64> {
    prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)]
}

/// Zero, negative or not finite.
fn non_positive() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(-0.0), -1e3..-1e-9f64, non_finite()]
}

/// Negative or not finite.
fn negative() -> impl Strategy<Value = f64> {
    prop_oneof![-1e3..-1e-9f64, non_finite()]
}

// ------------------------------------------------------------------------------------------
// Spiking networks: valid
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum PopSpec {
    Lif { size: u32, neuron: LifCurrent },
    Source { times_ms: Vec<Vec<f64>> },
}

impl PopSpec {
    fn size(&self) -> u32 {
        match self {
            PopSpec::Lif { size, .. } => *size,
            PopSpec::Source { times_ms } => times_ms.len() as u32,
        }
    }
}

/// A slice as raw numbers: population `pop` modulo the candidates; `part` = (start, length)
/// modulo its size; `None` is the whole population.
#[derive(Clone, Debug)]
struct RawSlice {
    pop: usize,
    part: Option<(u32, u32)>,
}

#[derive(Clone, Debug)]
enum RawRule {
    /// Pairs modulo the slice sizes.
    Explicit(Vec<(u32, u32)>),
    Probability(f64),
    Total(u64),
    InDegree(u32),
    AllToAll,
    OneToOne,
}

/// A distribution, or (with an explicit rule) values cycled over its pairs.
#[derive(Clone, Debug)]
struct RawValues {
    dist: Dist,
    each: Option<Vec<f64>>,
}

#[derive(Clone, Debug)]
struct RawBlock {
    source: RawSlice,
    target: RawSlice,
    rule: RawRule,
    weight_pa: RawValues,
    /// In steps of dt: scaled to ms when the network is built.
    delay_steps: RawValues,
}

#[derive(Clone, Debug)]
struct RawPoisson {
    target: RawSlice,
    in_degree: u32,
    rate_hz: f64,
    weight_pa: f64,
}

#[derive(Clone, Debug)]
struct SpikingSpec {
    seed: u64,
    dt_ms: f64,
    /// The first is always a LIF population, so projections have a target.
    pops: Vec<PopSpec>,
    projections: Vec<Vec<RawBlock>>,
    currents: Vec<(RawSlice, f64)>,
    poisson: Vec<RawPoisson>,
    spike_probes: Vec<RawSlice>,
    /// Sampling interval in steps (rounded by the network).
    state_probes: Vec<(RawSlice, f64)>,
    steps: u64,
    /// Where the second run is split in two.
    split: u64,
}

/// `d` times `k`, bounds swapped when `k < 0`.
fn scale_dist(d: &Dist, k: f64) -> Dist {
    match *d {
        Dist::Const(c) => Dist::Const(c * k),
        Dist::Uniform { low, high } => {
            let (low, high) = lo_hi(low, high, k);
            Dist::Uniform { low, high }
        }
        Dist::Normal {
            mean,
            sd,
            low,
            high,
        } => {
            let (low, high) = lo_hi(low, high, k);
            Dist::Normal {
                mean: mean * k,
                sd: sd * k.abs(),
                low,
                high,
            }
        }
        Dist::NormalClamped {
            mean,
            sd,
            low,
            high,
        } => {
            let (low, high) = lo_hi(low, high, k);
            Dist::NormalClamped {
                mean: mean * k,
                sd: sd * k.abs(),
                low,
                high,
            }
        }
    }
}

fn lo_hi(l: f64, h: f64, k: f64) -> (f64, f64) {
    if k < 0.0 {
        (h * k, l * k)
    } else {
        (l * k, h * k)
    }
}

fn lif_neuron() -> impl Strategy<Value = LifCurrent> {
    (
        (
            1.0..40.0f64,
            20.0..500.0f64,
            -80.0..-50.0f64,
            2.0..30.0f64,
            0.5..25.0f64,
        ),
        (
            prop_oneof![Just(0.0), 0.0..5.0f64],
            0.2..10.0f64,
            0.2..10.0f64,
            -100.0..800.0f64,
            0..3u8,
            0.0..1.0f64,
        ),
    )
        .prop_map(
            |((tau_m, c_m, e_l, th_gap, reset_gap), (t_ref, tau_ex, tau_in, i_e, v0, u))| {
                let v_th = e_l + th_gap;
                let v_reset = v_th - reset_gap;
                LifCurrent {
                    tau_m_ms: tau_m,
                    c_m_pf: c_m,
                    e_l_mv: e_l,
                    v_reset_mv: v_reset,
                    v_th_mv: v_th,
                    t_ref_ms: t_ref,
                    tau_syn_ex_ms: tau_ex,
                    tau_syn_in_ms: tau_in,
                    i_e_pa: i_e,
                    v_init_mv: match v0 {
                        0 => Dist::Const(e_l),
                        1 => Dist::uniform(v_reset - 5.0, v_th),
                        _ => Dist::normal(e_l, 1.0 + 5.0 * u).clipped(e_l - 20.0, v_th),
                    },
                }
            },
        )
}

fn pop_spec() -> impl Strategy<Value = PopSpec> {
    prop_oneof![
        3 => (1u32..=80, lif_neuron()).prop_map(|(size, neuron)| PopSpec::Lif { size, neuron }),
        1 => prop::collection::vec(prop::collection::vec(0.0..30.0f64, 0..4), 1..=12)
            .prop_map(|times_ms| PopSpec::Source { times_ms }),
    ]
}

fn raw_slice() -> impl Strategy<Value = RawSlice> {
    (
        0usize..8,
        prop::option::weighted(0.5, (0u32..100, 0u32..100)),
    )
        .prop_map(|(pop, part)| RawSlice { pop, part })
}

fn raw_rule() -> impl Strategy<Value = RawRule> {
    prop_oneof![
        prop::collection::vec((0u32..100, 0u32..100), 0..20).prop_map(RawRule::Explicit),
        prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64].prop_map(RawRule::Probability),
        (0u64..300).prop_map(RawRule::Total),
        (0u32..12).prop_map(RawRule::InDegree),
        Just(RawRule::AllToAll),
        Just(RawRule::OneToOne),
    ]
}

/// Weights of 1 to 400 pA of either sign: far enough from zero for the fixed-point scale of
/// any target these networks have.
fn weight_values() -> impl Strategy<Value = RawValues> {
    let magnitude = prop_oneof![
        (1.0..400.0f64).prop_map(Dist::Const),
        (1.0..200.0f64, 0.0..200.0f64).prop_map(|(low, w)| Dist::uniform(low, low + w)),
        (20.0..200.0f64, 0.0..50.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clipped(1.0, 400.0)),
        (20.0..200.0f64, 0.0..80.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clamped(1.0, 400.0)),
    ];
    let signed = (1.0..400.0f64, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m });
    (
        magnitude,
        any::<bool>(),
        prop::option::of(prop::collection::vec(signed, 1..6)),
    )
        .prop_map(|(d, neg, each)| RawValues {
            dist: if neg { scale_dist(&d, -1.0) } else { d },
            each,
        })
}

/// Delays of 1 to 20 steps.
fn delay_values() -> impl Strategy<Value = RawValues> {
    let dist = prop_oneof![
        (1.0..20.0f64).prop_map(Dist::Const),
        (1.0..10.0f64, 0.0..10.0f64).prop_map(|(low, w)| Dist::uniform(low, low + w)),
        (1.0..15.0f64, 0.0..5.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clipped(1.0, 20.0)),
        (1.0..15.0f64, 0.0..5.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clamped(1.0, 20.0)),
    ];
    (
        dist,
        prop::option::of(prop::collection::vec(1.0..20.0f64, 1..6)),
    )
        .prop_map(|(dist, each)| RawValues { dist, each })
}

fn raw_block() -> impl Strategy<Value = RawBlock> {
    (
        raw_slice(),
        raw_slice(),
        raw_rule(),
        weight_values(),
        delay_values(),
    )
        .prop_map(|(source, target, rule, weight_pa, delay_steps)| RawBlock {
            source,
            target,
            rule,
            weight_pa,
            delay_steps,
        })
}

fn spiking_spec() -> impl Strategy<Value = SpikingSpec> {
    let pops = (
        (1u32..=80, lif_neuron()),
        prop::collection::vec(pop_spec(), 0..=3),
    )
        .prop_map(|((size, neuron), rest)| {
            let mut pops = vec![PopSpec::Lif { size, neuron }];
            pops.extend(rest);
            pops
        });
    let poisson = (
        raw_slice(),
        0u32..400,
        0.0..200.0f64,
        1.0..100.0f64,
        any::<bool>(),
    )
        .prop_map(|(target, in_degree, rate_hz, w, neg)| RawPoisson {
            target,
            in_degree,
            rate_hz,
            weight_pa: if neg { -w } else { w },
        });
    (
        (
            any::<u64>(),
            prop_oneof![Just(0.05), Just(0.1), Just(0.25), Just(1.0)],
            pops,
        ),
        prop::collection::vec(prop::collection::vec(raw_block(), 1..=3), 0..=5),
        prop::collection::vec((raw_slice(), -200.0..600.0f64), 0..=2),
        prop::collection::vec(poisson, 0..=2),
        prop::collection::vec(raw_slice(), 0..=3),
        prop::collection::vec((raw_slice(), 0.5..20.0f64), 0..=2),
        (20u64..=200, 0.0..1.0f64),
    )
        .prop_map(
            |(
                (seed, dt_ms, pops),
                projections,
                currents,
                poisson,
                spike_probes,
                state_probes,
                (steps, u),
            )| SpikingSpec {
                seed,
                dt_ms,
                pops,
                projections,
                currents,
                poisson,
                spike_probes,
                state_probes,
                steps,
                split: 1 + (u * (steps - 1) as f64) as u64,
            },
        )
}

/// A slice resolved against the populations.
#[derive(Clone, Debug)]
struct Sl {
    pop: usize,
    range: Range<u32>,
    whole: bool,
}

impl Sl {
    fn resolve(raw: &RawSlice, candidates: &[usize], pops: &[PopSpec]) -> Sl {
        let pop = candidates[raw.pop % candidates.len()];
        let n = pops[pop].size();
        match raw.part {
            None => Sl {
                pop,
                range: 0..n,
                whole: true,
            },
            Some((a, l)) => {
                let start = a % n;
                let len = 1 + l % (n - start);
                Sl {
                    pop,
                    range: start..start + len,
                    whole: false,
                }
            }
        }
    }

    fn len(&self) -> u32 {
        self.range.end - self.range.start
    }

    fn shorten(&mut self, len: u32) {
        if len < self.len() {
            self.range.end = self.range.start + len;
            self.whole = false;
        }
    }

    fn of(&self, ids: &[PopulationId]) -> NeuronSlice {
        if self.whole {
            ids[self.pop].into()
        } else {
            ids[self.pop].slice(self.range.clone())
        }
    }
}

fn resolve_values(raw: &RawValues, explicit_len: Option<usize>, scale: f64) -> Values {
    match (&raw.each, explicit_len) {
        (Some(each), Some(n)) => {
            Values::Each((0..n).map(|k| each[k % each.len()] * scale).collect())
        }
        _ => Values::Dist(scale_dist(&raw.dist, scale)),
    }
}

struct SpikingBuilt {
    net: Network,
    pops: Vec<PopulationId>,
    spikes: Vec<SpikeProbe>,
    states: Vec<StateProbe>,
}

/// Builds the network a spec describes; `reversed` adds its populations, projections (and their
/// blocks) and Poisson inputs in the opposite order.
fn build_spiking(spec: &SpikingSpec, reversed: bool) -> Result<SpikingBuilt> {
    let mut net = Network::new().with_seed(spec.seed).with_dt_ms(spec.dt_ms);
    let n = spec.pops.len();
    let order = |len: usize| -> Vec<usize> {
        if reversed {
            (0..len).rev().collect()
        } else {
            (0..len).collect()
        }
    };
    let mut ids = vec![None; n];
    for k in order(n) {
        let name = format!("pop{k}");
        ids[k] = Some(match &spec.pops[k] {
            PopSpec::Lif { size, neuron } => net.population(&name, *size, neuron.clone())?,
            PopSpec::Source { times_ms } => net.spike_source(&name, times_ms.clone())?,
        });
    }
    let ids: Vec<PopulationId> = ids.into_iter().map(Option::unwrap).collect();
    let all: Vec<usize> = (0..n).collect();
    let lif: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&k| matches!(spec.pops[k], PopSpec::Lif { .. }))
        .collect();
    let pops = &spec.pops;

    for k in order(spec.projections.len()) {
        let raw_blocks = &spec.projections[k];
        let mut blocks = Vec::new();
        for b in order(raw_blocks.len()) {
            let raw = &raw_blocks[b];
            let mut src = Sl::resolve(&raw.source, &all, pops);
            let mut tgt = Sl::resolve(&raw.target, &lif, pops);
            let rule = match &raw.rule {
                RawRule::Explicit(pairs) => Connectivity::Explicit(
                    pairs
                        .iter()
                        .map(|&(i, j)| (i % src.len(), j % tgt.len()))
                        .collect(),
                ),
                RawRule::Probability(p) => Connectivity::FixedProbability(*p),
                RawRule::Total(t) => Connectivity::FixedTotalNumber(*t),
                RawRule::InDegree(k) => Connectivity::FixedInDegree(*k),
                RawRule::AllToAll => Connectivity::AllToAll,
                RawRule::OneToOne => {
                    let len = src.len().min(tgt.len());
                    src.shorten(len);
                    tgt.shorten(len);
                    Connectivity::OneToOne
                }
            };
            let explicit_len = match &rule {
                Connectivity::Explicit(pairs) => Some(pairs.len()),
                _ => None,
            };
            blocks.push(Block::new(
                src.of(&ids),
                tgt.of(&ids),
                rule,
                resolve_values(&raw.weight_pa, explicit_len, 1.0),
                resolve_values(&raw.delay_steps, explicit_len, spec.dt_ms),
            ));
        }
        net.connect_blocks(blocks)?;
    }
    // Currents add up in f64 in the order given, so that order is kept.
    for (raw, amplitude) in &spec.currents {
        net.current(Sl::resolve(raw, &lif, pops).of(&ids), *amplitude)?;
    }
    for k in order(spec.poisson.len()) {
        let p = &spec.poisson[k];
        net.poisson(
            Sl::resolve(&p.target, &lif, pops).of(&ids),
            PoissonInput {
                in_degree: p.in_degree,
                rate_hz: p.rate_hz,
                weight_pa: p.weight_pa,
            },
        )?;
    }
    let mut spikes = Vec::new();
    for &id in &ids {
        spikes.push(net.probe_spikes(id)?);
    }
    for raw in &spec.spike_probes {
        spikes.push(net.probe_spikes(Sl::resolve(raw, &all, pops).of(&ids))?);
    }
    let mut states = Vec::new();
    for (raw, every_steps) in &spec.state_probes {
        let target = Sl::resolve(raw, &lif, pops).of(&ids);
        states.push(net.probe_state(target, every_steps * spec.dt_ms)?);
    }
    Ok(SpikingBuilt {
        net,
        pops: ids,
        spikes,
        states,
    })
}

/// Everything the probes recorded, f32 state as bits.
#[derive(Debug, PartialEq)]
struct SpikingRecord {
    steps: u64,
    spikes: Vec<SpikeTrains>,
    hashes: Vec<u64>,
    states: Vec<((usize, usize), Vec<u32>)>,
    state_times: Vec<Vec<u64>>,
}

fn record(sim: &Simulator, built: &SpikingBuilt) -> Result<SpikingRecord> {
    let mut r = SpikingRecord {
        steps: sim.n_steps(),
        spikes: Vec::new(),
        hashes: Vec::new(),
        states: Vec::new(),
        state_times: Vec::new(),
    };
    for p in &built.spikes {
        let t = sim.spikes(p)?;
        r.hashes.push(t.hash());
        r.spikes.push(t.clone());
    }
    for p in &built.states {
        for var in [StateVar::V, StateVar::ISynEx, StateVar::ISynIn] {
            let a = sim.state(p, var)?;
            r.states
                .push((a.dim(), a.iter().map(|x| x.to_bits()).collect()));
        }
        r.state_times
            .push(sim.state_times(p)?.iter().map(|t| t.to_bits()).collect());
    }
    Ok(r)
}

/// Builds, runs `pieces` steps one call after another, and records.
fn run_spiking(
    spec: &SpikingSpec,
    reversed: bool,
    pieces: &[u64],
) -> Result<(Simulator, SpikingBuilt, SpikingRecord)> {
    let built = build_spiking(spec, reversed)?;
    let mut sim = Simulator::new(&built.net, BackendChoice::Cpu)?;
    for &steps in pieces {
        sim.run_steps(steps)?;
    }
    let rec = record(&sim, &built)?;
    Ok((sim, built, rec))
}

fn fail(what: &str, e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{what}: {e}"))
}

fn check_spiking(spec: &SpikingSpec) -> std::result::Result<(), TestCaseError> {
    let (_, built, first) =
        run_spiking(spec, false, &[spec.steps]).map_err(|e| fail("a valid network failed", e))?;
    // Sanity: spikes in order and in range, state finite.
    let probe_sizes: Vec<u32> = {
        let n: Vec<u32> = spec.pops.iter().map(PopSpec::size).collect();
        let all: Vec<usize> = (0..n.len()).collect();
        n.iter()
            .copied()
            .chain(
                spec.spike_probes
                    .iter()
                    .map(|raw| Sl::resolve(raw, &all, &spec.pops).len()),
            )
            .collect()
    };
    for (t, &size) in first.spikes.iter().zip(&probe_sizes) {
        prop_assert!(
            t.steps.windows(2).all(|w| w[0] <= w[1]),
            "spikes out of order"
        );
        prop_assert!(
            t.steps.iter().all(|&s| s < spec.steps),
            "a spike after the run"
        );
        prop_assert!(
            t.neurons.iter().all(|&i| i < size),
            "a spike from outside the probe"
        );
    }
    for (_, bits) in &first.states {
        prop_assert!(
            bits.iter().all(|&b| f32::from_bits(b).is_finite()),
            "a state variable is not finite"
        );
    }
    drop(built);

    // An independent build, run in two pieces.
    let (mut sim, built, second) = run_spiking(spec, false, &[spec.split, spec.steps - spec.split])
        .map_err(|e| fail("the second build failed", e))?;
    prop_assert_eq!(&first, &second, "a second build run in two pieces differs");

    // Silence some neurons, then reset() (which restores them) and run again.
    for (k, pop) in spec.pops.iter().enumerate() {
        let every_other: Vec<usize> = (0..pop.size() as usize).step_by(2).collect();
        sim.ablate(built.pops[k], &every_other)
            .map_err(|e| fail("ablate failed", e))?;
    }
    sim.run_steps(spec.split)
        .map_err(|e| fail("the ablated run failed", e))?;
    sim.reset().map_err(|e| fail("reset failed", e))?;
    sim.run_steps(spec.steps)
        .map_err(|e| fail("the run after reset failed", e))?;
    let again = record(&sim, &built).map_err(|e| fail("reading after reset failed", e))?;
    prop_assert_eq!(
        &first,
        &again,
        "reset() and a run differ from the first run"
    );

    // Built in the opposite order.
    let (_, _, reversed) =
        run_spiking(spec, true, &[spec.steps]).map_err(|e| fail("the reversed build failed", e))?;
    prop_assert_eq!(
        &first,
        &reversed,
        "the network built in the opposite order differs"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Spiking networks: invalid
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum NeuronField {
    TauM,
    CM,
    TauSynEx,
    TauSynIn,
    TRef,
    EL,
    VReset,
    VTh,
    IE,
    ResetAboveThreshold,
}

#[derive(Clone, Debug)]
enum BadSpiking {
    /// A weight distribution that is not finite or not a distribution.
    Weight(Dist),
    /// A delay distribution that is not finite, negative or below half a step.
    Delay(Dist),
    /// Per-synapse values with one that is not finite.
    EachNotFinite {
        weight: bool,
        at: usize,
        value: f64,
    },
    EachWithoutExplicit,
    EachLength {
        pairs: usize,
        values: usize,
    },
    ExplicitOutOfRange {
        pre: u32,
        post: u32,
        which: u8,
    },
    Probability(f64),
    OneToOneSizes,
    EmptyPopulation,
    EmptySource,
    DuplicateName(bool),
    EmptyName,
    SliceOutOfRange {
        start: u32,
        past_end: u32,
        used_by: u8,
    },
    EmptySlice {
        start: u32,
        used_by: u8,
    },
    Neuron(NeuronField, f64),
    InitialVoltage(Dist),
    SpikeTime(f64),
    PoissonRate(f64),
    /// More than one spike per source per step.
    PoissonDense(f64),
    PoissonWeight(f64),
    Current(f64),
    SampleEvery(f64),
    /// A population handle of another network, used by `used_by`.
    ForeignPopulation(u8),
    /// A probe of another network read from this simulator.
    ForeignProbe(bool),
    /// A spike source where integrating neurons are needed.
    IntoSpikeSource(u8),
    EmptyBlocks,
    NoPopulations,
    Dt(f64),
    RunDuration(f64),
    /// A positive duration shorter than half a step.
    RunShorterThanStep(f64),
    /// Delays beyond the 65,535 steps a record holds (2^32 + 5 steps used to wrap to 5).
    DelayTooLong(f64),
    /// dt raised after a delay or a Poisson input was checked against the old one.
    DtChangedAfter {
        poisson: bool,
        factor: f64,
    },
    WeightBeyondF32(f64),
    /// Weights 2^30 times apart into one population: the small ones quantise to zero.
    BelowQuantisation {
        big: f64,
        small: f64,
    },
}

fn bad_dist() -> impl Strategy<Value = Dist> {
    prop_oneof![
        non_finite().prop_map(Dist::Const),
        (non_finite(), -10.0..10.0f64).prop_map(|(x, y)| Dist::uniform(x, y)),
        (-10.0..10.0f64, non_finite()).prop_map(|(x, y)| Dist::uniform(x, y)),
        (1.0..10.0f64, 0.1..0.9f64).prop_map(|(h, f)| Dist::uniform(h, h * f)),
        (non_finite(), 0.1..1.0f64).prop_map(|(m, sd)| Dist::normal(m, sd)),
        (-10.0..10.0f64, negative()).prop_map(|(m, sd)| Dist::normal(m, sd)),
        (-10.0..10.0f64, 0.01..1.0f64, 10.0..100.0f64)
            .prop_map(|(m, sd, k)| Dist::normal(m, sd).clipped(m + k * sd, m + (k + 1.0) * sd)),
        (-10.0..10.0f64, 0.01..1.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clipped(f64::NAN, m)),
        (-10.0..10.0f64, 0.0..1.0f64, 0.1..5.0f64)
            .prop_map(|(m, sd, w)| Dist::normal(m, sd).clipped(m + w, m - w)),
        (-10.0..10.0f64, 0.0..1.0f64, 0.1..5.0f64)
            .prop_map(|(m, sd, w)| Dist::normal(m, sd).clamped(m + w, m - w)),
        (non_finite(), 0.0..1.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clamped(-1.0, 1.0)),
    ]
}

/// Delays in ms for dt = 0.1 ms: negative, or rounding to zero steps, or not a distribution.
fn bad_delay() -> impl Strategy<Value = Dist> {
    prop_oneof![
        bad_dist(),
        (-100.0..-1e-6f64).prop_map(Dist::Const),
        (0.0..0.0499f64).prop_map(Dist::Const),
        (-5.0..-0.01f64, 0.0..5.0f64).prop_map(|(l, h)| Dist::uniform(l, h)),
        (0.5..5.0f64, 0.1..2.0f64).prop_map(|(m, sd)| Dist::normal(m, sd)),
        (0.5..5.0f64, 0.1..2.0f64).prop_map(|(m, sd)| Dist::normal(m, sd).clamped(0.0, 10.0)),
    ]
}

fn bad_spiking() -> impl Strategy<Value = BadSpiking> {
    let field = prop_oneof![
        (
            prop_oneof![
                Just(NeuronField::TauM),
                Just(NeuronField::CM),
                Just(NeuronField::TauSynEx),
                Just(NeuronField::TauSynIn)
            ],
            non_positive()
        )
            .prop_map(|(f, x)| BadSpiking::Neuron(f, x)),
        negative().prop_map(|x| BadSpiking::Neuron(NeuronField::TRef, x)),
        (
            prop_oneof![
                Just(NeuronField::EL),
                Just(NeuronField::VReset),
                Just(NeuronField::VTh),
                Just(NeuronField::IE)
            ],
            non_finite()
        )
            .prop_map(|(f, x)| BadSpiking::Neuron(f, x)),
        (0.0..50.0f64).prop_map(|x| BadSpiking::Neuron(NeuronField::ResetAboveThreshold, x)),
        bad_dist().prop_map(BadSpiking::InitialVoltage),
    ];
    let structure = prop_oneof![
        (any::<bool>(), 0usize..8, non_finite())
            .prop_map(|(weight, at, value)| BadSpiking::EachNotFinite { weight, at, value }),
        Just(BadSpiking::EachWithoutExplicit),
        (0usize..8, 0usize..8)
            .prop_filter("lengths differ", |(p, v)| p != v)
            .prop_map(|(pairs, values)| BadSpiking::EachLength { pairs, values }),
        (0u32..1000, 0u32..1000, 0u8..3)
            .prop_map(|(pre, post, which)| BadSpiking::ExplicitOutOfRange { pre, post, which }),
        prop_oneof![Just(f64::NAN), 1.0001..100.0f64, -100.0..-1e-9f64]
            .prop_map(BadSpiking::Probability),
        Just(BadSpiking::OneToOneSizes),
        Just(BadSpiking::EmptyPopulation),
        Just(BadSpiking::EmptySource),
        any::<bool>().prop_map(BadSpiking::DuplicateName),
        Just(BadSpiking::EmptyName),
        (0u32..40, 1u32..20, 0u8..5).prop_map(|(start, past_end, used_by)| {
            BadSpiking::SliceOutOfRange {
                start,
                past_end,
                used_by,
            }
        }),
        (0u32..40, 0u8..5).prop_map(|(start, used_by)| BadSpiking::EmptySlice { start, used_by }),
        Just(BadSpiking::EmptyBlocks),
        Just(BadSpiking::NoPopulations),
    ];
    let inputs = prop_oneof![
        prop_oneof![non_finite(), -1e3..-1e-3f64].prop_map(BadSpiking::SpikeTime),
        negative().prop_map(BadSpiking::PoissonRate),
        (10_001.0..1e9f64).prop_map(BadSpiking::PoissonDense),
        non_finite().prop_map(BadSpiking::PoissonWeight),
        non_finite().prop_map(BadSpiking::Current),
        non_positive().prop_map(BadSpiking::SampleEvery),
        (0u8..7).prop_map(BadSpiking::ForeignPopulation),
        any::<bool>().prop_map(BadSpiking::ForeignProbe),
        (0u8..4).prop_map(BadSpiking::IntoSpikeSource),
    ];
    let numbers = prop_oneof![
        bad_dist().prop_map(BadSpiking::Weight),
        bad_delay().prop_map(BadSpiking::Delay),
        non_positive().prop_map(BadSpiking::Dt),
        negative().prop_map(BadSpiking::RunDuration),
        (1e-12..4.99e-5f64).prop_map(BadSpiking::RunShorterThanStep),
        prop_oneof![
            Just(4_294_967_301.0),
            Just(4_294_967_296.0),
            65_536.0..1e15f64,
        ]
        .prop_map(|steps| BadSpiking::DelayTooLong(steps * 0.1)),
        (any::<bool>(), 10.0..100.0f64)
            .prop_map(|(poisson, factor)| BadSpiking::DtChangedAfter { poisson, factor }),
        (prop_oneof![4e38..1e300f64, Just(f64::MAX)], any::<bool>())
            .prop_map(|(w, neg)| BadSpiking::WeightBeyondF32(if neg { -w } else { w })),
        (1e8..1e10f64, 1e-8..1e-6f64)
            .prop_map(|(big, small)| BadSpiking::BelowQuantisation { big, small }),
    ];
    prop_oneof![field, structure, inputs, numbers]
}

/// Applies one invalid input to a small valid network (`a` and `b` integrate, `src` is a spike
/// source), then builds and runs it; every step propagates its error.
fn attempt_bad_spiking(case: &BadSpiking, na: u32, nb: u32) -> Result<()> {
    let mut net = Network::new().with_seed(3);
    let neuron = LifCurrent::default();
    let a = net.population("a", na, neuron.clone())?;
    let b = net.population("b", nb, neuron.clone())?;
    let src = net.spike_source("src", vec![vec![0.5, 1.0]; 3])?;
    let all = Connectivity::AllToAll;
    let mut run_for = 0.002;
    match case.clone() {
        BadSpiking::Weight(d) => {
            net.connect(a, b, all, d, 1.0)?;
        }
        BadSpiking::Delay(d) => {
            net.connect(a, b, all, 10.0, d)?;
        }
        BadSpiking::EachNotFinite { weight, at, value } => {
            let n = at + 1;
            let pairs = Connectivity::Explicit(vec![(0, 0); n]);
            let mut v = vec![1.0; n];
            v[at] = value;
            if weight {
                net.connect(a, b, pairs, v, 1.0)?;
            } else {
                net.connect(a, b, pairs, 10.0, v)?;
            }
        }
        BadSpiking::EachWithoutExplicit => {
            net.connect(a, b, all, vec![1.0; (na * nb) as usize], 1.0)?;
        }
        BadSpiking::EachLength { pairs, values } => {
            let rule = Connectivity::Explicit(vec![(0, 0); pairs]);
            net.connect(a, b, rule, vec![1.0; values], 1.0)?;
        }
        BadSpiking::ExplicitOutOfRange { pre, post, which } => {
            let pair = match which {
                0 => (na + pre, post % nb),
                1 => (pre % na, nb + post),
                _ => (na + pre, nb + post),
            };
            net.connect(a, b, Connectivity::Explicit(vec![(0, 0), pair]), 1.0, 1.0)?;
        }
        BadSpiking::Probability(p) => {
            net.connect(a, b, Connectivity::FixedProbability(p), 1.0, 1.0)?;
        }
        BadSpiking::OneToOneSizes => {
            let c = net.population("c", na + nb, neuron)?;
            net.connect(a, c, Connectivity::OneToOne, 1.0, 1.0)?;
        }
        BadSpiking::EmptyPopulation => {
            net.population("empty", 0, neuron)?;
        }
        BadSpiking::EmptySource => {
            net.spike_source("empty", vec![])?;
        }
        BadSpiking::DuplicateName(source) => {
            if source {
                net.spike_source("a", vec![vec![1.0]])?;
            } else {
                net.population("src", 2, neuron)?;
            }
        }
        BadSpiking::EmptyName => {
            net.population("", 2, neuron)?;
        }
        BadSpiking::SliceOutOfRange {
            start,
            past_end,
            used_by,
        } => {
            let s = a.slice(start..(na + past_end).max(start + 1));
            use_slice(&mut net, s, b, used_by)?;
        }
        BadSpiking::EmptySlice { start, used_by } => {
            let s = a.slice(start..start.min(na));
            use_slice(&mut net, s, b, used_by)?;
        }
        BadSpiking::Neuron(field, x) => {
            let mut n = LifCurrent::default();
            match field {
                NeuronField::TauM => n.tau_m_ms = x,
                NeuronField::CM => n.c_m_pf = x,
                NeuronField::TauSynEx => n.tau_syn_ex_ms = x,
                NeuronField::TauSynIn => n.tau_syn_in_ms = x,
                NeuronField::TRef => n.t_ref_ms = x,
                NeuronField::EL => n.e_l_mv = x,
                NeuronField::VReset => n.v_reset_mv = x,
                NeuronField::VTh => n.v_th_mv = x,
                NeuronField::IE => n.i_e_pa = x,
                NeuronField::ResetAboveThreshold => n.v_reset_mv = n.v_th_mv + x,
            }
            net.population("bad", 2, n)?;
        }
        BadSpiking::InitialVoltage(d) => {
            let n = LifCurrent {
                v_init_mv: d,
                ..LifCurrent::default()
            };
            net.population("bad", 2, n)?;
        }
        BadSpiking::SpikeTime(t) => {
            net.spike_source("bad", vec![vec![1.0], vec![2.0, t]])?;
        }
        BadSpiking::PoissonRate(rate_hz) => {
            let input = PoissonInput {
                in_degree: 10,
                rate_hz,
                weight_pa: 1.0,
            };
            net.poisson(b, input)?;
        }
        BadSpiking::PoissonDense(rate_hz) => {
            let input = PoissonInput {
                in_degree: 1,
                rate_hz,
                weight_pa: 1.0,
            };
            net.poisson(b, input)?;
        }
        BadSpiking::PoissonWeight(weight_pa) => {
            let input = PoissonInput {
                in_degree: 10,
                rate_hz: 10.0,
                weight_pa,
            };
            net.poisson(b, input)?;
        }
        BadSpiking::Current(x) => {
            net.current(a, x)?;
        }
        BadSpiking::SampleEvery(x) => {
            net.probe_state(a, x)?;
        }
        BadSpiking::ForeignPopulation(used_by) => {
            let mut other = Network::new();
            let f = other.population("a", na, LifCurrent::default())?;
            match used_by {
                0 => {
                    net.connect(f, b, all, 1.0, 1.0)?;
                }
                1 => {
                    net.connect(a, f, all, 1.0, 1.0)?;
                }
                2 => net.current(f, 100.0)?,
                3 => net.poisson(
                    f,
                    PoissonInput {
                        in_degree: 1,
                        rate_hz: 10.0,
                        weight_pa: 1.0,
                    },
                )?,
                4 => {
                    net.probe_spikes(f)?;
                }
                5 => {
                    net.probe_state(f, 1.0)?;
                }
                _ => {
                    net.connect_blocks(vec![
                        Block::new(a, b, all.clone(), 1.0, 1.0),
                        Block::new(a, f, all, 1.0, 1.0),
                    ])?;
                }
            }
        }
        BadSpiking::ForeignProbe(state) => {
            let mut other = Network::new();
            let f = other.population("a", na, LifCurrent::default())?;
            let foreign_spikes = other.probe_spikes(f)?;
            let foreign_state = other.probe_state(f, 1.0)?;
            net.probe_spikes(a)?;
            net.probe_state(a, 1.0)?;
            let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
            sim.run(0.001)?;
            if state {
                sim.state(&foreign_state, StateVar::V)?;
            } else {
                sim.spikes(&foreign_spikes)?;
            }
            return Ok(());
        }
        BadSpiking::IntoSpikeSource(used_by) => match used_by {
            0 => {
                net.connect(a, src, all, 1.0, 1.0)?;
            }
            1 => net.current(src, 100.0)?,
            2 => net.poisson(
                src,
                PoissonInput {
                    in_degree: 1,
                    rate_hz: 10.0,
                    weight_pa: 1.0,
                },
            )?,
            _ => {
                net.probe_state(src, 1.0)?;
            }
        },
        BadSpiking::EmptyBlocks => {
            net.connect_blocks(Vec::new())?;
        }
        BadSpiking::NoPopulations => {
            net = Network::new();
        }
        BadSpiking::Dt(dt) => {
            net = net.with_dt_ms(dt);
        }
        BadSpiking::RunDuration(d) | BadSpiking::RunShorterThanStep(d) => run_for = d,
        BadSpiking::DelayTooLong(d) => {
            net.connect(src, b, all, 100.0, d)?;
        }
        BadSpiking::DtChangedAfter { poisson, factor } => {
            // Valid at dt = 0.1 ms; not once dt is `factor` times larger.
            if poisson {
                let input = PoissonInput {
                    in_degree: 2,
                    rate_hz: 10_000.0 / factor * 2.0,
                    weight_pa: 1.0,
                };
                net.poisson(b, input)?;
            } else {
                net.connect(src, b, all, 100.0, 0.1)?;
            }
            net = net.with_dt_ms(0.1 * factor);
        }
        BadSpiking::WeightBeyondF32(w) => {
            net.connect(src, b, all, w, 1.0)?;
        }
        BadSpiking::BelowQuantisation { big, small } => {
            net.connect(a, b, all.clone(), big, 1.0)?;
            net.connect(src, b, all, small, 1.0)?;
        }
    }
    let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
    sim.run(run_for)
}

/// Uses a slice as a connection source (0), target (1), current target (2), spike probe (3)
/// or state probe (4).
fn use_slice(net: &mut Network, s: NeuronSlice, b: PopulationId, used_by: u8) -> Result<()> {
    match used_by {
        0 => net
            .connect(s, b, Connectivity::AllToAll, 1.0, 1.0)
            .map(drop),
        1 => net
            .connect(b, s, Connectivity::AllToAll, 1.0, 1.0)
            .map(drop),
        2 => net.current(s, 10.0),
        3 => net.probe_spikes(s).map(drop),
        _ => net.probe_state(s, 1.0).map(drop),
    }
}

// ------------------------------------------------------------------------------------------
// NEF networks: valid
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct EnsSpec {
    n: usize,
    dims: usize,
    neuron: NefNeuron,
    radius: f64,
    max_rates: (f64, f64),
    intercepts: (f64, f64),
    encoders: u8,
    eval_points: bool,
    n_eval_points: Option<usize>,
    initial_voltage: bool,
    /// Explicit gains and biases drawn from these, in place of rates and intercepts.
    gain_bias: Option<(f64, f64)>,
}

#[derive(Clone, Debug)]
enum NodeSpec {
    Constant(Vec<f64>),
    Function {
        size: usize,
        freq: f64,
    },
    Passthrough(usize),
    Callback {
        size_in: usize,
        size_out: usize,
        gain: f64,
    },
}

impl NodeSpec {
    fn size_in(&self) -> usize {
        match self {
            NodeSpec::Passthrough(n) => *n,
            NodeSpec::Callback { size_in, .. } => *size_in,
            _ => 0,
        }
    }

    fn size_out(&self) -> usize {
        match self {
            NodeSpec::Constant(v) => v.len(),
            NodeSpec::Function { size, .. } => *size,
            NodeSpec::Passthrough(n) => *n,
            NodeSpec::Callback { size_out, .. } => *size_out,
        }
    }

    fn node(&self) -> Node {
        match self.clone() {
            NodeSpec::Constant(v) => Node::constant(&v),
            NodeSpec::Function { size, freq } => Node::function(size, move |t| {
                (0..size).map(|k| (freq * t + k as f64).sin()).collect()
            }),
            NodeSpec::Passthrough(n) => Node::passthrough(n),
            NodeSpec::Callback {
                size_in,
                size_out,
                gain,
            } => Node::callback(size_in, size_out, move |t, x| {
                // Bounded, and finite even if a random loop makes its input diverge.
                let squash = |v: f64| if v.is_nan() { 0.0 } else { v.tanh() };
                (0..size_out)
                    .map(|k| gain * squash(x[k % size_in]) + (10.0 * t).cos() * 0.1)
                    .collect()
            }),
        }
    }
}

/// A connection end as raw numbers: kind 0 the decoded vector of an ensemble, 1 its neurons,
/// 2 a node (one with an input when it is the target); `idx` modulo the candidates; `part`
/// (start, length) modulo the size.
#[derive(Clone, Debug)]
struct RawEnd {
    kind: u8,
    idx: usize,
    part: Option<(usize, usize)>,
}

#[derive(Clone, Debug)]
struct RawConn {
    pre: RawEnd,
    post: RawEnd,
    /// Output size and a coefficient of a function decoded from an ensemble.
    function: Option<(usize, f64)>,
    /// A scalar transform when the sizes allow one; else a matrix cycled from `matrix`.
    scalar: Option<f64>,
    matrix: Vec<f64>,
    synapse: Synapse,
    solver: u8,
    reg: f64,
    fraction: f64,
    eval_points: Option<(usize, f64)>,
    pes: Option<(f64, Synapse)>,
}

#[derive(Clone, Debug)]
struct RawProbe {
    kind: u8,
    idx: usize,
    part: Option<(usize, usize)>,
    synapse: Synapse,
    every: u32,
}

#[derive(Clone, Debug)]
struct NefSpec {
    seed: u64,
    dt: f64,
    ensembles: Vec<EnsSpec>,
    nodes: Vec<NodeSpec>,
    connections: Vec<RawConn>,
    probes: Vec<RawProbe>,
    steps: u64,
    split: u64,
}

fn nef_neuron() -> impl Strategy<Value = NefNeuron> {
    let min_voltage = prop_oneof![Just(0.0), -2.0..0.0f64, Just(f64::NEG_INFINITY)];
    prop_oneof![
        (0.01..0.05f64, 0.0..0.004f64, min_voltage, 0.5..2.0f64).prop_map(
            |(tau_rc, tau_ref, min_voltage, amplitude)| Lif {
                tau_rc,
                tau_ref,
                min_voltage,
                amplitude
            }
            .into()
        ),
        (0.01..0.05f64, 0.0..0.004f64, 0.5..2.0f64).prop_map(|(tau_rc, tau_ref, amplitude)| {
            LifRate {
                tau_rc,
                tau_ref,
                amplitude,
            }
            .into()
        }),
        (0.5..2.0f64).prop_map(|amplitude| RectifiedLinear { amplitude }.into()),
        (0.5..2.0f64).prop_map(|amplitude| SpikingRectifiedLinear { amplitude }.into()),
    ]
}

fn ens_spec() -> impl Strategy<Value = EnsSpec> {
    (
        (5usize..=40, 1usize..=3, nef_neuron(), 0.5..2.0f64),
        // Max rates below 250 Hz (1 / the longest tau_ref); intercepts in [-1, 0.9).
        (50.0..150.0f64, 0.0..90.0f64, -1.0..0.0f64, 0.0..1.0f64),
        (
            0u8..4,
            any::<bool>(),
            prop::option::of(20usize..300),
            any::<bool>(),
            // Biases above the LIF threshold current (1), so some neurons fire at x = 0 and
            // decoders can be solved.
            prop::option::weighted(0.2, (0.5..5.0f64, 1.2..3.0f64)),
        ),
    )
        .prop_map(
            |(
                (n, dims, neuron, radius),
                (rate_low, rate_span, icpt_low, icpt_frac),
                (encoders, eval_points, n_eval_points, initial_voltage, gain_bias),
            )| EnsSpec {
                n,
                dims,
                neuron,
                radius,
                max_rates: (rate_low, rate_low + rate_span),
                intercepts: (icpt_low, icpt_low + icpt_frac * (0.9 - icpt_low)),
                encoders,
                eval_points,
                n_eval_points,
                initial_voltage,
                gain_bias,
            },
        )
}

impl EnsSpec {
    fn ensemble(&self) -> Ensemble {
        let d = self.dims;
        let mut e = Ensemble::new(self.n, d)
            .neuron(self.neuron.clone())
            .radius(self.radius)
            .max_rates(NefDist::uniform(self.max_rates.0, self.max_rates.1))
            .intercepts(NefDist::uniform(self.intercepts.0, self.intercepts.1));
        e = match self.encoders {
            0 => e,
            1 => e.encoders(NefDist::UniformHypersphere {
                surface: true,
                min_magnitude: 0.0,
            }),
            2 => e.encoders(NefDist::gaussian(0.0, 1.0)),
            _ => e.encoders(NefDist::Choice(vec![vec![1.0; d], vec![-1.0; d]])),
        };
        if self.eval_points {
            e = e.eval_points(NefDist::UniformHypersphere {
                surface: false,
                min_magnitude: 0.0,
            });
        }
        if let Some(m) = self.n_eval_points {
            e = e.n_eval_points(m);
        }
        if self.initial_voltage {
            e = e.initial_voltage(NefDist::uniform(0.0, 0.5));
        }
        if let Some((g, b)) = self.gain_bias {
            let gains = (0..self.n).map(|i| g * (1.0 + 0.1 * i as f64)).collect();
            let biases = (0..self.n).map(|i| b + 0.05 * i as f64).collect();
            e = e.gain_bias(gains, biases);
        }
        e
    }
}

fn node_spec() -> impl Strategy<Value = NodeSpec> {
    prop_oneof![
        prop::collection::vec(-1.0..1.0f64, 1..=3).prop_map(NodeSpec::Constant),
        (1usize..=3, 0.5..20.0f64).prop_map(|(size, freq)| NodeSpec::Function { size, freq }),
        (1usize..=3).prop_map(NodeSpec::Passthrough),
        (1usize..=3, 1usize..=3, -1.0..1.0f64).prop_map(|(size_in, size_out, gain)| {
            NodeSpec::Callback {
                size_in,
                size_out,
                gain,
            }
        }),
    ]
}

fn synapse() -> impl Strategy<Value = Synapse> {
    prop_oneof![
        Just(Synapse::None),
        (0.0..0.02f64).prop_map(Synapse::lowpass),
        (0.0..0.02f64).prop_map(Synapse::alpha),
    ]
}

fn raw_end() -> impl Strategy<Value = RawEnd> {
    (
        0u8..3,
        0usize..8,
        prop::option::weighted(0.3, (0usize..50, 0usize..50)),
    )
        .prop_map(|(kind, idx, part)| RawEnd { kind, idx, part })
}

fn raw_conn() -> impl Strategy<Value = RawConn> {
    (
        (
            raw_end(),
            raw_end(),
            prop::option::of((1usize..=3, -2.0..2.0f64)),
            prop::option::of(-2.0..2.0f64),
            prop::collection::vec(-1.0..1.0f64, 1..8),
        ),
        (
            synapse(),
            0u8..6,
            0.01..0.3f64,
            0.0..=1.0f64,
            prop::option::weighted(0.2, (5usize..60, 0.0..6.0f64)),
            prop::option::weighted(0.3, (1e-5..1e-3f64, synapse())),
        ),
    )
        .prop_map(
            |(
                (pre, post, function, scalar, matrix),
                (synapse, solver, reg, fraction, eval_points, pes),
            )| RawConn {
                pre,
                post,
                function,
                scalar,
                matrix,
                synapse,
                solver,
                reg,
                fraction,
                eval_points,
                pes,
            },
        )
}

fn raw_probe() -> impl Strategy<Value = RawProbe> {
    (
        0u8..5,
        0usize..8,
        prop::option::weighted(0.3, (0usize..50, 0usize..50)),
        synapse(),
        1u32..=4,
    )
        .prop_map(|(kind, idx, part, synapse, every)| RawProbe {
            kind,
            idx,
            part,
            synapse,
            every,
        })
}

fn nef_spec() -> impl Strategy<Value = NefSpec> {
    (
        (
            any::<u64>(),
            prop_oneof![Just(0.001), Just(0.0005), Just(0.002)],
        ),
        prop::collection::vec(ens_spec(), 1..=4),
        prop::collection::vec(node_spec(), 0..=3),
        prop::collection::vec(raw_conn(), 0..=6),
        prop::collection::vec(raw_probe(), 0..=4),
        (20u64..=150, 0.0..1.0f64),
    )
        .prop_map(
            |((seed, dt), ensembles, nodes, connections, probes, (steps, u))| NefSpec {
                seed,
                dt,
                ensembles,
                nodes,
                connections,
                probes,
                steps,
                split: 1 + (u * (steps - 1) as f64) as u64,
            },
        )
}

/// A resolved connection end.
struct End {
    obj: NefObj,
    len: usize,
    /// Position in the order nodes, then ensembles: a connection from an object to itself or
    /// to an earlier one gets a synapse, so there is no loop without one.
    order: usize,
    /// The decoded vector of ensemble `i` (not its neurons, not a node).
    decoded: Option<usize>,
    /// The ensemble of a decoded or neurons end.
    ens: Option<usize>,
}

fn cut(range: Range<usize>, part: Option<(usize, usize)>) -> (Option<Range<usize>>, usize) {
    let n = range.len();
    match part {
        None => (None, n),
        Some((a, l)) => {
            let start = a % n;
            let len = 1 + l % (n - start);
            (Some(start..start + len), len)
        }
    }
}

fn resolve_end(
    raw: &RawEnd,
    as_target: bool,
    spec: &NefSpec,
    ens: &[EnsembleId],
    nodes: &[NodeId],
) -> End {
    let node_candidates: Vec<usize> = (0..spec.nodes.len())
        .filter(|&k| !as_target || spec.nodes[k].size_in() > 0)
        .collect();
    let kind = if raw.kind % 3 == 2 && node_candidates.is_empty() {
        0
    } else {
        raw.kind % 3
    };
    let n_nodes = spec.nodes.len();
    match kind {
        2 => {
            let k = node_candidates[raw.idx % node_candidates.len()];
            let node = &spec.nodes[k];
            let full = if as_target {
                node.size_in()
            } else {
                node.size_out()
            };
            let (slice, len) = cut(0..full, raw.part);
            End {
                obj: match slice {
                    Some(r) => nodes[k].slice(r),
                    None => nodes[k].into(),
                },
                len,
                order: k,
                decoded: None,
                ens: None,
            }
        }
        kind => {
            let i = raw.idx % ens.len();
            let e = &spec.ensembles[i];
            let neurons = kind == 1;
            let full = if neurons { e.n } else { e.dims };
            let (slice, len) = cut(0..full, raw.part);
            let base: NefObj = if neurons {
                ens[i].neurons()
            } else {
                ens[i].into()
            };
            End {
                obj: match slice {
                    Some(r) => base.slice(r),
                    None => base,
                },
                len,
                order: n_nodes + i,
                decoded: (!neurons).then_some(i),
                ens: Some(i),
            }
        }
    }
}

struct NefBuilt {
    net: NefNetwork,
    ens: Vec<EnsembleId>,
    probes: Vec<NefProbeId>,
}

fn build_nef_spec(spec: &NefSpec) -> Result<NefBuilt> {
    let mut net = NefNetwork::new().with_seed(spec.seed).with_dt(spec.dt);
    let mut ens = Vec::new();
    for (i, e) in spec.ensembles.iter().enumerate() {
        ens.push(net.ensemble(&format!("ens{i}"), e.ensemble())?);
    }
    let mut nodes = Vec::new();
    for (k, n) in spec.nodes.iter().enumerate() {
        nodes.push(net.node(&format!("node{k}"), n.node())?);
    }
    let mut conns = Vec::new();
    for (c, raw) in spec.connections.iter().enumerate() {
        let pre = resolve_end(&raw.pre, false, spec, &ens, &nodes);
        let post = resolve_end(&raw.post, true, spec, &ens, &nodes);
        let mut conn = Connection::new();
        let mut size_mid = pre.len;
        if let (Some((size, coef)), Some(_)) = (raw.function, pre.decoded) {
            size_mid = size;
            conn = conn.function(size, move |x: &[f64]| {
                (0..size)
                    .map(|k| coef * x[k % x.len()] * x[(k + 1) % x.len()] + 0.1 * k as f64)
                    .collect()
            });
        }
        // Activities are rates of up to a few hundred Hz: scaled down from neurons, so that
        // most recurrent loops stay bounded.
        let unit = if pre.decoded.is_none() && pre.ens.is_some() {
            0.01 / pre.len as f64
        } else {
            1.0
        };
        conn = match raw.scalar {
            Some(k) if size_mid == post.len => conn.scale(k * unit),
            _ => conn.transform(Array2::from_shape_fn((post.len, size_mid), |(r, c)| {
                unit * raw.matrix[(r * size_mid + c) % raw.matrix.len()]
            })),
        };
        let synapse = if raw.synapse == Synapse::None && pre.order >= post.order {
            Synapse::lowpass(0.005)
        } else {
            raw.synapse
        };
        conn = conn.synapse(synapse);
        let ens_to_ens = pre.decoded.is_some() && post.decoded.is_some();
        if let Some(i) = pre.decoded {
            let n = spec.ensembles[i].n;
            conn = conn.solver(match raw.solver {
                1 if ens_to_ens => Solver::LstsqL2 {
                    reg: raw.reg,
                    weights: true,
                },
                2 => Solver::nnls(raw.reg),
                3 if ens_to_ens => Solver::Nnls {
                    reg: raw.reg,
                    weights: true,
                },
                4 if ens_to_ens => Solver::dale(raw.reg, raw.fraction),
                5 if ens_to_ens => Solver::Dale {
                    reg: raw.reg,
                    excitatory: Excitatory::Mask(
                        (0..n)
                            .map(|j| (j as f64 / n as f64) < raw.fraction)
                            .collect(),
                    ),
                },
                _ => Solver::lstsq_l2(raw.reg),
            });
            if let Some((m, phase)) = raw.eval_points {
                let d = spec.ensembles[i].dims;
                let r = spec.ensembles[i].radius;
                conn = conn.eval_points(Array2::from_shape_fn((m, d), |(p, k)| {
                    r * ((p * 7 + k * 3) as f64 * 0.37 + phase).sin()
                }));
            }
        }
        let id = net.connect(pre.obj, post.obj, conn)?;
        conns.push(id);
        if let (Some((rate, pre_synapse)), Some(_)) = (raw.pes, pre.ens) {
            let size_in = match (post.ens, post.decoded) {
                (Some(j), None) => spec.ensembles[j].dims,
                _ => post.len,
            };
            let rule = net.pes(id, Pes::new(rate).pre_synapse(pre_synapse))?;
            let error = net.node(
                &format!("error{c}"),
                Node::function(size_in, move |t| {
                    (0..size_in).map(|k| (3.0 * t + k as f64).cos()).collect()
                }),
            )?;
            net.connect(error, rule, Connection::new())?;
        }
    }
    let mut probes = Vec::new();
    for &e in &ens {
        probes.push(net.probe(e, Probe::new())?);
    }
    for raw in &spec.probes {
        let probe = Probe::new()
            .synapse(raw.synapse)
            .sample_every(raw.every as f64 * spec.dt);
        let i = raw.idx % ens.len();
        let e = &spec.ensembles[i];
        let id = match raw.kind {
            1 => {
                let (slice, _) = cut(0..e.n, raw.part);
                let obj = match slice {
                    Some(r) => ens[i].neurons().slice(r),
                    None => ens[i].neurons(),
                };
                net.probe(obj, probe)?
            }
            2 if !nodes.is_empty() => {
                let k = raw.idx % nodes.len();
                match cut(0..spec.nodes[k].size_out(), raw.part).0 {
                    Some(r) => net.probe(nodes[k].slice(r), probe)?,
                    None => net.probe(nodes[k], probe)?,
                }
            }
            3 if e.neuron.is_spiking() => net.probe_voltage(ens[i], probe)?,
            4 if !conns.is_empty() => {
                net.probe_weights(conns[raw.idx % conns.len()], probe.synapse(Synapse::None))?
            }
            _ => match cut(0..e.dims, raw.part).0 {
                Some(r) => net.probe(ens[i].slice(r), probe)?,
                None => net.probe(ens[i], probe)?,
            },
        };
        probes.push(id);
    }
    Ok(NefBuilt { net, ens, probes })
}

/// Every probe's data and sample times, as bits.
#[derive(Debug, PartialEq)]
struct NefRecord {
    steps: u64,
    data: Vec<((usize, usize), Vec<u32>)>,
    times: Vec<Vec<u64>>,
}

fn nef_record(sim: &Simulator, built: &NefBuilt) -> Result<NefRecord> {
    let mut r = NefRecord {
        steps: sim.n_steps(),
        data: Vec::new(),
        times: Vec::new(),
    };
    for &p in &built.probes {
        let d = sim.data(p)?;
        r.data
            .push((d.dim(), d.iter().map(|x| x.to_bits()).collect()));
        r.times
            .push(sim.trange(p)?.iter().map(|t| t.to_bits()).collect());
    }
    Ok(r)
}

fn run_nef(spec: &NefSpec, pieces: &[u64]) -> Result<(Simulator, NefBuilt, NefRecord)> {
    let built = build_nef_spec(spec)?;
    let mut sim = Simulator::new(&built.net, BackendChoice::Cpu)?;
    for &steps in pieces {
        sim.run_steps(steps)?;
    }
    let rec = nef_record(&sim, &built)?;
    Ok((sim, built, rec))
}

fn check_nef(spec: &NefSpec) -> std::result::Result<(), TestCaseError> {
    // No check that values stay finite: random transforms make some loops unstable (rectified
    // linear neurons have no ceiling), and a model that diverges must still do so identically.
    let (_, _, first) =
        run_nef(spec, &[spec.steps]).map_err(|e| fail("a valid NEF network failed", e))?;
    let (mut sim, built, second) = run_nef(spec, &[spec.split, spec.steps - spec.split])
        .map_err(|e| fail("the second build failed", e))?;
    prop_assert_eq!(&first, &second, "a second build run in two pieces differs");
    // Silence some neurons, then reset() (which restores them) and run again.
    for (i, e) in spec.ensembles.iter().enumerate() {
        let every_other: Vec<usize> = (0..e.n).step_by(2).collect();
        sim.ablate(built.ens[i], &every_other)
            .map_err(|e| fail("ablate failed", e))?;
    }
    sim.run_steps(spec.split)
        .map_err(|e| fail("the ablated run failed", e))?;
    sim.reset().map_err(|e| fail("reset failed", e))?;
    sim.run_steps(spec.steps)
        .map_err(|e| fail("the run after reset failed", e))?;
    let again = nef_record(&sim, &built).map_err(|e| fail("reading after reset failed", e))?;
    prop_assert_eq!(
        &first,
        &again,
        "reset() and a run differ from the first run"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// NEF networks: invalid
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum NefField {
    TauRc,
    TauRef,
    Amplitude,
    MinVoltage,
}

#[derive(Clone, Copy, Debug)]
enum DistUse {
    Encoders,
    EvalPoints,
    MaxRates,
    Intercepts,
    InitialVoltage,
}

#[derive(Clone, Debug)]
enum BadNef {
    EnsembleSize(usize, usize),
    Radius(f64),
    Neuron(u8, NefField, f64),
    GainBiasLength(usize, usize),
    GainBiasNotFinite(f64),
    NEvalPointsZero,
    /// Max rates at or above 1 / tau_ref.
    MaxRateTooHigh(f64),
    /// Intercepts at or above 1.
    Intercepts(f64),
    Dist(DistUse, NefDist),
    NodeEmpty(u8),
    NodeConstant(f64),
    /// A function or callback node returning the wrong number of values (or a bad one).
    NodeReturns {
        callback: bool,
        extra: usize,
        value: f64,
    },
    DuplicateName(bool),
    EmptyName,
    SliceOutOfRange {
        start: usize,
        past_end: usize,
        neurons: bool,
        as_target: bool,
    },
    EmptySlice {
        start: usize,
        as_target: bool,
    },
    /// A sub-slice outside its slice (`ens.slice(1..2).slice(0..2)`).
    SubSlice {
        outer: (usize, usize),
        inner: (usize, usize),
    },
    IntoInputlessNode(bool),
    FromLearningRule,
    FunctionFrom(bool),
    FunctionSizeZero,
    FunctionReturns {
        extra: usize,
        value: f64,
    },
    ScalarTransformSizes,
    MatrixShape(usize, usize),
    TransformNotFinite(bool, f64),
    SynapseTau(u8, bool, f64),
    SolverReg(u8, f64),
    WeightSolverTo(u8, bool),
    DaleMaskLength(usize),
    DaleFraction(f64),
    EvalPointsFrom(bool),
    EvalPointsColumns(usize),
    EvalPointsNoRows,
    PesRate(f64),
    PesFromNode,
    PesTwice,
    /// An error signal of the wrong size for its rule.
    PesErrorSize(usize),
    ProbeLearningRule,
    VoltageOfRateNeurons(bool),
    WeightsProbeFiltered(f64),
    SampleEvery(f64),
    Dt(f64),
    RunDuration(f64),
    RunWithEveryZero,
    Foreign(u8),
    /// A loop of connections without synapses.
    AlgebraicLoop(bool),
}

fn bad_nef_dist() -> impl Strategy<Value = NefDist> {
    prop_oneof![
        (non_finite(), -1.0..1.0f64).prop_map(|(l, h)| NefDist::uniform(l, h)),
        (-1.0..1.0f64, non_finite()).prop_map(|(l, h)| NefDist::uniform(l, h)),
        (non_finite(), 0.1..1.0f64).prop_map(|(m, s)| NefDist::gaussian(m, s)),
        (-1.0..1.0f64, non_positive()).prop_map(|(m, s)| NefDist::gaussian(m, s)),
        Just(NefDist::Choice(vec![])),
        (1usize..3).prop_map(|d| NefDist::Choice(vec![vec![0.5; d], vec![0.5; d + 1]])),
        non_finite().prop_map(|x| NefDist::Choice(vec![vec![x]])),
        non_finite().prop_map(|x| NefDist::Array(Array2::from_elem((10, 1), x))),
        prop_oneof![negative(), 1.0..10.0f64].prop_map(|m| NefDist::UniformHypersphere {
            surface: false,
            min_magnitude: m
        }),
        prop_oneof![negative(), 1.0..10.0f64].prop_map(|m| NefDist::ScatteredHypersphere {
            surface: false,
            min_magnitude: m
        }),
    ]
}

fn bad_nef() -> impl Strategy<Value = BadNef> {
    let ensembles = prop_oneof![
        prop_oneof![(0usize..1, 0usize..4), (1usize..20, 0usize..1)]
            .prop_map(|(n, d)| BadNef::EnsembleSize(n, d)),
        non_positive().prop_map(BadNef::Radius),
        (
            0u8..4,
            prop_oneof![Just(NefField::TauRc), Just(NefField::Amplitude)],
            non_positive()
        )
            .prop_map(|(k, f, x)| BadNef::Neuron(k, f, x)),
        (0u8..4, negative()).prop_map(|(k, x)| BadNef::Neuron(k, NefField::TauRef, x)),
        prop_oneof![Just(f64::NAN), 1e-9..10.0f64, Just(f64::INFINITY)]
            .prop_map(|x| BadNef::Neuron(0, NefField::MinVoltage, x)),
        (0usize..3, 0usize..3)
            .prop_filter("a length differs", |(g, b)| *g != 1 || *b != 1)
            .prop_map(|(g, b)| BadNef::GainBiasLength(g, b)),
        non_finite().prop_map(BadNef::GainBiasNotFinite),
        Just(BadNef::NEvalPointsZero),
        (1.0..3.0f64).prop_map(BadNef::MaxRateTooHigh),
        (1.0..5.0f64).prop_map(BadNef::Intercepts),
        (
            prop_oneof![
                Just(DistUse::Encoders),
                Just(DistUse::EvalPoints),
                Just(DistUse::MaxRates),
                Just(DistUse::Intercepts),
                Just(DistUse::InitialVoltage)
            ],
            bad_nef_dist()
        )
            .prop_map(|(u, d)| BadNef::Dist(u, d)),
    ];
    let nodes = prop_oneof![
        (0u8..4).prop_map(BadNef::NodeEmpty),
        non_finite().prop_map(BadNef::NodeConstant),
        (
            any::<bool>(),
            0usize..3,
            prop_oneof![Just(0.5), non_finite()]
        )
            .prop_filter("something is wrong", |(_, extra, v)| *extra != 1
                || !v.is_finite())
            .prop_map(|(callback, extra, value)| BadNef::NodeReturns {
                callback,
                extra,
                value
            }),
        any::<bool>().prop_map(BadNef::DuplicateName),
        Just(BadNef::EmptyName),
    ];
    let connections = prop_oneof![
        (0usize..10, 1usize..10, any::<bool>(), any::<bool>()).prop_map(
            |(start, past_end, neurons, as_target)| BadNef::SliceOutOfRange {
                start,
                past_end,
                neurons,
                as_target
            }
        ),
        (0usize..10, any::<bool>())
            .prop_map(|(start, as_target)| BadNef::EmptySlice { start, as_target }),
        ((0usize..3, 1usize..3), (0usize..4, 0usize..4))
            .prop_filter("the inner slice leaves the outer one", |(outer, (a, b))| {
                a >= b || *b > outer_range(*outer).len()
            })
            .prop_map(|(outer, inner)| BadNef::SubSlice { outer, inner }),
        any::<bool>().prop_map(BadNef::IntoInputlessNode),
        Just(BadNef::FromLearningRule),
        any::<bool>().prop_map(BadNef::FunctionFrom),
        Just(BadNef::FunctionSizeZero),
        (0usize..3, prop_oneof![Just(0.5), non_finite()])
            .prop_filter("something is wrong", |(extra, v)| *extra != 1
                || !v.is_finite())
            .prop_map(|(extra, value)| BadNef::FunctionReturns { extra, value }),
        Just(BadNef::ScalarTransformSizes),
        (0usize..4, 0usize..4)
            .prop_filter("not 1x2", |(r, c)| (*r, *c) != (1, 2))
            .prop_map(|(r, c)| BadNef::MatrixShape(r, c)),
        (any::<bool>(), non_finite()).prop_map(|(m, x)| BadNef::TransformNotFinite(m, x)),
        (0u8..3, any::<bool>(), negative()).prop_map(|(w, a, t)| BadNef::SynapseTau(w, a, t)),
        (0u8..3, negative()).prop_map(|(s, r)| BadNef::SolverReg(s, r)),
        (0u8..3, any::<bool>()).prop_map(|(s, node)| BadNef::WeightSolverTo(s, node)),
        (0usize..20)
            .prop_filter("not the pre size", |n| *n != 10)
            .prop_map(BadNef::DaleMaskLength),
        prop_oneof![Just(f64::NAN), -10.0..-1e-9f64, 1.000001..10.0f64]
            .prop_map(BadNef::DaleFraction),
        any::<bool>().prop_map(BadNef::EvalPointsFrom),
        (0usize..5)
            .prop_filter("not the pre dimensions", |c| *c != 2)
            .prop_map(BadNef::EvalPointsColumns),
        Just(BadNef::EvalPointsNoRows),
    ];
    let rest = prop_oneof![
        negative().prop_map(BadNef::PesRate),
        Just(BadNef::PesFromNode),
        Just(BadNef::PesTwice),
        (0usize..4)
            .prop_filter("not the rule's size", |n| *n != 1)
            .prop_map(BadNef::PesErrorSize),
        Just(BadNef::ProbeLearningRule),
        any::<bool>().prop_map(BadNef::VoltageOfRateNeurons),
        (0.0..0.1f64).prop_map(BadNef::WeightsProbeFiltered),
        prop_oneof![non_positive(), 1e-9..0.0004f64, 0.0011..0.0019f64]
            .prop_map(BadNef::SampleEvery),
        non_positive().prop_map(BadNef::Dt),
        negative().prop_map(BadNef::RunDuration),
        Just(BadNef::RunWithEveryZero),
        (0u8..6).prop_map(BadNef::Foreign),
        any::<bool>().prop_map(BadNef::AlgebraicLoop),
    ];
    prop_oneof![ensembles, nodes, connections, rest]
}

/// A non-empty slice of a 3-dimensional ensemble from (start, length).
fn outer_range((start, len): (usize, usize)) -> Range<usize> {
    let start = start.min(2);
    start..(start + len).min(3)
}

fn neuron_of(kind: u8) -> NefNeuron {
    match kind % 4 {
        0 => Lif::default().into(),
        1 => LifRate::default().into(),
        2 => RectifiedLinear::default().into(),
        _ => SpikingRectifiedLinear::default().into(),
    }
}

/// Applies one invalid input to a small valid network (`a`: 10 neurons, 2 dimensions; `b`: 8
/// neurons, 1 dimension; `c`: a constant node of 1; `p`: a passthrough node of 1), then builds
/// and runs it for 5 steps; every step propagates its error.
fn attempt_bad_nef(case: &BadNef) -> Result<()> {
    let mut net = NefNetwork::new().with_seed(1);
    let a = net.ensemble("a", Ensemble::new(10, 2))?;
    let b = net.ensemble("b", Ensemble::new(8, 1))?;
    let c = net.node("c", Node::constant(&[0.5]))?;
    let p = net.node("p", Node::passthrough(1))?;
    let mut seconds = 0.005;
    let default_conn = Connection::new;
    match case.clone() {
        BadNef::EnsembleSize(n, d) => {
            net.ensemble("bad", Ensemble::new(n, d))?;
        }
        BadNef::Radius(r) => {
            net.ensemble("bad", Ensemble::new(5, 1).radius(r))?;
        }
        BadNef::Neuron(kind, field, x) => {
            let neuron: NefNeuron = match (neuron_of(kind), field) {
                (NefNeuron::Lif(mut n), f) => {
                    match f {
                        NefField::TauRc => n.tau_rc = x,
                        NefField::TauRef => n.tau_ref = x,
                        NefField::Amplitude => n.amplitude = x,
                        NefField::MinVoltage => n.min_voltage = x,
                    }
                    n.into()
                }
                (NefNeuron::LifRate(mut n), f) => {
                    match f {
                        NefField::TauRc => n.tau_rc = x,
                        NefField::TauRef => n.tau_ref = x,
                        _ => n.amplitude = x,
                    }
                    n.into()
                }
                (NefNeuron::RectifiedLinear(_), _) => RectifiedLinear { amplitude: x }.into(),
                (_, _) => SpikingRectifiedLinear { amplitude: x }.into(),
            };
            net.ensemble("bad", Ensemble::new(5, 1).neuron(neuron))?;
        }
        BadNef::GainBiasLength(g, bb) => {
            let n = 5;
            net.ensemble(
                "bad",
                Ensemble::new(n, 1).gain_bias(vec![1.0; n * g], vec![0.0; n * bb]),
            )?;
        }
        BadNef::GainBiasNotFinite(x) => {
            net.ensemble(
                "bad",
                Ensemble::new(3, 1).gain_bias(vec![1.0, x, 1.0], vec![0.0; 3]),
            )?;
        }
        BadNef::NEvalPointsZero => {
            net.ensemble("bad", Ensemble::new(5, 1).n_eval_points(0))?;
        }
        BadNef::MaxRateTooHigh(f) => {
            let limit = 1.0 / Lif::default().tau_ref;
            let e = Ensemble::new(5, 1).max_rates(NefDist::uniform(limit * f, limit * f + 1.0));
            net.ensemble("bad", e)?;
        }
        BadNef::Intercepts(x) => {
            let e = Ensemble::new(5, 1).intercepts(NefDist::uniform(x, x + 0.5));
            net.ensemble("bad", e)?;
        }
        BadNef::Dist(use_, d) => {
            let e = Ensemble::new(10, 1);
            let e = match use_ {
                DistUse::Encoders => e.encoders(d),
                DistUse::EvalPoints => e.eval_points(d),
                DistUse::MaxRates => e.max_rates(d),
                DistUse::Intercepts => e.intercepts(d),
                DistUse::InitialVoltage => e.initial_voltage(d),
            };
            let bad = net.ensemble("bad", e)?;
            // Eval points are drawn for decoders.
            net.connect(bad, b, default_conn())?;
        }
        BadNef::NodeEmpty(kind) => {
            let node = match kind {
                0 => Node::constant(&[]),
                1 => Node::function(0, |_| vec![]),
                2 => Node::passthrough(0),
                _ => Node::callback(1, 0, |_, _| vec![]),
            };
            net.node("bad", node)?;
        }
        BadNef::NodeConstant(x) => {
            net.node("bad", Node::constant(&[0.0, x]))?;
        }
        BadNef::NodeReturns {
            callback,
            extra,
            value,
        } => {
            let node = if callback {
                Node::callback(1, 1, move |_, _| vec![value; extra])
            } else {
                Node::function(1, move |_| vec![value; extra])
            };
            let n = net.node("bad", node)?;
            if callback {
                net.connect(c, n, default_conn())?;
            }
            net.connect(n, b, default_conn())?;
        }
        BadNef::DuplicateName(node) => {
            if node {
                net.node("a", Node::constant(&[1.0]))?;
            } else {
                net.ensemble("c", Ensemble::new(5, 1))?;
            }
        }
        BadNef::EmptyName => {
            net.ensemble("", Ensemble::new(5, 1))?;
        }
        BadNef::SliceOutOfRange {
            start,
            past_end,
            neurons,
            as_target,
        } => {
            let (obj, full) = if neurons {
                (a.neurons(), 10)
            } else {
                (NefObj::from(a), 2)
            };
            let s = obj.slice(start..(full + past_end).max(start + 1));
            let conn = Connection::new().transform(Array2::zeros((1, 1)));
            if as_target {
                net.connect(c, s, conn)?;
            } else {
                net.connect(s, b, conn)?;
            }
        }
        BadNef::EmptySlice { start, as_target } => {
            let s = a.slice(start..start.min(2));
            if as_target {
                net.connect(c, s, default_conn())?;
            } else {
                net.connect(s, b, default_conn())?;
            }
        }
        BadNef::SubSlice { outer, inner } => {
            let e = net.ensemble("wide", Ensemble::new(12, 3))?;
            let s = e.slice(outer_range(outer)).slice(inner.0..inner.1);
            let len = inner.1.saturating_sub(inner.0).max(1);
            let conn = Connection::new().transform(Array2::zeros((1, len)));
            net.connect(s, b, conn)?;
        }
        BadNef::IntoInputlessNode(function) => {
            let n = if function {
                net.node("f", Node::function(1, |t| vec![t]))?
            } else {
                c
            };
            net.connect(b, n, default_conn())?;
        }
        BadNef::FromLearningRule => {
            let conn = net.connect(b, p, default_conn())?;
            let rule = net.pes(conn, Pes::default())?;
            net.connect(rule, p, default_conn())?;
        }
        BadNef::FunctionFrom(node) => {
            let conn = Connection::new().function(1, |x| vec![x[0]]);
            if node {
                net.connect(c, b, conn)?;
            } else {
                let conn = conn.transform(Array2::zeros((8, 1)));
                net.connect(a.neurons(), b.neurons(), conn)?;
            }
        }
        BadNef::FunctionSizeZero => {
            let conn = Connection::new()
                .function(0, |_| vec![])
                .transform(Array2::zeros((1, 0)));
            net.connect(a, b, conn)?;
        }
        BadNef::FunctionReturns { extra, value } => {
            let conn = Connection::new().function(1, move |_| vec![value; extra]);
            net.connect(a, b, conn)?;
        }
        BadNef::ScalarTransformSizes => {
            net.connect(a, b, Connection::new().scale(0.5))?;
        }
        BadNef::MatrixShape(r, cc) => {
            net.connect(a, b, Connection::new().transform(Array2::ones((r, cc))))?;
        }
        BadNef::TransformNotFinite(matrix, x) => {
            let conn = if matrix {
                Connection::new().transform(Array2::from_elem((1, 2), x))
            } else {
                Connection::new().scale(x)
            };
            if matrix {
                net.connect(a, b, conn)?;
            } else {
                net.connect(b, p, conn)?;
            }
        }
        BadNef::SynapseTau(where_, alpha, tau) => {
            let s = if alpha {
                Synapse::alpha(tau)
            } else {
                Synapse::lowpass(tau)
            };
            match where_ {
                0 => {
                    net.connect(b, p, Connection::new().synapse(s))?;
                }
                1 => {
                    net.probe(b, Probe::new().synapse(s))?;
                }
                _ => {
                    let conn = net.connect(b, p, default_conn())?;
                    net.pes(conn, Pes::default().pre_synapse(s))?;
                }
            }
        }
        BadNef::SolverReg(kind, reg) => {
            let solver = match kind {
                0 => Solver::lstsq_l2(reg),
                1 => Solver::nnls(reg),
                _ => Solver::dale(reg, 0.5),
            };
            let e = net.ensemble("e", Ensemble::new(5, 1))?;
            net.connect(b, e, Connection::new().solver(solver))?;
        }
        BadNef::WeightSolverTo(kind, node) => {
            let solver = match kind {
                0 => Solver::LstsqL2 {
                    reg: 0.1,
                    weights: true,
                },
                1 => Solver::Nnls {
                    reg: 0.1,
                    weights: true,
                },
                _ => Solver::dale(0.1, 0.5),
            };
            let conn = Connection::new().solver(solver);
            if node {
                net.connect(b, p, conn)?;
            } else {
                let conn = conn.transform(Array2::zeros((10, 1)));
                net.connect(b, a.neurons(), conn)?;
            }
        }
        BadNef::DaleMaskLength(n) => {
            let solver = Solver::Dale {
                reg: 0.1,
                excitatory: Excitatory::Mask(vec![true; n]),
            };
            let conn = Connection::new()
                .solver(solver)
                .transform(Array2::zeros((1, 2)));
            net.connect(a, b, conn)?;
        }
        BadNef::DaleFraction(f) => {
            let e = net.ensemble("e", Ensemble::new(5, 1))?;
            net.connect(b, e, Connection::new().solver(Solver::dale(0.1, f)))?;
        }
        BadNef::EvalPointsFrom(node) => {
            let conn = Connection::new().eval_points(Array2::zeros((5, 1)));
            if node {
                net.connect(c, b, conn)?;
            } else {
                let conn = conn.transform(Array2::zeros((10, 8)));
                net.connect(b.neurons(), a.neurons(), conn)?;
            }
        }
        BadNef::EvalPointsColumns(cols) => {
            let conn = Connection::new()
                .eval_points(Array2::zeros((5, cols)))
                .transform(Array2::zeros((1, 2)));
            net.connect(a, b, conn)?;
        }
        BadNef::EvalPointsNoRows => {
            let conn = Connection::new()
                .eval_points(Array2::zeros((0, 2)))
                .transform(Array2::zeros((1, 2)));
            net.connect(a, b, conn)?;
        }
        BadNef::PesRate(r) => {
            let conn = net.connect(b, p, default_conn())?;
            net.pes(conn, Pes::new(r))?;
        }
        BadNef::PesFromNode => {
            let conn = net.connect(c, b, default_conn())?;
            net.pes(conn, Pes::default())?;
        }
        BadNef::PesTwice => {
            let conn = net.connect(b, p, default_conn())?;
            net.pes(conn, Pes::default())?;
            net.pes(conn, Pes::default())?;
        }
        BadNef::PesErrorSize(n) => {
            let conn = net.connect(b, p, default_conn())?;
            let rule = net.pes(conn, Pes::default())?;
            let err = net.node(
                "err",
                Node::function(n.max(1), move |_| vec![0.1; n.max(1)]),
            )?;
            if n == 0 {
                net.connect(
                    err,
                    rule,
                    Connection::new().transform(Array2::zeros((2, 1))),
                )?;
            } else {
                net.connect(err, rule, default_conn())?;
            }
        }
        BadNef::ProbeLearningRule => {
            let conn = net.connect(b, p, default_conn())?;
            let rule = net.pes(conn, Pes::default())?;
            net.probe(rule, Probe::new())?;
        }
        BadNef::VoltageOfRateNeurons(relu) => {
            let neuron: NefNeuron = if relu {
                RectifiedLinear::default().into()
            } else {
                LifRate::default().into()
            };
            let e = net.ensemble("rate", Ensemble::new(5, 1).neuron(neuron))?;
            net.probe_voltage(e, Probe::new())?;
        }
        BadNef::WeightsProbeFiltered(tau) => {
            let conn = net.connect(b, p, default_conn())?;
            net.probe_weights(conn, Probe::new().synapse(Synapse::lowpass(tau)))?;
        }
        BadNef::SampleEvery(t) => {
            net.probe(b, Probe::new().sample_every(t))?;
        }
        BadNef::Dt(dt) => {
            net = net.with_dt(dt);
        }
        BadNef::RunDuration(s) => seconds = s,
        BadNef::RunWithEveryZero => {
            let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
            return sim.run_with(0.005, 0, |_| Ok(()));
        }
        BadNef::Foreign(used_by) => {
            let mut other = NefNetwork::new();
            let fa = other.ensemble("a", Ensemble::new(10, 2))?;
            let fp = other.probe(fa, Probe::new())?;
            let fc = other.connect(fa, fa, default_conn())?;
            match used_by {
                0 => {
                    net.connect(fa, b, Connection::new().transform(Array2::zeros((1, 2))))?;
                }
                1 => {
                    net.connect(c, fa.slice(0..1), default_conn())?;
                }
                2 => {
                    net.probe(fa, Probe::new())?;
                }
                3 => {
                    net.pes(fc, Pes::default())?;
                }
                4 => {
                    let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
                    sim.run_steps(2)?;
                    sim.data(fp)?;
                    return Ok(());
                }
                _ => {
                    let sim = Simulator::new(&net, BackendChoice::Cpu)?;
                    sim.tuning_curves(fa, None)?;
                    return Ok(());
                }
            }
        }
        BadNef::AlgebraicLoop(through_node) => {
            let none = || Connection::new().synapse(Synapse::None);
            if through_node {
                net.connect(b, p, none())?;
                net.connect(p, b, none())?;
            } else {
                let e = net.ensemble("e", Ensemble::new(5, 1))?;
                net.connect(b, e, none())?;
                net.connect(e, b, none())?;
            }
        }
    }
    let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
    sim.run(seconds)
}

// ------------------------------------------------------------------------------------------
// The properties
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn valid_spiking_networks_run_and_repeat_bit_for_bit(spec in spiking_spec()) {
        check_spiking(&spec)?;
    }

    #[test]
    fn valid_nef_networks_run_and_repeat_bit_for_bit(spec in nef_spec()) {
        check_nef(&spec)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn invalid_spiking_inputs_are_refused(case in bad_spiking(), na in 1u32..20, nb in 1u32..20) {
        // The cases that once slipped through must fail for their own reason.
        let needle = match case {
            BadSpiking::DelayTooLong(_) => Some("delay of"),
            BadSpiking::DtChangedAfter { .. } => Some("with_dt_ms"),
            _ => None,
        };
        assert_refused(&case, needle, || attempt_bad_spiking(&case, na, nb))?;
    }

    #[test]
    fn invalid_nef_inputs_are_refused(case in bad_nef()) {
        let needle = match case {
            BadNef::SubSlice { .. } => Some("sub-slice"),
            _ => None,
        };
        assert_refused(&case, needle, || attempt_bad_nef(&case))?;
    }
}
