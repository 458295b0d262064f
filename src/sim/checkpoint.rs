//! Checkpoints of a spiking run: the whole state between two steps in one `.npz` file, written
//! whole or not at all, so that a run killed at any moment resumes from its last checkpoint and
//! continues bit for bit as if it had never stopped.
//!
//! ```
//! use lamina::prelude::*;
//!
//! let mut net = Network::new().with_seed(3);
//! let pop = net.population("pop", 100, LifCurrent::default())?;
//! net.connect(pop, pop, Connectivity::FixedInDegree(10), 60.0, 1.5)?;
//! net.poisson(pop, PoissonInput { in_degree: 200, rate_hz: 10.0, weight_pa: 80.0 })?;
//! let spikes = net.probe_spikes(pop)?;
//! let path = std::env::temp_dir().join("doc_checkpoint.npz");
//!
//! let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
//! sim.run(0.05)?;
//! sim.checkpoint(&path)?;
//! sim.run(0.05)?;
//!
//! // Another process, another day: the same network, resumed from the file.
//! let mut resumed = Simulator::resume(&net, BackendChoice::Cpu, &path)?;
//! assert_eq!(resumed.time(), 0.05);
//! resumed.run(0.05)?;
//! assert_eq!(resumed.spikes(&spikes)?, sim.spikes(&spikes)?);
//! # Ok::<(), lamina::Error>(())
//! ```

use super::{Simulator, StateData};
use crate::error::{Error, Result};
use crate::exec::{BackendChoice, Executor};
use crate::io::{shaped, write_npz, NpzIn};
use crate::lower::{Plan, ProbeLayout};
use ndarray::{arr0, Array1, ArrayView1};
use std::path::Path;

/// Version of the checkpoint layout, stored as `lamina_checkpoint`.
const FORMAT: u64 = 1;

/// What the fingerprint of a checkpoint holds, in order.
const FINGERPRINT: [&str; 5] = [
    "neurons",
    "synapses",
    "delay ring slots",
    "probes",
    "network hash",
];

