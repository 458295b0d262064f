//! Progress on stderr: a spinner while a model builds, a bar with rate and ETA while it runs.
//! Nothing is drawn with `--quiet`, when stderr is not a terminal (indicatif's stderr target
//! hides itself there, so pipes, CI logs and `--json` consumers see no escape codes), or before
//! a second has passed (short runs stay silent).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// Wall time after which a bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    quiet: bool,
    shown: bool,
}

impl Progress {
    /// A spinner with elapsed time, e.g. while a model builds; ticks on its own thread.
    pub fn spinner(message: &str, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        bar.set_message(message.to_string());
        let progress = Progress::wrap(bar, quiet);
        // A build is one call that does not report back: show the spinner at once when it is
        // allowed to show at all, and let it tick by itself.
        progress.show();
        progress.bar.enable_steady_tick(Duration::from_millis(120));
        progress
    }

    /// A bar over `total_steps` steps, shown once a second has passed.
    pub fn steps(message: &str, total_steps: u64, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total_steps), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{wide_bar}] {percent}% {per_sec} steps, ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        Progress::wrap(bar, quiet)
    }

    fn wrap(bar: ProgressBar, quiet: bool) -> Progress {
        Progress {
            bar,
            started: Instant::now(),
            quiet,
            shown: false,
        }
    }

    fn show(&self) {
        if !self.quiet {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Moves the bar to `position` steps, showing it once a second has passed.
    pub fn set(&mut self, position: u64) {
        if !self.shown && self.started.elapsed() >= SHOW_AFTER {
            self.show();
            self.shown = true;
        }
        self.bar.set_position(position);
    }

    /// Removes the bar or spinner from the terminal.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
