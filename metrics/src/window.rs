//! Time windows in a time zone: how a timestamp falls into a day, week or month, and the
//! complete list of windows between two dates (so that an empty window is a row with nulls,
//! not a missing row and never a zero).

use chrono::{Datelike, Days, Months, NaiveDate};
use polars::prelude::*;

use crate::schema::WINDOW_START;
use crate::{Error, Result};

/// The length of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    /// A local calendar day.
    Day,
    /// A local week, Monday to Sunday (ISO 8601).
    #[default]
    Week,
    /// A local calendar month.
    Month,
}

impl Window {
    /// `day`, `week` or `month`.
    pub fn name(self) -> &'static str {
        match self {
            Window::Day => "day",
            Window::Week => "week",
            Window::Month => "month",
        }
    }
}

impl std::str::FromStr for Window {
    type Err = Error;
    fn from_str(s: &str) -> Result<Window> {
        match s {
            "day" => Ok(Window::Day),
            "week" => Ok(Window::Week),
            "month" => Ok(Window::Month),
            other => Err(Error::invalid(format!(
                "unknown window {other:?} (day, week or month)"
            ))),
        }
    }
}

/// Which windows a series covers: their length, the IANA time zone in which days begin, and
/// optionally the first and last local dates (inclusive) to keep.
///
/// A timestamp `t` belongs to the window that holds its local date in `time_zone`: for
/// `Day` that date, for `Week` the Monday on or before it, for `Month` the 1st of its month.
/// A series lists every window from the one holding `from` (or the earliest data) to the one
/// holding `to` (or the latest data), including windows without data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    /// Day, week or month.
    pub window: Window,
    /// IANA zone name, e.g. `Europe/Berlin`; `UTC` by default.
    pub time_zone: String,
    /// First local date kept (inclusive).
    pub from: Option<NaiveDate>,
    /// Last local date kept (inclusive).
    pub to: Option<NaiveDate>,
}

impl Default for WindowSpec {
    fn default() -> Self {
        WindowSpec {
            window: Window::Week,
            time_zone: "UTC".into(),
            from: None,
            to: None,
        }
    }
}

impl WindowSpec {
    /// A spec with this window in UTC and no date bounds.
    pub fn new(window: Window) -> WindowSpec {
        WindowSpec {
            window,
            ..WindowSpec::default()
        }
    }

    /// The same spec in another time zone.
    pub fn in_zone(mut self, time_zone: impl Into<String>) -> WindowSpec {
        self.time_zone = time_zone.into();
        self
    }

    /// The same spec limited to local dates `from..=to`.
    pub fn between(mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> WindowSpec {
        self.from = from;
        self.to = to;
        self
    }

    pub(crate) fn zone(&self) -> Result<TimeZone> {
        TimeZone::opt_try_new(Some(self.time_zone.as_str()))
            .ok()
            .flatten()
            .ok_or_else(|| Error::invalid(format!("unknown time zone {:?}", self.time_zone)))
    }

    /// The local date of a UTC datetime column, in this spec's zone.
    pub(crate) fn local_date(&self, timestamp: Expr) -> Result<Expr> {
        Ok(timestamp.dt().convert_time_zone(self.zone()?).dt().date())
    }

    /// The first local date of the window a UTC datetime column falls in.
    pub(crate) fn window_start(&self, timestamp: Expr) -> Result<Expr> {
        let date = self.local_date(timestamp)?;
        Ok(match self.window {
            Window::Day => date,
            Window::Week => date.dt().truncate(lit("1w")),
            Window::Month => date.dt().truncate(lit("1mo")),
        })
    }

    /// Keeps rows whose local date lies within `from..=to`.
    pub(crate) fn filter(&self, frame: LazyFrame, timestamp: Expr) -> Result<LazyFrame> {
        let mut frame = frame;
        if let Some(from) = self.from {
            frame = frame.filter(self.local_date(timestamp.clone())?.gt_eq(lit(from)));
        }
        if let Some(to) = self.to {
            frame = frame.filter(self.local_date(timestamp)?.lt_eq(lit(to)));
        }
        Ok(frame)
    }

    /// The first date of the window holding `date`.
    pub fn start_of(&self, date: NaiveDate) -> NaiveDate {
        match self.window {
            Window::Day => date,
            Window::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Window::Month => date.with_day(1).unwrap_or(date),
        }
    }

    fn next(&self, start: NaiveDate) -> Option<NaiveDate> {
        match self.window {
            Window::Day => start.checked_add_days(Days::new(1)),
            Window::Week => start.checked_add_days(Days::new(7)),
            Window::Month => start.checked_add_months(Months::new(1)),
        }
    }

    /// Every window start from the window holding `first` to the one holding `last`.
    pub fn starts(&self, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let end = self.start_of(last);
        let mut at = Some(self.start_of(first));
        while let Some(start) = at.filter(|s| *s <= end) {
            out.push(start);
            at = self.next(start);
        }
        out
    }

    /// Completes an aggregated frame (one row per `window_start` and `keys`) with a row for
    /// every window between the bounds (or the data's first and last windows) and every
    /// combination of `keys` seen; `zero` columns are 0 in the added rows, others null.
    pub(crate) fn complete(
        &self,
        aggregated: DataFrame,
        keys: &[&str],
        zero: &[&str],
    ) -> Result<DataFrame> {
        let days = aggregated
            .column(WINDOW_START)?
            .cast(&DataType::Int32)?
            .i32()?
            .clone();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
        let to_date = |d: i32| epoch.checked_add_signed(chrono::TimeDelta::days(i64::from(d)));
        let first = self.from.or_else(|| days.min().and_then(to_date));
        let last = self.to.or_else(|| days.max().and_then(to_date));
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(aggregated);
        };
        let starts: Vec<i32> = self
            .starts(first, last)
            .into_iter()
            .map(|d| (d - epoch).num_days() as i32)
            .collect();
        let mut grid = DataFrame::new(
            starts.len(),
            vec![Column::new(WINDOW_START.into(), starts).cast(&DataType::Date)?],
        )?
        .lazy();
        if !keys.is_empty() {
            let key_cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
            let distinct = aggregated
                .clone()
                .lazy()
                .select(key_cols)
                .unique_stable(None, UniqueKeepStrategy::First);
            grid = grid.cross_join(distinct, None);
        }
        let mut on: Vec<Expr> = vec![col(WINDOW_START)];
        on.extend(keys.iter().map(|k| col(*k)));
        let zero_fill: Vec<Expr> = zero.iter().map(|c| col(*c).fill_null(lit(0))).collect();
        let mut sort_by: Vec<PlSmallStr> = keys.iter().map(|k| (*k).into()).collect();
        sort_by.push(WINDOW_START.into());
        Ok(grid
            .join(
                aggregated.lazy(),
                on.clone(),
                on,
                JoinArgs::new(JoinType::Left),
            )
            .with_columns(zero_fill)
            .sort(sort_by, SortMultipleOptions::default())
            .collect()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let week = WindowSpec::new(Window::Week);
        // 2026-03-01 is a Sunday.
        assert_eq!(week.start_of(d(2026, 3, 1)), d(2026, 2, 23));
        assert_eq!(week.start_of(d(2026, 3, 2)), d(2026, 3, 2));
        let month = WindowSpec::new(Window::Month);
        assert_eq!(
            month.starts(d(2026, 1, 31), d(2026, 3, 1)),
            vec![d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1)]
        );
    }

    #[test]
    fn an_unknown_zone_is_an_error() {
        let spec = WindowSpec::new(Window::Day).in_zone("Mars/Olympus");
        assert!(spec.zone().is_err());
    }
}