impl Simulator {
    /// Writes the complete state of the run to an `.npz` file at `path` (exactly that path),
    /// so that [`Simulator::resume`] (or [`Simulator::load_checkpoint`]) on either backend
    /// continues bit for bit as if the run had never stopped:
    ///
    /// | array              | dtype   | shape              | what                              |
    /// |--------------------|---------|--------------------|-----------------------------------|
    /// | `lamina_checkpoint`| uint64  | ()                 | file layout version, 1            |
    /// | `fingerprint`      | uint64  | (5,)               | neurons, synapses, delay ring slots, probes, and a hash of the network as built (populations, parameters, initial voltages, row pointers, a sample of the synapse records, Poisson inputs and their seeds, spike-source schedules, probes, dt) |
    /// | `seed`             | uint64  | ()                 | the network's seed                |
    /// | `fingerprint_parts`| uint64  | (8,)               | hashes of the network's parts ([`PARTS`]), to name what differs |
    /// | `step`             | uint64  | ()                 | steps run ([`Simulator::n_steps`]) |
    /// | `v`                | float32 | (neurons + k,)     | membrane potentials (mV; a user-defined model's first state variable), then the parameters and other state variables of user-defined neuron models (`Plan::v_init`) |
    /// | `i_syn`            | float32 | (neurons, 2)       | synaptic currents i_ex, i_in (pA) |
    /// | `refractory`       | uint32  | (neurons,)         | refractory steps left; bit 31 marks an ablated neuron |
    /// | `ring`             | int32   | (slots, neurons, 2)| the delay ring: input in flight, in each population's fixed-point units |
    /// | `cut_synapses`     | uint64  | (k,)               | records cut by [`Simulator::lesion`] |
    /// | `neuron_arrays`    | uint64  | ()                 | how many per-neuron arrays the network was given (parameters, initial states, currents) |
    /// | `neuron_array{k}`  | float64 | (population size,) | the `k`-th of them, as built      |
    /// | `neuron_array{k}.name` | uint8 | (m,)           | its population and what it is (`v_th_mv`, `initial v`, `input current`), UTF-8, separated by a zero byte |
    /// | `probe{i}.steps`   | uint64  | (m,)               | spike probe: step of each spike; state probe: step of each sample |
    /// | `probe{i}.neurons` | uint32  | (m,)               | spike probe: neuron of each spike (local to the slice) |
    /// | `probe{i}.values`  | float32 | (m, neurons, 3)    | state probe: v, i_ex, i_in of each sample |
    ///
    /// Poisson input needs no generator state: every draw is a function of the seed, the
    /// input, the neuron and the step. The file goes to a temporary file in the same
    /// directory, flushed and renamed onto `path` once complete, so a run killed while it
    /// writes leaves the previous checkpoint intact.
    pub(super) fn spiking_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let written = self.write_checkpoint(&self.rank_path(path.as_ref()));
        self.agree(written, "writing its checkpoint")
    }

    /// The file of this process's checkpoint: `path` itself in a single process; on several,
    /// one file per process beside it (`run.npz` -> `run.rank1-of-4.npz`).
    fn rank_path(&self, path: &Path) -> std::path::PathBuf {
        match self.rank_and_size() {
            (_, 1) => path.to_path_buf(),
            (rank, size) => rank_file(path, rank, size),
        }
    }

    fn write_checkpoint(&mut self, path: &Path) -> Result<()> {
        let state = RunState::read(self.backend.as_mut(), &self.plan)?;
        let fingerprint = Array1::from(fingerprint(&self.plan).to_vec());
        let parts = Array1::from(part_hashes(&self.plan).to_vec());
        let seed = self.plan.seed;
        let n = self.plan.neuron_count() as usize;
        let slots = self.plan.globals.ring_slots as usize;
        let cut: Array1<u64> = self.cut_synapses.iter().copied().collect();
        let plastic_cut = self.plastic_cut_array();
        let (step, spikes, states) = (self.step, &self.spike_data, &self.state_data);
        let arrays = &self.plan.neuron_arrays;
        let (rank, size) = self.rank_and_size();
        // Spikes from other processes still on their way: (step they arrive at, neuron).
        let pending: Vec<(u64, u32)> = (self.dist.iter())
            .flat_map(|d| d.pending.iter())
            .flat_map(|(&step, neurons)| neurons.iter().map(move |&i| (step, i)))
            .collect();
        write_npz(path, |out| {
            out.add("lamina_checkpoint", &arr0(FORMAT))?;
            out.add("fingerprint", &fingerprint)?;
            out.add("seed", &arr0(seed))?;
            out.add("fingerprint_parts", &parts)?;
            out.add("step", &arr0(step))?;
            out.add("v", &ArrayView1::from(&state.v))?;
            out.add("i_syn", &shaped(&state.i_syn, &[n, 2])?)?;
            out.add("refractory", &ArrayView1::from(&state.refractory))?;
            out.add("ring", &shaped(&state.ring, &[slots, n, 2])?)?;
            out.add("cut_synapses", &cut)?;
            if size > 1 {
                out.add("process", &Array1::from(vec![rank as u64, size as u64]))?;
                let steps: Array1<u64> = pending.iter().map(|p| p.0).collect();
                let neurons: Array1<u32> = pending.iter().map(|p| p.1).collect();
                out.add("arriving.steps", &steps)?;
                out.add("arriving.neurons", &neurons)?;
            }
            out.add("neuron_arrays", &arr0(arrays.len() as u64))?;
            for (k, a) in arrays.iter().enumerate() {
                let name = format!("{}\0{}", a.population, a.what).into_bytes();
                out.add(&format!("neuron_array{k}"), &ArrayView1::from(&a.values))?;
                out.add(&format!("neuron_array{k}.name"), &Array1::from(name))?;
            }
            if let Some(pp) = &self.plan.plastic {
                let h = pp.max_delay as usize;
                out.add(
                    "plastic_state",
                    &shaped(&state.plastic, &[pp.syns.len(), 4])?,
                )?;
                out.add("spike_hist", &shaped(&state.spike_hist, &[h, n])?)?;
                out.add("hist_count", &ArrayView1::from(&state.hist_count))?;
                out.add("plastic_cut", &plastic_cut.0)?;
                out.add("plastic_cut_saved", &plastic_cut.1)?;
                if !pp.models.is_empty() {
                    out.add("plastic_model_vars", &ArrayView1::from(&state.model_vars))?;
                }
            }
            for (p, layout) in self.plan.probes.iter().enumerate() {
                match layout {
                    ProbeLayout::Spikes { .. } => {
                        let t = &spikes[p];
                        out.add(&format!("probe{p}.steps"), &ArrayView1::from(&t.steps))?;
                        out.add(&format!("probe{p}.neurons"), &ArrayView1::from(&t.neurons))?;
                    }
                    ProbeLayout::State { .. } => {
                        let d = &states[p];
                        out.add(&format!("probe{p}.steps"), &ArrayView1::from(&d.steps))?;
                        out.add(
                            &format!("probe{p}.values"),
                            &shaped(&d.values, &[d.steps.len(), d.neurons, 3])?,
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Builds `network` for `choice` and loads the checkpoint at `path` into it: the run goes
    /// on from the checkpoint's step with the probe data recorded up to it. The network must
    /// be the one the checkpoint was written from (same description and seed); anything else
    /// is refused, naming what differs.
    ///
    /// ```
    /// use lamina::prelude::*;
    ///
    /// let network = |seed| -> lamina::Result<(Network, SpikeProbe)> {
    ///     let mut net = Network::new().with_seed(seed);
    ///     let pop = net.population("pop", 50, LifCurrent::default())?;
    ///     net.poisson(pop, PoissonInput { in_degree: 100, rate_hz: 20.0, weight_pa: 100.0 })?;
    ///     let spikes = net.probe_spikes(pop)?;
    ///     Ok((net, spikes))
    /// };
    /// let path = std::env::temp_dir().join("doc_resume.npz");
    /// let (net, spikes) = network(12)?;
    /// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
    /// sim.run(0.05)?;
    /// sim.checkpoint(&path)?;
    ///
    /// let resumed = Simulator::resume(&net, BackendChoice::Cpu, &path)?;
    /// assert_eq!(resumed.n_steps(), 500);
    /// assert_eq!(resumed.spikes(&spikes)?, sim.spikes(&spikes)?); // the spikes so far
    /// // Another seed is another network: refused, and the message says so.
    /// let err = Simulator::resume(&network(11)?.0, BackendChoice::Cpu, &path).err().unwrap();
    /// assert!(err.to_string().contains("seed 12"), "{err}");
    /// # Ok::<(), lamina::Error>(())
    /// ```
    pub fn resume<'a>(
        network: impl Into<super::Model<'a>>,
        choice: BackendChoice,
        path: impl AsRef<Path>,
    ) -> Result<Simulator> {
        let mut sim = Simulator::new(network, choice)?;
        sim.load_checkpoint(path)?;
        Ok(sim)
    }

    /// Replaces this simulator's state with the checkpoint at `path` (written by
    /// [`Simulator::checkpoint`] on either backend): neuron state, delay ring, ablations, cut
    /// synapses, step counter and probe data. The whole file is read and checked against this
    /// network first (the error names the array and both shapes, or what differs in the
    /// fingerprint); nothing changes unless it is right.
    pub(super) fn spiking_load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let loaded = self.load_rank_checkpoint(path.as_ref());
        self.agree(loaded, "loading its checkpoint")
    }

    fn load_rank_checkpoint(&mut self, path: &Path) -> Result<()> {
        let plan = std::sync::Arc::clone(&self.plan);
        let (rank, size) = self.rank_and_size();
        let own = self.rank_path(path);
        if !own.exists() {
            if let Some(written) = ranks_written(path) {
                return Err(Error::Simulation(format!(
                    "the checkpoint {} was written by {written} processes, one file each; this \
                     run has {size}: resume it on {written} processes",
                    path.display()
                )));
            }
        }
        let mut file = NpzIn::open(&own)?;
        file.check_version(
            "lamina_checkpoint",
            "a checkpoint written by Simulator::checkpoint",
            "checkpoint",
            FORMAT,
        )?;
        let written = match file.has("process") {
            true => file.array::<u64>("process", &[2])?,
            false => vec![0, 1],
        };
        if written != [rank as u64, size as u64] {
            return Err(file.error(format!(
                "it was written by process {} of {}, and this is process {rank} of {size}: \
                 resume on the number of processes that wrote it, each from its own file",
                written[0], written[1]
            )));
        }
        check_network(&mut file, &plan)?;
        let step = file.step_counter("step")?;
        let arriving = match size > 1 {
            true => {
                let steps = file.vector::<u64>("arriving.steps")?;
                let neurons = file.array::<u32>("arriving.neurons", &[steps.len()])?;
                steps.into_iter().zip(neurons).collect()
            }
            false => Vec::new(),
        };
        let n = plan.neuron_count() as usize;
        let slots = plan.globals.ring_slots as usize;
        let state = RunState {
            v: file.array::<f32>("v", &[plan.v_init.len()])?,
            i_syn: file.array::<f32>("i_syn", &[n, 2])?,
            refractory: file.array::<u32>("refractory", &[n])?,
            ring: file.array::<i32>("ring", &[slots, n, 2])?,
            plastic: Vec::new(),
            spike_hist: Vec::new(),
            hist_count: Vec::new(),
            model_vars: Vec::new(),
        };
        let mut state = state;
        let mut plastic_cut = (Vec::new(), Vec::new());
        if let Some(pp) = &plan.plastic {
            let h = pp.max_delay as usize;
            state.plastic = file.array::<u32>("plastic_state", &[pp.syns.len(), 4])?;
            state.spike_hist = file.array::<u32>("spike_hist", &[h, n])?;
            state.hist_count = file.array::<u32>("hist_count", &[h])?;
            if !pp.models.is_empty() {
                let len = pp.model_vars.len();
                state.model_vars = file.array::<u32>("plastic_model_vars", &[len])?;
            }
            let cut = file.vector::<u64>("plastic_cut")?;
            let saved = file.array::<f32>("plastic_cut_saved", &[cut.len()])?;
            if let Some(bad) = cut.iter().find(|&&j| j >= pp.syns.len() as u64) {
                return Err(file.error(format!(
                    "`plastic_cut` holds synapse {bad}; this network has {} plastic synapses",
                    pp.syns.len()
                )));
            }
            plastic_cut = (cut, saved);
        }
        check_state(&plan, &state).map_err(|what| file.error(what))?;
        let cut = file.vector::<u64>("cut_synapses")?;
        if let Some(bad) = cut.iter().find(|&&j| j >= plan.synapse_count()) {
            return Err(file.error(format!(
                "`cut_synapses` holds record {bad}; this network has {} synapses",
                plan.synapse_count()
            )));
        }
        let (spikes, states) = read_probes(&mut file, &plan, step)?;

        // Everything read and checked: now the synapse records, then the state.
        self.restore_synapses()?;
        self.cut_synapses = cut.iter().copied().collect();
        self.write_records(&cut)?;
        self.load_plastic_cut(&plastic_cut.0, &plastic_cut.1)?;
        state.write(self.backend.as_mut(), &plan)?;
        self.step = step;
        self.spike_data = spikes;
        self.state_data = states;
        if let Some(d) = &mut self.dist {
            d.pending.clear();
            for (at, neuron) in arriving {
                d.pending.entry(at).or_default().push(neuron);
            }
        }
        Ok(())
    }
}

/// The file of process `rank` of `size`'s checkpoint for `path` (`run.npz` ->
/// `run.rank1-of-4.npz`).
fn rank_file(path: &Path, rank: usize, size: usize) -> std::path::PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.rank{rank}-of-{size}.{}", ext.to_string_lossy()),
        None => format!("{stem}.rank{rank}-of-{size}"),
    };
    path.with_file_name(name)
}

/// How many processes wrote the checkpoint at `path`, if some did (their rank-0 file exists).
fn ranks_written(path: &Path) -> Option<usize> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let entries = std::fs::read_dir(dir.unwrap_or(Path::new("."))).ok()?;
    // `rank_file(path, 0, size)` with the size cut out: what comes before and after it.
    let pattern = rank_file(path, 0, 0);
    let pattern = pattern.file_name()?.to_string_lossy();
    let (head, tail) = pattern.split_once("-of-0")?;
    let (head, tail) = (format!("{head}-of-"), tail.to_string());
    entries.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let size = name.strip_prefix(&head)?.strip_suffix(&tail)?;
        size.parse().ok()
    })
}

