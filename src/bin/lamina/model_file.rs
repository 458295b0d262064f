//! Model files on the command line: `lamina run FILE.toml`, `lamina check FILE...` and
//! `lamina import TABLE.csv --model FILE.toml`.

use crate::args::{RunArgs, Target};
use crate::nef::NefJob;
use crate::output::Finished;
use crate::progress::Progress;
use crate::spiking::SpikingJob;
use lamina::model::file::{import_csv, Model, ModelFile, ProjectionSpec};
use lamina::Error;
use serde_json::{json, Map};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Whether `model` names a file rather than a built-in model.
pub fn is_model_file(model: &str) -> bool {
    model.ends_with(".toml") || Path::new(model).is_file()
}

/// Whether the file holds a spiking or a NEF model (read, not built).
pub fn target(args: &RunArgs) -> lamina::Result<Target> {
    let file = ModelFile::from_path(Path::new(&args.model))?;
    Ok(if file.network.kind == "nef" {
        Target::NefFile
    } else {
        Target::SpikingFile
    })
}

/// Reads the file with the command line's overrides (`--scale`, `--seed`).
fn load(args: &RunArgs) -> lamina::Result<ModelFile> {
    let mut file = ModelFile::from_path(Path::new(&args.model))?;
    if let Some(scale) = args.scale {
        file = file.with_scale(scale);
    }
    if let Some(seed) = args.seed {
        file = file.with_seed(seed);
    }
    Ok(file)
}

/// Builds and runs a model file.
pub fn run(args: &RunArgs) -> lamina::Result<Finished> {
    let t0 = Instant::now();
    let file = load(args)?;
    let name = Path::new(&args.model)
        .file_stem()
        .map_or_else(|| args.model.clone(), |s| s.to_string_lossy().into_owned());
    let building = Progress::spinner(&format!("building {name}"), args.quiet);
    // The same validation as `lamina check`, so a run refuses exactly the files it refuses,
    // each problem on its own line as there.
    let model = file.check();
    building.finish();
    let model = model.map_err(|problems| {
        let last = problems.len().saturating_sub(1);
        let mut problems = problems.into_iter();
        for e in problems.by_ref().take(last) {
            eprintln!("error: {e}");
        }
        problems
            .next()
            .unwrap_or_else(|| Error::Validation("the model is invalid".into()))
    })?;
    let mut extra = Map::new();
    extra.insert("model_file".into(), json!(args.model));
    match model {
        Model::Spiking(m) => {
            extra.insert("scale".into(), json!(file.network.scale));
            let job = SpikingJob {
                model: name,
                network: m.network,
                groups: m
                    .spike_probes
                    .into_iter()
                    .map(|p| (p.name, p.probe, p.size))
                    .collect(),
                states: m
                    .state_probes
                    .into_iter()
                    .map(|p| (p.name, p.probe, p.vars))
                    .collect(),
                duration_s: args.duration.unwrap_or(m.run.duration_s),
                transient_s: args.transient.unwrap_or(m.run.transient_s),
                reference_rates: m.run.reference_rates,
                extra,
            };
            crate::spiking::run(job, args, t0)
        }
        Model::Nef(m) => {
            crate::processes::refuse(&format!(
                "model file {} describes a NEF network, and NEF ensembles with decoded \
                 connections",
                args.model
            ))?;
            let job = NefJob {
                model: name,
                network: m.network,
                probes: m.probes.into_iter().map(|p| (p.name, p.probe)).collect(),
                duration_s: args.duration.unwrap_or(m.run.duration_s),
                extra,
            };
            crate::nef::run(job, args, t0).map(|(finished, _)| finished)
        }
    }
}

/// `lamina check`: validates each file as `lamina run` does (no simulator, no device, no
/// synapses drawn) and says what it holds, or every problem of every file, each with its
/// file, line and key; fails when any file has one.
pub fn check(files: &[PathBuf]) -> lamina::Result<()> {
    let mut bad = 0;
    for path in files {
        let checked = ModelFile::from_path(path)
            .map_err(|e| vec![e])
            .and_then(|file| file.check());
        match checked {
            Ok(model) => println!("{}: ok ({})", path.display(), summary(&model)),
            Err(problems) => {
                bad += 1;
                for e in problems {
                    eprintln!("error: {e}");
                }
            }
        }
    }
    match bad {
        0 => Ok(()),
        _ => Err(Error::Validation(format!(
            "{bad} of {} model files have problems (listed above)",
            files.len()
        ))),
    }
}

/// What a checked model holds.
fn summary(model: &Model) -> String {
    match model {
        Model::Spiking(m) => format!(
            "spiking, {} populations, {} neurons, {}, {} spike probes, {} s",
            m.network.populations().len(),
            m.network.neuron_count(),
            m.synapses,
            m.spike_probes.len(),
            m.run.duration_s
        ),
        Model::Nef(m) => format!("nef, {} probes, {} s", m.probes.len(), m.run.duration_s),
    }
}

/// `lamina import`: the projections of a CSV table as `[[projection]]` entries, for the
/// populations of a model file (their sizes turn Pmax into numbers of synapses).
pub fn import(table: &Path, model: &Path) -> lamina::Result<()> {
    #[derive(serde::Serialize)]
    struct Projections {
        projection: Vec<ProjectionSpec>,
    }
    let file = ModelFile::from_path(model)?;
    let projection = import_csv(table, &file)?;
    let text = toml::to_string(&Projections { projection })
        .map_err(|e| Error::Validation(format!("cannot write the projections as TOML: {e}")))?;
    println!(
        "# {} projections from {}, for {}",
        text.matches("[[projection]]").count(),
        table.display(),
        model.display()
    );
    print!("{text}");
    Ok(())
}
