//! A bounded list of warnings: a report with a million odd values says so once per kind of
//! oddity, not a million times.
//!
//! An odd value (a duration that is not a number of seconds, a negative hit count, a line
//! number of 0, a malformed LCOV record) is kept or dropped as [`Oddity`] says, and
//! [`Warnings::odd`] counts it: the report gets one warning per kind, with how many values
//! were affected and where the first one was. In strict mode ([`crate::Options::strict`]) the
//! first odd value is an error instead, at its position.

const MAX_WARNINGS: usize = 50;

/// A kind of odd value that is kept (or dropped) with a warning rather than refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Oddity {
    /// A test's (or attempt's) time that is NaN, infinite, negative, over 10^7 s or not a
    /// plain number: the test is kept without a duration.
    Duration,
    /// A negative hit count: counted as 0.
    NegativeCount,
    /// A hit count past the 64-bit range: counted as `u64::MAX`.
    HugeCount,
    /// A hit count that is not a number: the line is skipped.
    BadCount,
    /// A line number that is not a number from 1 to 10^7: the line is skipped.
    LineNumber,
    /// An LCOV record that cannot be read: skipped.
    LcovRecord,
}

impl Oddity {
    /// What is wrong with the value, for the error of strict mode.
    fn problem(self) -> &'static str {
        match self {
            Oddity::Duration => "not a number of seconds from 0 to 10^7",
            Oddity::NegativeCount => "a negative hit count",
            Oddity::HugeCount => "a hit count past the 64-bit range",
            Oddity::BadCount => "a hit count that is not a number",
            Oddity::LineNumber => "a line number that is not a number from 1 to 10^7",
            Oddity::LcovRecord => "a malformed LCOV record",
        }
    }

    /// What was done, for the warning: "<count> <what>".
    fn what(self) -> (&'static str, &'static str) {
        match self {
            Oddity::Duration => (
                "test",
                "with a time that is not a number of seconds from 0 to 10^7 (NaN, infinite, negative, too large or locale-formatted) stored without a duration",
            ),
            Oddity::NegativeCount => ("line", "with a negative hit count counted as 0"),
            Oddity::HugeCount => (
                "line",
                "with a hit count past the 64-bit range counted as 18446744073709551615",
            ),
            Oddity::BadCount => ("line", "with a hit count that is not a number skipped"),
            Oddity::LineNumber => (
                "line",
                "with a line number that is not a number from 1 to 10^7 skipped",
            ),
            Oddity::LcovRecord => ("LCOV record", "that cannot be read skipped"),
        }
    }
}

#[derive(Debug)]
struct Tally {
    oddity: Oddity,
    count: u64,
    first: String,
}

#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<String>,
    dropped: u64,
    tallies: Vec<Tally>,
    strict: bool,
}

impl Warnings {
    /// Warnings of a reader in strict mode (`strict`: every odd value is an error).
    pub(crate) fn new(strict: bool) -> Warnings {
        Warnings {
            strict,
            ..Warnings::default()
        }
    }

    pub(crate) fn push(&mut self, warning: String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(warning);
        } else {
            self.dropped += 1;
        }
    }

    /// Counts an odd value; `first` says what and where (`testcase "t" on line 3: time="1,5"`)
    /// and is only made for the first of its kind. In strict mode, the message of the error
    /// to raise at the value instead.
    pub(crate) fn odd(
        &mut self,
        oddity: Oddity,
        first: impl FnOnce() -> String,
    ) -> std::result::Result<(), String> {
        if self.strict {
            return Err(format!(
                "{}: {} (refused in strict mode)",
                oddity.problem(),
                first()
            ));
        }
        match self.tallies.iter_mut().find(|t| t.oddity == oddity) {
            Some(t) => t.count += 1,
            None => self.tallies.push(Tally {
                oddity,
                count: 1,
                first: first(),
            }),
        }
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[String] {
        &self.list
    }

    pub(crate) fn into_vec(mut self) -> Vec<String> {
        let mut out: Vec<String> = self
            .tallies
            .iter()
            .map(|t| {
                let (unit, what) = t.oddity.what();
                let plural = if t.count == 1 { "" } else { "s" };
                format!("{} {unit}{plural} {what}; the first: {}", t.count, t.first)
            })
            .collect();
        out.append(&mut self.list);
        if self.dropped > 0 {
            out.push(format!("... and {} more warnings", self.dropped));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_values_make_one_warning_per_kind_with_the_count_and_the_first() {
        let mut w = Warnings::default();
        for n in 0..3 {
            w.odd(Oddity::Duration, || format!("testcase \"t{n}\""))
                .unwrap();
        }
        w.odd(Oddity::LineNumber, || "line 0 in a.c".into())
            .unwrap();
        w.push("declared totals differ".into());
        let v = w.into_vec();
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v[0].starts_with("3 tests with a time"), "{}", v[0]);
        assert!(v[0].ends_with("the first: testcase \"t0\""), "{}", v[0]);
        assert!(v[1].starts_with("1 line with a line number"), "{}", v[1]);
        assert_eq!(v[2], "declared totals differ");
    }

    #[test]
    fn in_strict_mode_the_first_odd_value_is_the_error() {
        let mut w = Warnings::new(true);
        let err = w.odd(Oddity::NegativeCount, || "line 4: hits=\"-1\"".into());
        assert_eq!(
            err.unwrap_err(),
            "a negative hit count: line 4: hits=\"-1\" (refused in strict mode)"
        );
    }
}