/// Every probe's data in a checkpoint, checked: spikes in (step, neuron) order before `step`,
/// neurons inside the probed slice, state samples at the probe's steps.
fn read_probes(
    file: &mut NpzIn,
    plan: &Plan,
    step: u64,
) -> Result<(Vec<super::SpikeTrains>, Vec<StateData>)> {
    let dt_s = plan.dt_ms * 1e-3;
    let mut spikes = Vec::with_capacity(plan.probes.len());
    let mut states = Vec::with_capacity(plan.probes.len());
    for (p, layout) in plan.probes.iter().enumerate() {
        let steps = file.vector::<u64>(&format!("probe{p}.steps"))?;
        match *layout {
            ProbeLayout::Spikes { count, .. } => {
                let neurons = file.vector::<u32>(&format!("probe{p}.neurons"))?;
                file.check_shape(
                    &format!("probe{p}.neurons"),
                    &[neurons.len()],
                    &[steps.len()],
                )?;
                let pairs: Vec<(u64, u32)> = steps.iter().copied().zip(neurons.clone()).collect();
                let ordered = pairs.windows(2).all(|w| w[0] < w[1]);
                if !ordered || pairs.iter().any(|&(s, i)| s >= step || i >= count) {
                    return Err(file.error(format!(
                        "probe {p}'s spikes are not in (step, neuron) order before step {step} \
                         with neurons below {count}"
                    )));
                }
                spikes.push(super::SpikeTrains {
                    times_s: steps.iter().map(|&s| s as f64 * dt_s).collect(),
                    steps,
                    neurons,
                });
                states.push(StateData::default());
            }
            ProbeLayout::State {
                count, every_steps, ..
            } => {
                let every = every_steps as u64;
                let expected: Vec<u64> = (0..step.div_ceil(every)).map(|k| k * every).collect();
                if steps != expected {
                    return Err(file.error(format!(
                        "probe {p} has {} samples; a state probe sampled every {every} steps \
                         has {} samples at steps 0, {every}, ... before step {step}",
                        steps.len(),
                        expected.len()
                    )));
                }
                let values = file.array::<f32>(
                    &format!("probe{p}.values"),
                    &[steps.len(), count as usize, 3],
                )?;
                spikes.push(super::SpikeTrains::default());
                states.push(StateData {
                    steps,
                    values,
                    neurons: count as usize,
                });
            }
        }
    }
    Ok((spikes, states))
}

