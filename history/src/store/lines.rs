//! The per-line coverage of one file in one build, packed into a blob so that a later shard's
//! coverage of the same file can be merged line by line.
//!
//! Layout: for each measured line, in line order, four LEB128 varints: the line number minus
//! the previous one, `1` if it ran else `0`, branch outcomes, branch outcomes taken.

use cimetrics_ingest::LineCoverage;

/// A measured line, as kept for merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub line: u32,
    pub covered: bool,
    pub branches: u32,
    pub branches_covered: u32,
}

impl From<&LineCoverage> for Line {
    fn from(l: &LineCoverage) -> Line {
        Line {
            line: l.line,
            covered: l.hits > 0,
            branches: l.branches_total,
            branches_covered: l.branches_covered.min(l.branches_total),
        }
    }
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn get(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Packs lines (sorted by line number, distinct).
pub(crate) fn encode(lines: impl ExactSizeIterator<Item = Line>) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.len() * 4);
    let mut previous = 0u32;
    for l in lines {
        put(&mut out, u64::from(l.line.saturating_sub(previous)));
        put(&mut out, u64::from(l.covered));
        put(&mut out, u64::from(l.branches));
        put(&mut out, u64::from(l.branches_covered));
        previous = l.line;
    }
    out
}

/// Unpacks what [`encode`] packed; `None` if the bytes are not such a blob.
pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<Line>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut line = 0u32;
    while at < bytes.len() {
        line = line.checked_add(u32::try_from(get(bytes, &mut at)?).ok()?)?;
        out.push(Line {
            line,
            covered: get(bytes, &mut at)? != 0,
            branches: u32::try_from(get(bytes, &mut at)?).ok()?,
            branches_covered: u32::try_from(get(bytes, &mut at)?).ok()?,
        });
    }
    Some(out)
}

/// The union of two shards' lines: a line is measured if either measured it, covered if
/// either ran it; its branches are the larger count of either, and so are the taken ones
/// (which branch outcomes a shard took is not recorded, so the union is bounded below by the
/// larger of the two).
pub(crate) fn merge(a: &[Line], b: &[Line]) -> Vec<Line> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.line == y.line => {
                out.push(Line {
                    line: x.line,
                    covered: x.covered || y.covered,
                    branches: x.branches.max(y.branches),
                    branches_covered: x.branches_covered.max(y.branches_covered),
                });
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.line < y.line => {
                out.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// (lines valid, lines covered, branches valid, branches covered). Line 0 is only branches
/// (see `cimetrics_ingest::LineCoverage`).
pub(crate) fn totals(lines: &[Line]) -> (u64, u64, u64, u64) {
    lines.iter().fold((0, 0, 0, 0), |t, l| {
        (
            t.0 + u64::from(l.line > 0),
            t.1 + u64::from(l.line > 0 && l.covered),
            t.2 + u64::from(l.branches),
            t.3 + u64::from(l.branches_covered),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(line: u32, covered: bool, branches: u32, taken: u32) -> Line {
        Line {
            line,
            covered,
            branches,
            branches_covered: taken,
        }
    }

    #[test]
    fn lines_survive_a_round_trip() {
        let lines = vec![l(1, true, 0, 0), l(200, false, 2, 1), l(70_000, true, 4, 4)];
        assert_eq!(decode(&encode(lines.iter().copied())), Some(lines));
        assert_eq!(decode(&[0x80]), None, "a cut varint is not a blob");
    }

    #[test]
    fn shards_merge_into_the_union_of_their_lines() {
        let a = vec![l(1, true, 0, 0), l(2, false, 2, 1), l(5, false, 0, 0)];
        let b = vec![l(2, true, 2, 2), l(3, false, 0, 0), l(5, false, 0, 0)];
        let m = merge(&a, &b);
        assert_eq!(
            m,
            vec![
                l(1, true, 0, 0),
                l(2, true, 2, 2),
                l(3, false, 0, 0),
                l(5, false, 0, 0)
            ]
        );
        assert_eq!(totals(&m), (4, 2, 2, 2));
    }
}
