//! Each complete build's results packed into one row of `result_packs`, for the history
//! cache's reads (`Store::results_of_builds`): three texts, comma-separated in the same
//! order, the test ids, `status + 4 flaky + 8 attempts`, and the microseconds (`n` for
//! none).
//!
//! A build's pack is written when it completes, and again whenever it completes again (a
//! late report), in the same transaction as what changed; the prune deletes it with the
//! results. Packing them when written instead of when read took the first raw-results
//! answer over a year's history from 1.38 s to 0.95 s (`benches/README.md`): SQLite spent
//! most of the read turning integers into text. The packs take about 13 bytes a result.

use sqlx::{AnyConnection, AssertSqlSafe};

use super::read::status_name;
use super::{Error, Result, StoredResult};
use cimetrics_metrics::schema::ResultRow;

/// The three packed texts of the results `r` grouped by build.
fn packed(sqlite: bool) -> String {
    let (concat, text) = if sqlite {
        ("group_concat", "")
    } else {
        ("string_agg", "::text")
    };
    format!(
        "{concat}(r.test_id{text}, ','), \
         {concat}((r.status + 4 * r.flaky + 8 * r.attempts){text}, ','), \
         {concat}(COALESCE(r.duration_us{text}, 'n'), ',')"
    )
}

/// The migration that adds `result_packs` and packs every complete build's results.
pub(super) fn migration(sqlite: bool) -> String {
    format!(
        "CREATE TABLE result_packs (\
             build_id BIGINT PRIMARY KEY, \
             tests TEXT NOT NULL, \
             codes TEXT NOT NULL, \
             durations TEXT NOT NULL); \
         INSERT INTO result_packs (build_id, tests, codes, durations) \
             SELECT r.build_id, {} FROM test_results r \
             WHERE r.build_id IN (SELECT id FROM builds WHERE complete = 1) \
             GROUP BY r.build_id;",
        packed(sqlite)
    )
}

/// Packs the build's results again (none: no pack).
pub(super) async fn write(tx: &mut AnyConnection, build_id: i64) -> Result<()> {
    let sqlite = super::ingest::is_sqlite(tx);
    sqlx::query("DELETE FROM result_packs WHERE build_id = $1")
        .bind(build_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO result_packs (build_id, tests, codes, durations) \
         SELECT r.build_id, {} FROM test_results r WHERE r.build_id = $1 GROUP BY r.build_id",
        packed(sqlite)
    )))
    .bind(build_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Hands each result of a build's pack to `each`.
pub(super) fn unpack(
    build_id: i64,
    finished_at_ms: i64,
    [tests, codes, durations]: &[Option<String>; 3],
    each: &mut impl FnMut(StoredResult),
) -> Result<()> {
    let bad = || {
        let what = format!("build {build_id}: its packed results do not read");
        Error::Database(sqlx::Error::Decode(what.into()))
    };
    fn items(text: &Option<String>) -> Items<'_> {
        Items {
            bytes: text.as_deref().unwrap_or("").as_bytes(),
            at: 0,
        }
    }
    let (mut tests, mut codes, mut durations) = (items(tests), items(codes), items(durations));
    loop {
        let test_id = match tests.next().ok_or_else(bad)? {
            Item::End => break,
            Item::Number(id) => id,
            Item::None => return Err(bad()),
        };
        let Item::Number(code) = codes.next().ok_or_else(bad)? else {
            return Err(bad());
        };
        let duration_us = match durations.next().ok_or_else(bad)? {
            Item::Number(us) => Some(us),
            Item::None => None,
            Item::End => return Err(bad()),
        };
        each(StoredResult {
            finished_at_ms,
            row: ResultRow {
                build_id,
                test_id,
                status: status_name(code & 3),
                flaky: code & 4 != 0,
                attempts: u32::try_from(code >> 3).unwrap_or(u32::MAX),
                duration_s: None,
            },
            duration_us,
        });
    }
    if codes.next() != Some(Item::End) || durations.next() != Some(Item::End) {
        return Err(bad());
    }
    Ok(())
}

/// The comma-separated items of a packed text: integers, or `n` for none.
struct Items<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// One item of [`Items`].
#[derive(Debug, PartialEq)]
enum Item {
    Number(i64),
    /// `n`.
    None,
    /// Past the last item.
    End,
}

impl Items<'_> {
    /// The next item, or `None` for one that is neither a number nor `n`. Read in one pass,
    /// without splitting first: a history's first read takes millions of them.
    fn next(&mut self) -> Option<Item> {
        let bytes = self.bytes;
        let mut i = self.at;
        if i >= bytes.len() {
            return Some(Item::End);
        }
        let item = if bytes[i] == b'n' {
            i += 1;
            Item::None
        } else {
            let negative = bytes[i] == b'-';
            i += usize::from(negative);
            let start = i;
            let mut value: i64 = 0;
            while let Some(&d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
                value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
                i += 1;
            }
            if i == start {
                return None;
            }
            Item::Number(if negative { -value } else { value })
        };
        match bytes.get(i) {
            None => self.at = i,
            Some(b',') => self.at = i + 1,
            Some(_) => return None,
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ingest::{FAILED, PASSED};
    use cimetrics_metrics::schema;

    /// (test, status, flaky, attempts, microseconds) of a result.
    type Unpacked = (i64, &'static str, bool, u32, Option<i64>);

    fn unpacked(texts: [&str; 3]) -> Result<Vec<Unpacked>> {
        let texts = texts.map(|t| Some(t.to_owned()));
        let mut out = Vec::new();
        unpack(7, 1_000, &texts, &mut |r| {
            assert_eq!((r.row.build_id, r.finished_at_ms), (7, 1_000));
            out.push((
                r.row.test_id,
                r.row.status,
                r.row.flaky,
                r.row.attempts,
                r.duration_us,
            ));
        })?;
        Ok(out)
    }

    /// Each result is `test`, `status + 4 flaky + 8 attempts` and microseconds or `n`.
    #[test]
    fn packed_results_unpack_item_by_item() {
        let code =
            |status: i64, flaky: bool, attempts: i64| status + 4 * i64::from(flaky) + 8 * attempts;
        let codes = format!("{},{}", code(PASSED, true, 3), code(FAILED, false, 1));
        assert_eq!(
            unpacked(["12,4000000000", &codes, "n,-5"]).unwrap(),
            [
                (12, schema::PASSED, true, 3, None),
                (4_000_000_000, schema::FAILED, false, 1, Some(-5)),
            ]
        );
        assert_eq!(unpacked(["", "", ""]).unwrap(), []);
    }

    #[test]
    fn packed_results_that_do_not_line_up_are_an_error() {
        for texts in [
            ["1,2", "8", "n,n"],
            ["1", "8,8", "n"],
            ["1", "8", ""],
            ["1", "8", "n,n"],
            ["1", "n", "n"],
            ["x", "8", "n"],
            ["1;2", "8", "n"],
            ["99999999999999999999", "8", "n"],
            ["-", "8", "n"],
        ] {
            assert!(unpacked(texts).is_err(), "{texts:?}");
        }
    }
}