/// The network a checkpoint belongs to: sizes, and a hash of everything the build drew
/// (so another seed is told apart) that is cheap to hash at full scale: the synapse records
/// are sampled, about a million words of them.
/// What `fingerprint_parts` holds, in order: the parts of a network whose hashes a
/// checkpoint keeps, so that a mismatch names what differs.
const PARTS: [&str; 8] = [
    "the populations and their parameters",
    "the neurons' initial state",
    "the neurons' constant input currents",
    "the synapses",
    "the Poisson inputs",
    "the spike sources' schedules",
    "the probes",
    "the user-defined neuron models",
];

/// One hash per entry of [`PARTS`].
fn part_hashes(plan: &Plan) -> [u64; 8] {
    let h = || crate::rng::KeyHasher::default().str("lamina checkpoint part");
    let words = &plan.syn_words;
    let stride = (words.len() / (1 << 20)).max(1);
    let sampled: Vec<u32> = words.iter().step_by(stride).copied().collect();
    let mut pops = h().f64(plan.dt_ms).bytes(&pop_bytes(plan));
    for name in &plan.pop_names {
        pops = pops.str(name);
    }
    let mut probes = h().bytes(bytemuck::cast_slice(&plan.state_entries));
    for p in &plan.probes {
        probes = probes.str(&format!("{p:?}"));
    }
    [
        pops.finish(),
        h().bytes(bytemuck::cast_slice(&plan.v_init)).finish(),
        h().bytes(bytemuck::cast_slice(&plan.v_drive)).finish(),
        h().bytes(bytemuck::cast_slice(&plan.row_ptr))
            .bytes(bytemuck::cast_slice(&sampled))
            .u64(words.len() as u64)
            .finish(),
        h().bytes(bytemuck::cast_slice(&plan.poisson))
            .bytes(bytemuck::cast_slice(&plan.poisson_cdf))
            .finish(),
        h().bytes(bytemuck::cast_slice(&plan.aux)).finish(),
        probes.finish(),
        h().str(plan.neuron_kernel.as_deref().unwrap_or_default())
            .finish(),
    ]
}

