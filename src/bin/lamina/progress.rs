//! Progress on stderr: a spinner while a model builds, a bar with the biological time reached,
//! steps per second and ETA while it runs. Nothing is drawn with `--quiet`, when stderr is not
//! a terminal (indicatif's stderr target hides itself there, so pipes, CI logs and `--json`
//! consumers see no escape codes), or before a second has passed (short runs stay silent).

use crate::words::{bio_time, steps_per_second};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wall time after which a bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// The simulators run in chunks of this many steps: a piece of a run that is a whole number
/// of chunks costs no extra submission, and a run in pieces is bit-identical to one run.
pub const CHUNK_STEPS: u64 = 1000;
/// Wall time each piece of a run aims for, so that the bar moves several times a second.
const PIECE_TIME: Duration = Duration::from_millis(250);

pub struct Progress {
    bar: ProgressBar,
    /// Set once the bar is finished, under the lock the thread that shows it takes, so that
    /// a finished bar is never drawn again.
    finished: Arc<Mutex<bool>>,
    /// Steps to run before the bar moves again, and when the last piece began (none before
    /// the first, which is one chunk).
    piece: u64,
    piece_began: Option<Instant>,
}

impl Progress {
    /// A spinner with elapsed time, e.g. while a model builds; ticks on its own thread.
    pub fn spinner(message: &str, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        bar.set_message(message.to_string());
        // A build is one call that does not report back: show the spinner at once when it is
        // allowed to show at all, and let it tick by itself.
        if !quiet {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress::wrap(bar)
    }

    /// A bar over `total_steps` steps of `dt_s` seconds each, shown once a second has passed
    /// whether or not the run has moved by then.
    pub fn steps(message: &str, total_steps: u64, dt_s: f64, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total_steps), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{wide_bar}] {percent}%, {bio} of {bio_total}, {rate}, ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> ")
            .with_key(
                "bio",
                move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&bio_time(s.pos() as f64 * dt_s));
                },
            )
            .with_key(
                "bio_total",
                move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&bio_time(s.len().unwrap_or(0) as f64 * dt_s));
                },
            )
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&steps_per_second(s.per_sec()));
            }),
        );
        bar.set_message(message.to_string());
        let progress = Progress::wrap(bar);
        if !quiet {
            // The first piece of a large model may take longer than a second: a thread of its
            // own shows the bar on time, and the steady tick keeps its clock moving.
            let (bar, finished) = (progress.bar.clone(), Arc::clone(&progress.finished));
            std::thread::spawn(move || {
                std::thread::sleep(SHOW_AFTER);
                let finished = finished.lock().unwrap_or_else(|e| e.into_inner());
                if !*finished {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(Duration::from_millis(200));
                }
            });
        }
        progress
    }

    fn wrap(bar: ProgressBar) -> Progress {
        Progress {
            bar,
            finished: Arc::new(Mutex::new(false)),
            piece: CHUNK_STEPS,
            piece_began: None,
        }
    }

    /// Starts the bar at `position` (a resumed run), leaving the steps already run out of the
    /// rate.
    pub fn start_at(&mut self, position: u64) {
        self.bar.set_position(position);
        self.bar.reset_eta();
    }

    /// Moves the bar to `position` steps.
    pub fn set(&mut self, position: u64) {
        self.bar.set_position(position);
    }

    /// How many steps to run before the next `set`: whole chunks, sized from the last piece's
    /// wall time so that the bar moves a few times a second.
    pub fn next_piece(&mut self) -> u64 {
        let now = Instant::now();
        if let Some(began) = self.piece_began.replace(now) {
            self.piece = piece_after(self.piece, now - began);
        }
        self.piece
    }

    /// Removes the bar or spinner from the terminal.
    pub fn finish(self) {
        let mut finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        *finished = true;
        self.bar.finish_and_clear();
    }
}

/// The next piece after one of `last` steps took `took`: aimed at `PIECE_TIME`, at most four
/// times the last (a slow start must not make one piece the whole run), whole chunks.
pub fn piece_after(last: u64, took: Duration) -> u64 {
    let aimed = if took.is_zero() {
        last.saturating_mul(4)
    } else {
        let scaled = last as f64 * PIECE_TIME.as_secs_f64() / took.as_secs_f64();
        scaled.min(last.saturating_mul(4) as f64) as u64
    };
    (aimed / CHUNK_STEPS).max(1) * CHUNK_STEPS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_whole_chunks_aimed_at_a_quarter_second() {
        // 1,000 steps in 50 ms: 5,000 steps take the aimed quarter second, but growth is
        // capped at four times.
        assert_eq!(piece_after(1000, Duration::from_millis(50)), 4000);
        assert_eq!(piece_after(4000, Duration::from_millis(125)), 8000);
        // A slow model: never less than one chunk.
        assert_eq!(piece_after(1000, Duration::from_secs(3)), 1000);
        assert_eq!(piece_after(8000, Duration::from_millis(500)), 4000);
        assert_eq!(piece_after(3000, Duration::ZERO), 12000);
    }
}
