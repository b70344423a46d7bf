//! A frame as plain rows, for callers that serialise (JSON, CSV) without touching polars.

use chrono::{DateTime, NaiveDate};
use polars::prelude::*;
use serde::{Serialize, Serializer};

use crate::Result;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null (an empty window's rate, a missing value).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (never NaN: rates are null instead).
    Float(f64),
    /// A string.
    Str(String),
    /// A date, serialised as `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A UTC instant, serialised as RFC 3339 (`2026-01-01T00:00:00Z`).
    DateTime(DateTime<chrono::Utc>),
    /// A list (evidence).
    List(Vec<Value>),
}

impl Value {
    /// The value as CSV cell text: empty for null, lists joined with `;`.
    pub fn to_csv(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.clone(),
            Value::Date(d) => d.to_string(),
            Value::DateTime(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Value::List(items) => items
                .iter()
                .map(Value::to_csv)
                .collect::<Vec<_>>()
                .join(";"),
        }
    }

    /// The value as f64, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn from_any(value: AnyValue<'_>) -> Value {
        match value {
            AnyValue::Null => Value::Null,
            AnyValue::Boolean(b) => Value::Bool(b),
            AnyValue::Int8(i) => Value::Int(i64::from(i)),
            AnyValue::Int16(i) => Value::Int(i64::from(i)),
            AnyValue::Int32(i) => Value::Int(i64::from(i)),
            AnyValue::Int64(i) => Value::Int(i),
            AnyValue::UInt8(i) => Value::Int(i64::from(i)),
            AnyValue::UInt16(i) => Value::Int(i64::from(i)),
            AnyValue::UInt32(i) => Value::Int(i64::from(i)),
            AnyValue::UInt64(i) => Value::Int(i64::try_from(i).unwrap_or(i64::MAX)),
            AnyValue::Float32(f) if f.is_finite() => Value::Float(f64::from(f)),
            AnyValue::Float64(f) if f.is_finite() => Value::Float(f),
            AnyValue::Float32(_) | AnyValue::Float64(_) => Value::Null,
            AnyValue::String(s) => Value::Str(s.to_owned()),
            AnyValue::StringOwned(s) => Value::Str(s.to_string()),
            AnyValue::Date(days) => NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(i64::from(days))))
                .map_or(Value::Null, Value::Date),
            AnyValue::Datetime(t, unit, _) | AnyValue::DatetimeOwned(t, unit, _) => {
                let ms = match unit {
                    TimeUnit::Milliseconds => t,
                    TimeUnit::Microseconds => t / 1_000,
                    TimeUnit::Nanoseconds => t / 1_000_000,
                };
                DateTime::from_timestamp_millis(ms).map_or(Value::Null, Value::DateTime)
            }
            AnyValue::List(series) => Value::List(series.iter().map(Value::from_any).collect()),
            other => Value::Str(other.to_string()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(v) => s.serialize_str(v),
            Value::List(items) => items.serialize(s),
            Value::Date(_) | Value::DateTime(_) => s.serialize_str(&self.to_csv()),
        }
    }
}

/// A frame's columns and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// Reads a frame.
    ///
    /// # Errors
    /// Only if polars cannot read its own frame.
    pub fn from_frame(frame: &DataFrame) -> Result<Table> {
        let columns: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut rows = Vec::with_capacity(frame.height());
        for i in 0..frame.height() {
            let mut row = Vec::with_capacity(columns.len());
            for column in frame.columns() {
                row.push(Value::from_any(column.get(i)?));
            }
            rows.push(row);
        }
        Ok(Table { columns, rows })
    }

    /// The value of `column` in row `row`, if both exist.
    pub fn get(&self, row: usize, column: &str) -> Option<&Value> {
        let c = self.columns.iter().position(|n| n == column)?;
        self.rows.get(row)?.get(c)
    }

    /// The table as CSV (RFC 4180 quoting), with a header line.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        out.push_str(
            &self
                .columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
        for row in &self.rows {
            out.push_str(
                &row.iter()
                    .map(|v| quote(&v.to_csv()))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        out
    }
}

impl Serialize for Table {
    /// A JSON array of objects.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Row<'a>(&'a [String], &'a [Value]);
        impl Serialize for Row<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0.iter().zip(self.1) {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in &self.rows {
            seq.serialize_element(&Row(&self.columns, row))?;
        }
        seq.end()
    }
}
