//! Numbers and counts as people read them: `3,385 steps/s`, `1 dimension`, `every 2nd
//! neuron`, `250 ms`.

/// `n` with thousands separated by commas: `3,385`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 dimension`, `2 dimensions`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `22nd`.
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A rate of steps, rounded to whole steps above 10 per second: `3,385 steps/s`.
pub fn steps_per_second(rate: f64) -> String {
    if !rate.is_finite() || rate <= 0.0 {
        "- steps/s".to_string()
    } else if rate < 10.0 {
        format!("{rate:.1} steps/s")
    } else {
        format!("{} steps/s", thousands(rate.round() as u64))
    }
}

/// A biological time: milliseconds below a second, seconds (to the millisecond) from there.
pub fn bio_time(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{seconds:.3} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3385), "3,385");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(count(1, "dimension"), "1 dimension");
        assert_eq!(count(2, "dimension"), "2 dimensions");
        assert_eq!(count(0, "spike"), "0 spikes");
        assert_eq!(count(12_000, "neuron"), "12,000 neurons");
    }

    #[test]
    fn ordinals_take_their_suffix() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "101st", "111th"
            ]
        );
    }

    #[test]
    fn step_rates_read_as_whole_steps() {
        assert_eq!(steps_per_second(3384.9909), "3,385 steps/s");
        assert_eq!(steps_per_second(12.4), "12 steps/s");
        assert_eq!(steps_per_second(2.54), "2.5 steps/s");
        assert_eq!(steps_per_second(0.0), "- steps/s");
        assert_eq!(steps_per_second(f64::NAN), "- steps/s");
    }

    #[test]
    fn biological_times_carry_their_unit() {
        assert_eq!(bio_time(0.0), "0 ms");
        assert_eq!(bio_time(0.25), "250 ms");
        assert_eq!(bio_time(1.1), "1.100 s");
        assert_eq!(bio_time(12.0), "12.000 s");
    }
}