/// Refuses a checkpoint of another network, saying what differs in words a user can check:
/// the seed first (another seed draws another network), then the fingerprint's counts, then
/// which parts of the network changed (an initial state or a parameter edited after the
/// build, say). Checkpoints without the seed or the parts fall back to the counts and the
/// network hash.
fn check_network(file: &mut NpzIn, plan: &Plan) -> Result<()> {
    const ADVICE: &str = " (resume with the network and seed the checkpoint was written from)";
    if file.has("seed") {
        let theirs = file.array::<u64>("seed", &[])?[0];
        if theirs != plan.seed {
            return Err(file.error(format!(
                "it was written with seed {theirs}; this network has seed {}. Resume with \
                 seed {theirs} (`--seed {theirs}`, or `Network::with_seed({theirs})`)",
                plan.seed
            )));
        }
    }
    let ours = fingerprint(plan);
    if file.has("fingerprint_parts") {
        let theirs = file.array::<u64>("fingerprint", &[FINGERPRINT.len()])?;
        let network_differs = theirs[4] != ours[4];
        if network_differs && theirs[..4] == ours[..4] && file.has("neuron_arrays") {
            let differ = differing_arrays(file, plan)?;
            if !differ.is_empty() {
                return Err(file.error(format!(
                    "{}; resume with the network as it was when the checkpoint was written",
                    differ.join("; ")
                )));
            }
        }
        if network_differs && theirs[..4] == ours[..4] {
            let parts = file.array::<u64>("fingerprint_parts", &[PARTS.len()])?;
            let differ: Vec<&str> = PARTS
                .iter()
                .zip(parts.iter().zip(part_hashes(plan)))
                .filter(|(_, (theirs, ours))| *theirs != ours)
                .map(|(what, _)| *what)
                .collect();
            return Err(file.error(format!(
                "it was written from a network with the same sizes and seed that differs in {}; \
                 resume with the network as it was when the checkpoint was written (values \
                 edited after building it included)",
                differ.join(", ")
            )));
        }
    }
    file.check_fingerprint(
        &FINGERPRINT,
        &ours,
        "it was written from another network",
        ADVICE,
    )
}

