//! Model-file validation: every problem of a file is reported with its file, line and key;
//! `lamina check` and `lamina run` accept and refuse the same files with the same words; a
//! CSV row that says how many synapses twice, reversed ranges and malformed expressions are
//! refused in plain words; a file of many populations is checked in time linear in its size.

use lamina::model::file::{Model, ModelFile};
use lamina::model::nef::{Ensemble, NefDist, NefNetwork};
use std::path::{Path, PathBuf};
use std::process::Command;

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/models")
        .join(name)
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lamina-mfc-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A shipped file's text with each `(from, to)` replaced once.
fn edited(name: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(shipped(name)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` is in {name}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// The problems `check` finds in `text`, parsed as if it were `name`.
fn problems(name: &str, text: &str) -> Vec<String> {
    let file = match ModelFile::parse(text, Path::new(name)) {
        Ok(file) => file,
        Err(e) => return vec![e.to_string()],
    };
    match file.check() {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|e| e.to_string()).collect(),
    }
}

#[track_caller]
fn assert_has(messages: &[String], parts: &[&str]) {
    assert!(
        messages
            .iter()
            .any(|m| parts.iter().all(|part| m.contains(part))),
        "no message has all of {parts:?}: {messages:#?}"
    );
}

fn lamina(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args(args)
        .env("LAMINA_BACKEND", "cpu")
        .output()
        .expect("lamina runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `error: ` lines of a command's output.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect()
}

#[test]
fn a_csv_row_with_a_probability_and_a_count_is_refused() {
    let dir = scratch("csv-both");
    std::fs::write(
        dir.join("layers.toml"),
        std::fs::read_to_string(shipped("layers.toml")).unwrap(),
    )
    .unwrap();
    let table = "Source,Target,probability,count,weight,delay\n\
                 L4E,L4E,0.1,,87.8,1.5\n\
                 L4E,L4I,0.1,500,87.8,1.5\n\
                 L4I,L4E,,300,-351.2,0.8\n";
    std::fs::write(dir.join("layers.csv"), table).unwrap();
    let err = ModelFile::from_path(&dir.join("layers.toml"))
        .unwrap()
        .build()
        .err()
        .expect("a row that gives both is refused")
        .to_string();
    for part in [
        "layers.toml:68:",
        "projection_table[0].file",
        "layers.csv:3:",
        "the row gives both `probability` (0.1) and `count` (500)",
        "give one of them",
    ] {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
    // Rows that fill one of the two columns are read, each with its own rule.
    let fixed = table.replace("0.1,500", "0.1,");
    std::fs::write(dir.join("layers.csv"), fixed).unwrap();
    let file = ModelFile::from_path(&dir.join("layers.toml")).unwrap();
    let Model::Spiking(m) = file.build().expect("one column per row builds") else {
        panic!("a spiking model")
    };
    assert!(
        !m.synapses.exact,
        "a probability leaves the number to chance"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reversed_nef_ranges_are_refused_with_the_range_meant() {
    let text = edited(
        "channel.toml",
        &[(
            "name = \"pre\"\nn_neurons = 1000\ndimensions = 1\n",
            "name = \"pre\"\nn_neurons = 1000\ndimensions = 1\nmax_rates = [400, 200]\nintercepts = [0.5, -0.5]\n",
        )],
    );
    let found = problems("channel.toml", &text);
    assert_has(
        &found,
        &[
            "channel.toml:16:",
            "ensemble[0].max_rates",
            "max_rates = [400, 200]: the low bound comes first: write [200, 400]",
        ],
    );
    // The whole entry is refused at its first bad key; the ensemble's other problem waits.
    assert_eq!(found.len(), 1, "{found:#?}");
    let text = text.replace("max_rates = [400, 200]\n", "");
    assert_has(
        &problems("channel.toml", &text),
        &[
            "channel.toml:16:",
            "ensemble[0].intercepts",
            "intercepts = [0.5, -0.5]: the low bound comes first: write [-0.5, 0.5]",
        ],
    );
    // The Rust API refuses the same range.
    let mut net = NefNetwork::new();
    let err = net
        .ensemble(
            "a",
            Ensemble::new(10, 1).max_rates(NefDist::uniform(400.0, 200.0)),
        )
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("max_rates = NefDist::uniform(400, 200): the low bound comes first: write NefDist::uniform(200, 400)"),
        "{err}"
    );
}

#[test]
fn malformed_expressions_are_explained_with_an_example() {
    let cases = [
        ("sin(t", "a `(` is not closed"),
        ("sin(t))", "a `)` closes a `(` that was never opened"),
        (
            "2t",
            "a number is followed directly by `t` (a product is written 2*t)",
        ),
        (
            "t**2",
            "`**` is not an operator; powers are written with `^`",
        ),
        ("3 t", "`3` and `t` have no operator between them"),
        ("0.8*", "it ends with `*`, which needs a value after it"),
        (
            "foo(t)",
            "`foo` is not a function; the functions are sin, cos",
        ),
        ("", "it is empty"),
    ];
    for (expression, what) in cases {
        let text = edited("channel.toml", &[("0.8*sin(2*PI*1.0*t)", expression)]);
        assert_has(
            &problems("channel.toml", &text),
            &[
                "channel.toml:24:",
                "node[0].output",
                &format!("`{expression}` is not an expression: {what}"),
                "write e.g. \"0.8*sin(2*PI*t)\"",
            ],
        );
    }
    // A connection function's example is one of x.
    let text = edited(
        "channel.toml",
        &[("function = [\"0\"]", "function = [\"x^\"]")],
    );
    assert_has(
        &problems("channel.toml", &text),
        &[
            "channel.toml:38:",
            "connection[1].function",
            "`x^`",
            "write e.g. \"x^2\"",
        ],
    );
    // Numbers in exponent notation are read, as users write them.
    for expression in ["1e-3*t", "2.5E2*sin(t)", "-1e+1*t"] {
        let text = edited("channel.toml", &[("0.8*sin(2*PI*1.0*t)", expression)]);
        assert_eq!(
            problems("channel.toml", &text),
            Vec::<String>::new(),
            "{expression}"
        );
    }
}

#[test]
fn every_top_level_key_error_names_its_line() {
    let text = edited(
        "cuba.toml",
        &[
            ("duration = \"1s\"", "duration = \"1 fortnight\""),
            ("dt_ms = 0.1", "scale = -2.0\ndt_ms = 0.0"),
        ],
    );
    let found = problems("cuba.toml", &text);
    let line_of = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with(key))
            .unwrap()
            + 1
    };
    assert_has(
        &found,
        &[
            &format!("cuba.toml:{}:", line_of("duration")),
            "run.duration",
        ],
    );
    assert_has(
        &found,
        &[&format!("cuba.toml:{}:", line_of("scale")), "network.scale"],
    );
    assert_has(
        &found,
        &[&format!("cuba.toml:{}:", line_of("dt_ms")), "network.dt_ms"],
    );
    // A kind of network that does not exist, and entries of the other kind.
    let text = edited("cuba.toml", &[("kind = \"spiking\"", "kind = \"spikey\"")]);
    assert_has(
        &problems("cuba.toml", &text),
        &["cuba.toml:7:", "network.kind"],
    );
    let text = edited("channel.toml", &[]) + "\n[[population]]\nname = \"a\"\nsize = 3\n";
    let line = text.lines().position(|l| l == "[[population]]").unwrap() + 1;
    assert_has(
        &problems("channel.toml", &text),
        &[
            &format!("channel.toml:{line}:"),
            "[[population]] does not belong",
        ],
    );
    // Reference rates of a NEF model.
    let text = edited(
        "channel.toml",
        &[(
            "duration = \"10s\"",
            "duration = \"10s\"\nreference_rates = { name = \"x\", rates_hz = [1.0] }",
        )],
    );
    assert_has(
        &problems("channel.toml", &text),
        &["channel.toml:11:", "run.reference_rates"],
    );
}

#[test]
fn check_reports_every_problem_of_every_file() {
    let text = edited(
        "cuba.toml",
        &[
            ("source = \"excitatory\"", "source = \"excitatry\""),
            (
                "tau_m_ms = 20.0",
                "tau_m_ms = 20.0\nneuron = \"izhikevich\"",
            ),
        ],
    );
    let found = problems("cuba.toml", &text);
    assert_has(
        &found,
        &["cuba.toml:43:", "projection[0].source", "excitatry"],
    );
    assert_has(
        &found,
        &["population[0].neuron", "`izhikevich` is not a neuron kind"],
    );
    // The projections from the population that could not be made add no problem of their own.
    assert!(
        !found
            .iter()
            .any(|m| m.contains("no population named `excitatory`")),
        "{found:#?}"
    );

    let dir = scratch("every");
    std::fs::write(dir.join("a.toml"), &text).unwrap();
    let nef = edited(
        "channel.toml",
        &[
            ("0.8*sin(2*PI*1.0*t)", "sin(t"),
            ("connection = 1", "connection = 9"),
        ],
    );
    std::fs::write(dir.join("b.toml"), nef).unwrap();
    std::fs::write(dir.join("c.toml"), "[network\n").unwrap();
    let good = shipped("cuba.toml");
    let paths: Vec<String> = ["a.toml", "b.toml", "c.toml"]
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .collect();
    let mut args = vec!["check"];
    args.extend(paths.iter().map(String::as_str));
    args.push(good.to_str().unwrap());
    let (ok, stdout, stderr) = lamina(&args);
    assert!(!ok, "a bad file fails the check");
    assert!(stdout.contains("cuba.toml: ok (spiking"), "{stdout}");
    let errors = error_lines(&stderr);
    let errors: Vec<String> = errors.iter().map(|l| l.to_string()).collect();
    assert_has(&errors, &["a.toml:43:", "projection[0].source"]);
    assert_has(&errors, &["a.toml:", "population[0].neuron"]);
    assert_has(&errors, &["b.toml:24:", "node[0].output", "`sin(t`"]);
    assert_has(
        &errors,
        &["b.toml:", "pes[0].connection", "no connection 9"],
    );
    assert_has(&errors, &["c.toml:1:"]);
    assert_has(&errors, &["3 of 4 model files have problems"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_and_run_refuse_the_same_files_with_the_same_words() {
    let dir = scratch("same");
    let bad = [
        edited(
            "cuba.toml",
            &[("source = \"excitatory\"", "source = \"excitatry\"")],
        ),
        edited("cuba.toml", &[("duration = \"1s\"", "duration = \"soon\"")]),
        edited("cuba.toml", &[("dt_ms = 0.1", "dt_ms = -1.0")]),
        edited("channel.toml", &[("0.8*sin(2*PI*1.0*t)", "2t")]),
        edited(
            "channel.toml",
            &[(
                "n_neurons = 1000",
                "n_neurons = 1000\nmax_rates = [300, 100]",
            )],
        ),
        "[network]\nkind = \"spiking\"\n".to_string(),
    ];
    for (i, text) in bad.iter().enumerate() {
        let path = dir.join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        let (checked, _, check_err) = lamina(&["check", path]);
        let (ran, _, run_err) = lamina(&["run", path, "--duration", "0.001s", "--quiet"]);
        assert!(
            !checked && !ran,
            "both refuse bad{i}: {check_err} / {run_err}"
        );
        let check_lines = error_lines(&check_err);
        let run_lines = error_lines(&run_err);
        assert!(!run_lines.is_empty(), "{run_err}");
        // The same problems, in the same words; check adds its count of bad files.
        assert_eq!(
            &check_lines[..check_lines.len() - 1],
            &run_lines[..],
            "bad{i}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_of_twenty_thousand_populations_is_checked() {
    let dir = scratch("big");
    let n = 20_000;
    let mut text = String::from("[network]\nkind = \"spiking\"\n\n[run]\nduration = \"0.1s\"\n\n");
    for i in 0..n {
        text += &format!("[[population]]\nname = \"p{i}\"\nsize = 2\n\n");
    }
    for i in (0..n).step_by(2) {
        text += &format!(
            "[[projection]]\nsource = \"p{i}\"\ntarget = \"p{}\"\nrule = \"all_to_all\"\nweight = 10.0\ndelay = 1.0\n\n",
            i + 1
        );
    }
    let path = dir.join("big.toml");
    std::fs::write(&path, &text).unwrap();
    let (ok, stdout, stderr) = lamina(&["check", path.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("20000 populations, 40000 neurons, 40000 synapses"),
        "{stdout}"
    );
    // A problem near the end of the file still names its line.
    let last = text.lines().count();
    let broken = text + "[[probe]]\ntarget = \"p20000\"\n";
    let found = problems("big.toml", &broken);
    assert_has(
        &found,
        &[
            &format!("big.toml:{}:", last + 2),
            "probe[0].target",
            "`p20000`",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn per_neuron_arrays_that_are_wrong_are_refused_naming_file_entry_and_problem() {
    let dir = scratch("arrays");
    std::fs::write(
        dir.join("neurons.csv"),
        "v_th,tau\n-50,10\n-51,nan\n-52,12\n",
    )
    .unwrap();
    std::fs::write(dir.join("short.csv"), "v_th\n-50\n-51\n").unwrap();
    std::fs::write(dir.join("words.csv"), "v_th\n-50\nhigh\n-52\n").unwrap();
    let model = |population: &str, extra: &str| {
        let text = format!(
            "[[population]]\nname = \"exc\"\nsize = 3\n{population}\n{extra}\n[[probe]]\ntarget = \"exc\"\n"
        );
        let path = dir.join("arrays.toml");
        std::fs::write(&path, &text).unwrap();
        let file = ModelFile::from_path(&path).unwrap();
        match file.check() {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        }
    };
    let cases: [(&str, &str, &[&str]); 10] = [
        (
            "v_th_mv = [-50.0, -51.0]",
            "",
            &["arrays.toml:4:", "population[0].v_th_mv", "2 values for the 3 neurons of `exc`"],
        ),
        (
            "v_th_mv = { file = \"short.csv\", column = \"v_th\" }",
            "",
            &["population[0].v_th_mv", "2 values in short.csv for the 3 neurons of `exc`"],
        ),
        (
            "tau_m_ms = { file = \"neurons.csv\", column = \"tau\" }",
            "",
            &["population[0].tau_m_ms", "value 1 in neurons.csv is NaN", "finite"],
        ),
        (
            "v_th_mv = { file = \"neurons.csv\", column = \"threshold\" }",
            "",
            &["neurons.csv has no column `threshold`", "\"v_th\""],
        ),
        (
            "v_th_mv = { file = \"words.csv\", column = \"v_th\" }",
            "",
            &["words.csv, row 3: `high` in column `v_th` is not a number"],
        ),
        (
            "v_init_mv = { file = \"missing.npy\" }",
            "",
            &["population[0].v_init_mv", "cannot read missing.npy"],
        ),
        (
            "v_th_mv = { file = \"neurons.csv\" }",
            "",
            &["population[0].v_th_mv", "name the CSV column"],
        ),
        (
            "tau_m_ms = [10.0, -1.0, 10.0]",
            "",
            &["population[0].tau_m_ms", "neuron 1 of `exc`: tau_m_ms must be a positive number"],
        ),
        (
            "",
            "[[current]]\ntarget = \"exc[1:3]\"\namplitude_pa = [1.0, 2.0, 3.0]\n",
            &["current[0].amplitude_pa", "3 values for the 2 neurons of `exc[1:3]`"],
        ),
        (
            "",
            "[[projection]]\nsource = \"exc\"\ntarget = \"exc\"\nrule = \"all_to_all\"\nweight = 10.0\n\
             delay = 1.0\nstdp = { tau_pre_ms = 20.0, tau_post_ms = 20.0, a_plus_pa = 1.0, \
             a_minus_pa = -1.0, w_min_pa = 5.0, w_max_pa = 2.0 }\n",
            &["projection[0].stdp", "w_min_pa < w_max_pa"],
        ),
    ];
    for (population, extra, parts) in cases {
        assert_has(&model(population, extra), parts);
    }
    // A scaled population's arrays are for its size as built, and the message says so.
    let scaled = model(
        "v_th_mv = [-50.0, -51.0, -52.0]",
        "[network]\nscale = 2.0\n",
    );
    assert_has(
        &scaled,
        &[
            "3 values for the 6 neurons of `exc` (size 3 x network.scale 2",
            "as built",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
