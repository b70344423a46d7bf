//! CSV written from an answer's rows (the same structs the JSON is written from), for the
//! service and the command line alike.
//!
//! Each row is flattened: a nested object's fields become `parent.field` columns, a list of
//! plain values one cell joined with `;`, a list of objects one cell of JSON. A text cell
//! that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return) is prefixed with `'`: test names come from any pull request.

use serde::Serialize;
use serde_json::Value;

fn flatten(prefix: &str, value: Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        other => out.push((prefix.to_owned(), other)),
    }
}

fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn cell(value: &Value) -> String {
    let raw = match value {
        Value::Null => return String::new(),
        Value::Bool(b) => return b.to_string(),
        Value::Number(n) => return n.to_string(),
        Value::String(s) => text(s),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => text(s),
                other => cell(other),
            })
            .collect::<Vec<_>>()
            .join(";"),
        other => text(&other.to_string()),
    };
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw
    }
}

/// The rows as CSV with a header line (empty when there are no rows).
pub fn write<R: Serialize>(rows: &[R]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut cells = Vec::new();
        flatten(
            "",
            serde_json::to_value(row).unwrap_or(Value::Null),
            &mut cells,
        );
        if i == 0 {
            let header: Vec<String> = cells.iter().map(|(k, _)| k.clone()).collect();
            out.push_str(&header.join(","));
            out.push('\n');
        }
        let line: Vec<String> = cells.iter().map(|(_, v)| cell(v)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct Inner {
        name: String,
        runs: Vec<String>,
    }

    #[derive(serde::Serialize)]
    struct Row {
        test: Inner,
        rate: Option<f64>,
        flaky: bool,
    }

    #[test]
    fn nested_fields_become_dotted_columns_and_formulas_are_defused() {
        let rows = [Row {
            test: Inner {
                name: "=HYPERLINK(\"x\")".into(),
                runs: vec!["7".into(), "9".into()],
            },
            rate: None,
            flaky: true,
        }];
        assert_eq!(
            super::write(&rows),
            "test.name,test.runs,rate,flaky\n\"'=HYPERLINK(\"\"x\"\")\",7;9,,true\n"
        );
    }
}