/// The per-neuron arrays that differ between the checkpoint's network and `plan`'s, each
/// said in words: which array of which population, and the first neuron that differs.
fn differing_arrays(file: &mut NpzIn, plan: &Plan) -> Result<Vec<String>> {
    let count = file.array::<u64>("neuron_arrays", &[])?[0];
    let mut theirs = Vec::new();
    for k in 0..count {
        let name = file.vector::<u8>(&format!("neuron_array{k}.name"))?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let (population, what) = name.split_once('\0').unwrap_or((&name, ""));
        let values = file.vector::<f64>(&format!("neuron_array{k}"))?;
        theirs.push((population.to_string(), what.to_string(), values));
    }
    let mut differ = Vec::new();
    for ours in &plan.neuron_arrays {
        let (population, what) = (&ours.population, &ours.what);
        match theirs.iter().find(|(p, w, _)| p == population && w == what) {
            None => differ.push(format!(
                "population `{population}` has a per-neuron {what}, which the checkpoint's \
                 network had not"
            )),
            Some((_, _, values)) if *values != ours.values => {
                let first = (0..values.len().min(ours.values.len()))
                    .find(|&i| values[i].to_bits() != ours.values[i].to_bits());
                differ.push(match first {
                    Some(i) => format!(
                        "the per-neuron {what} of population `{population}` differs from the \
                         checkpoint's (neuron {i}: {} here, {} in the checkpoint)",
                        ours.values[i], values[i]
                    ),
                    None => format!(
                        "the per-neuron {what} of population `{population}` has {} values; \
                         the checkpoint's had {}",
                        ours.values.len(),
                        values.len()
                    ),
                });
            }
            Some(_) => {}
        }
    }
    for (population, what, _) in &theirs {
        let here = plan
            .neuron_arrays
            .iter()
            .any(|a| a.population == *population && a.what == *what);
        if !here {
            differ.push(format!(
                "the checkpoint's network gave population `{population}` a per-neuron {what}; \
                 this one does not"
            ));
        }
    }
    Ok(differ)
}

/// Refuses a state no run of this network can reach: a potential or current that is NaN or
/// infinite, a refractory counter beyond its population's refractory period.
fn check_state(plan: &Plan, state: &RunState) -> std::result::Result<(), String> {
    use crate::lower::layout::ABLATED;
    if let Some(i) = state.v.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "`v` holds {} at index {i}; a run never makes a potential or state value NaN or \
             infinite, so the file is damaged",
            state.v[i]
        ));
    }
    if let Some(i) = state.i_syn.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "`i_syn` holds {} for neuron {} ({}); a run never makes a current NaN or \
             infinite, so the file is damaged",
            state.i_syn[i],
            i / 2,
            ["i_ex", "i_in"][i % 2]
        ));
    }
    for (i, &r) in state.refractory.iter().enumerate() {
        let pop = plan.population_of(i as u32);
        let most = plan.pops[pop].n_ref;
        if r & !ABLATED > most {
            return Err(format!(
                "`refractory` holds {} steps for neuron {} of population `{}`, whose \
                 refractory period is {most} steps; the file is damaged",
                r & !ABLATED,
                i as u32 - plan.pops[pop].start,
                plan.pop_names[pop]
            ));
        }
    }
    Ok(())
}

/// The population table as a checkpoint hashes it: each record without `each` where it is 0
/// (no per-neuron parameters), as records were before they had it, so that the checkpoints of
/// such networks written then still match.
fn pop_bytes(plan: &Plan) -> Vec<u8> {
    let shared = std::mem::offset_of!(crate::lower::layout::PopRecord, each);
    let mut out = Vec::with_capacity(std::mem::size_of_val(&plan.pops[..]));
    for rec in &plan.pops {
        let bytes = bytemuck::bytes_of(rec);
        out.extend_from_slice(if rec.each == 0 {
            &bytes[..shared]
        } else {
            bytes
        });
    }
    out
}

fn fingerprint(plan: &Plan) -> [u64; 5] {
    let words = &plan.syn_words;
    let stride = (words.len() / (1 << 20)).max(1);
    let sampled: Vec<u32> = words.iter().step_by(stride).copied().collect();
    let mut h = crate::rng::KeyHasher::default()
        .str("lamina checkpoint")
        .f64(plan.dt_ms)
        .bytes(&pop_bytes(plan))
        .bytes(bytemuck::cast_slice(&plan.v_init))
        .bytes(bytemuck::cast_slice(&plan.v_drive))
        .bytes(bytemuck::cast_slice(&plan.row_ptr))
        .bytes(bytemuck::cast_slice(&sampled))
        .u64(words.len() as u64)
        .bytes(bytemuck::cast_slice(&plan.poisson))
        .bytes(bytemuck::cast_slice(&plan.poisson_cdf))
        .bytes(bytemuck::cast_slice(&plan.aux))
        .bytes(bytemuck::cast_slice(&plan.state_entries))
        .str(plan.neuron_kernel.as_deref().unwrap_or_default());
    for name in &plan.pop_names {
        h = h.str(name);
    }
    for p in &plan.probes {
        h = match *p {
            ProbeLayout::Spikes { start, count } => h.u64(start as u64).u64(count as u64),
            ProbeLayout::State {
                first_entry,
                count,
                every_steps,
            } => h
                .u64(first_entry as u64)
                .u64(count as u64)
                .u64(every_steps as u64),
        };
    }
    [
        plan.neuron_count() as u64,
        plan.synapse_count(),
        plan.globals.ring_slots as u64,
        plan.probes.len() as u64,
        h.finish(),
    ]
}

/// `len` words of buffer `name`, or none when `len` is 0 (the buffer is then absent).
fn read_if(exec: &mut dyn Executor, name: &str, len: usize) -> Result<Vec<u32>> {
    match len {
        0 => Ok(Vec::new()),
        _ => exec.read_words(name, 0, len),
    }
}

/// Everything a spiking run carries from one step to the next besides the plan and the synapse
/// records: what a checkpoint saves. (The step counter is the simulator's; Poisson draws are a
/// function of the step, so there is no generator state.)
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RunState {
    /// Membrane potentials, one per neuron, then the parameters and the rest of the state of
    /// user-defined neuron models (laid out as `Plan::v_init`).
    pub v: Vec<f32>,
    /// Synaptic currents, `[i_ex, i_in]` per neuron.
    pub i_syn: Vec<f32>,
    /// Refractory counters, with the `ABLATED` bit.
    pub refractory: Vec<u32>,
    /// The delay ring: slots x neurons x 2 channels of fixed-point input not yet delivered.
    pub ring: Vec<i32>,
    /// Plastic synapses (empty without): weight, pre trace, post trace and last step of each,
    /// as the words of `PlasticState`; then the spike history (spikes still on their way to
    /// plastic synapses) and its counts.
    pub plastic: Vec<u32>,
    pub spike_hist: Vec<u32>,
    pub hist_count: Vec<u32>,
    /// The synapse models' state variables and traces (empty without models), as words.
    pub model_vars: Vec<u32>,
}

/// Words of the plastic state, of the spike history, of its counts and of the synapse models'
/// values in `plan`.
fn plastic_sizes(plan: &Plan) -> [usize; 4] {
    match &plan.plastic {
        Some(pp) => {
            let h = pp.max_delay as usize;
            let n = plan.neuron_count() as usize;
            [pp.syns.len() * 4, h * n, h, pp.model_vars.len()]
        }
        None => [0; 4],
    }
}

impl RunState {
    /// The state of `exec` between steps, read back.
    pub(super) fn read(exec: &mut dyn Executor, plan: &Plan) -> Result<RunState> {
        let n = plan.neuron_count() as usize;
        let ring = plan.globals.ring_slots as usize * n * 2;
        let [plastic, hist, counts, models] = plastic_sizes(plan);
        Ok(RunState {
            v: exec.read_f32("v", 0, plan.v_init.len())?,
            i_syn: exec.read_f32("i_syn", 0, 2 * n)?,
            refractory: exec.read_words("refractory", 0, n)?,
            ring: bytemuck::cast_vec(exec.read_words("ring", 0, ring)?),
            plastic: read_if(exec, "plastic_state", plastic)?,
            spike_hist: read_if(exec, "spike_hist", hist)?,
            hist_count: read_if(exec, "hist_count", counts)?,
            model_vars: read_if(exec, "plastic_model_vars", models)?,
        })
    }

    /// Replaces the state of `exec` between steps (checked against the plan first).
    pub(super) fn write(&self, exec: &mut dyn Executor, plan: &Plan) -> Result<()> {
        self.check(plan)?;
        exec.write_f32("v", 0, &self.v)?;
        exec.write_f32("i_syn", 0, &self.i_syn)?;
        exec.write_words("refractory", 0, &self.refractory)?;
        exec.write_words("ring", 0, bytemuck::cast_slice(&self.ring))?;
        if plan.plastic.is_some() {
            exec.write_words("plastic_state", 0, &self.plastic)?;
            exec.write_words("spike_hist", 0, &self.spike_hist)?;
            exec.write_words("hist_count", 0, &self.hist_count)?;
            if !self.model_vars.is_empty() {
                exec.write_words("plastic_model_vars", 0, &self.model_vars)?;
            }
        }
        Ok(())
    }

    /// Refuses a state whose arrays do not fit the plan.
    fn check(&self, plan: &Plan) -> Result<()> {
        let n = plan.neuron_count() as usize;
        let [plastic, hist, counts, models] = plastic_sizes(plan);
        let want = [
            ("plastic_state", self.plastic.len(), plastic),
            ("plastic_model_vars", self.model_vars.len(), models),
            ("spike_hist", self.spike_hist.len(), hist),
            ("hist_count", self.hist_count.len(), counts),
            ("v", self.v.len(), plan.v_init.len()),
            ("i_syn", self.i_syn.len(), 2 * n),
            ("refractory", self.refractory.len(), n),
            (
                "ring",
                self.ring.len(),
                plan.globals.ring_slots as usize * n * 2,
            ),
        ];
        for (what, got, want) in want {
            if got != want {
                return Err(crate::Error::Simulation(format!(
                    "the run state's `{what}` has {got} values; this network needs {want}"
                )));
            }
        }
        Ok(())
    }
}
