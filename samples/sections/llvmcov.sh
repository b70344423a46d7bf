# shellcheck shell=bash
# Section "llvmcov" for samples/generate.sh: LLVM source-based coverage of a tiny Rust
# crate through cargo-llvm-cov, written as
#   - llvm-cov export JSON         (cargo llvm-cov --json)       -> format llvm-cov-json
#   - Cobertura                    (cargo llvm-cov --cobertura)  -> format cobertura
#   - LCOV                         (cargo llvm-cov --lcov)       -> format lcov
# The expected numbers come from llvm-cov's own report (`cargo llvm-cov report
# --summary-only`), TOTAL line: the Lines column is lines, the Branches column is branches.
#
# Needs: cargo-llvm-cov (installed here from crates.io at the pinned version if missing)
# and the llvm-tools component of the toolchain used. Branch coverage (`--branch`) needs a
# nightly toolchain; it is used when `rustup run nightly` works. Without nightly the section
# falls back to stable and expects 0 branches (the line numbers are the same).
#   LLVMCOV_TOOLCHAIN=stable|nightly   force the choice

CARGO_LLVM_COV_VERSION=0.9.1

llvmcov_ensure_tools() {
  if ! cargo llvm-cov --version 2>/dev/null | grep -q "cargo-llvm-cov $CARGO_LLVM_COV_VERSION\$"; then
    CARGO_TARGET_DIR="$WORK/cargo-llvm-cov-install" \
      cargo install --locked "cargo-llvm-cov@$CARGO_LLVM_COV_VERSION" \
      >"$LOGS/llvmcov-install.log" 2>&1 || die "cargo install cargo-llvm-cov failed"
  fi
  rustup component add llvm-tools-preview --toolchain "$1" >"$LOGS/llvmcov-rustup.log" 2>&1 ||
    die "rustup component add llvm-tools-preview --toolchain $1 failed"
}

# llvmcov_crate DIR NAME - an empty crate skeleton
llvmcov_crate() {
  mkdir -p "$1/src" "$1/tests"
  cat >"$1/Cargo.toml" <<EOF
[package]
name = "$2"
version = "0.1.0"
edition = "2021"

[dependencies]
EOF
}

section_llvmcov() {
  local tc="${LLVMCOV_TOOLCHAIN:-}" branch=()
  if [ -z "$tc" ]; then
    if rustup run nightly rustc -V >/dev/null 2>&1; then tc=nightly; else tc=stable; fi
  fi
  [ "$tc" = nightly ] && branch=(--branch)
  llvmcov_ensure_tools "$tc"
  {
    cargo llvm-cov --version
    rustup run "$tc" rustc -vV
  } >"$LOGS/llvmcov-version.log" 2>&1
  echo "  toolchain: $tc $(rustup run "$tc" rustc -V) ${branch[*]}"
  export RUST_BACKTRACE=0

  # --- main sample: everything agrees (llvm-cov report, JSON totals, Cobertura, LCOV)
  local d="$WORK/llvmcov"
  llvmcov_crate "$d" cov_sample
  cd "$d"
  cat >src/lib.rs <<'EOF'
pub mod text;

pub fn classify(n: i32) -> &'static str {
    if n < 0 {
        "negative"
    } else if n == 0 {
        "zero"
    } else {
        "positive"
    }
}

pub fn sum_even(xs: &[i32]) -> i32 {
    let mut total = 0;
    for &x in xs {
        if x % 2 == 0 {
            total += x;
        }
    }
    total
}

pub fn in_range(n: i32) -> bool {
    n > 5 && n < 10
}

pub fn never_called(x: i32) -> i32 {
    let y = x * 2;
    y + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(classify(5), "positive");
        assert_eq!(classify(-1), "negative");
    }

    #[test]
    fn sums_even() {
        assert_eq!(sum_even(&[1, 2, 4]), 6);
    }
}
EOF
  cat >src/text.rs <<'EOF'
pub fn shout(s: &str, excited: bool) -> String {
    let mut out = s.to_uppercase();
    if excited {
        out.push('!');
    }
    out
}

pub fn first_word(s: &str) -> &str {
    match s.split_whitespace().next() {
        Some(w) => w,
        None => "",
    }
}
EOF
  cat >tests/integration.rs <<'EOF'
use cov_sample::{in_range, text};

#[test]
fn shouts() {
    assert_eq!(text::shout("hi", true), "HI!");
    assert_eq!(text::first_word("hello world"), "hello");
}

#[test]
fn range_check() {
    assert!(!in_range(3));
}
EOF
  export CARGO_TARGET_DIR="$d/target"
  run llvmcov-test cargo "+$tc" llvm-cov --no-report "${branch[@]}"
  # two test binaries (unit tests in lib.rs, tests/integration.rs), 2 tests each
  [ "$(grep -c 'test result: ok. 2 passed; 0 failed' "$LOGS/llvmcov-test.log")" -eq 2 ] ||
    die "llvmcov-test: expected two 'test result: ok. 2 passed' lines"
  run llvmcov-summary cargo "+$tc" llvm-cov report "${branch[@]}" --summary-only
  # TOTAL columns: Regions, Missed Regions, Cover, Functions, Missed Functions, Executed,
  #                Lines, Missed Lines, Cover, Branches, Missed Branches, Cover
  # Lines 41, missed 6 -> 35 covered (per file: lib.rs 29/24, text.rs 12/11).
  # Branches (nightly --branch): 10, missed 3 -> 7 covered (lib.rs 8/6, text.rs 2/1).
  local pre='^TOTAL( +[0-9.]+%?){6} +41 +6 +85\.37%'
  if [ "$tc" = nightly ]; then
    expect_line llvmcov-summary "$pre +10 +3 +70\.00%\$"
  else
    expect_line llvmcov-summary "$pre +0 +0 +-\$"
  fi
  local bv=0 bc=0
  [ "$tc" = nightly ] && { bv=10; bc=7; }
  run llvmcov-json cargo "+$tc" llvm-cov report "${branch[@]}" --json --output-path cov.json
  run llvmcov-cobertura cargo "+$tc" llvm-cov report "${branch[@]}" --cobertura --output-path cov.cobertura.xml
  run llvmcov-lcov cargo "+$tc" llvm-cov report "${branch[@]}" --lcov --output-path cov.lcov
  put cov.json cargo-llvm-cov.json
  put cov.cobertura.xml cargo-llvm-cov-cobertura.xml
  put cov.lcov cargo-llvm-cov.lcov
  expect_cov cargo-llvm-cov.json llvm-cov-json 41 35 "$bv" "$bc"
  expect_cov cargo-llvm-cov-cobertura.xml cobertura 41 35 "$bv" "$bc"
  expect_cov cargo-llvm-cov.lcov lcov 41 35 "$bv" "$bc"

  # --- edge sample: where llvm-cov's summary and the per-line data disagree.
  # llvm-cov sums its totals per function (a closure on its parent's line counts that line
  # twice) and merges the instantiations of a generic by max(covered) per function (each
  # of largest::<i32> / largest::<f64> misses one arm, so the summary says 4 of 5 lines and
  # 1 of 2 branch outcomes, although the segments show every line and both outcomes hit).
  local g="$WORK/llvmcov-generics"
  llvmcov_crate "$g" cov_generics
  cd "$g"
  cat >src/lib.rs <<'EOF'
pub fn doubled(xs: &[i32]) -> Vec<i32> { xs.iter().map(|x| x * 2).collect() }

pub fn largest<T: PartialOrd + Copy>(a: T, b: T) -> T {
    if a > b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closure_on_one_line() {
        assert_eq!(doubled(&[1, 2]), vec![2, 4]);
    }

    #[test]
    fn each_instantiation_takes_one_side() {
        assert_eq!(largest(1, 2), 2);
        assert_eq!(largest(2.5, 1.0), 2.5);
    }
}
EOF
  export CARGO_TARGET_DIR="$g/target"
  run llvmcov-generics-test cargo "+$tc" llvm-cov --no-report "${branch[@]}"
  expect_line llvmcov-generics-test 'test result: ok\. 2 passed; 0 failed'
  run llvmcov-generics-summary cargo "+$tc" llvm-cov report "${branch[@]}" --summary-only
  # Lines 14, missed 1 -> 13 covered; branches (nightly) 2, missed 1 -> 1 covered.
  pre='^TOTAL( +[0-9.]+%?){6} +14 +1 +92\.86%'
  if [ "$tc" = nightly ]; then
    expect_line llvmcov-generics-summary "$pre +2 +1 +50\.00%\$"
  else
    expect_line llvmcov-generics-summary "$pre +0 +0 +-\$"
  fi
  bv=0 bc=0
  [ "$tc" = nightly ] && { bv=2; bc=1; }
  run llvmcov-generics-json cargo "+$tc" llvm-cov report "${branch[@]}" --json --output-path cov.json
  put cov.json cargo-llvm-cov-generics.json
  expect_cov cargo-llvm-cov-generics.json llvm-cov-json 14 13 "$bv" "$bc"
  # Not kept: its Cobertura (cargo-llvm-cov computes it from the segments: lines 13/13,
  # branches 2/2, which no console line states) and its LCOV (LF:14 LH:13 BRF:2 BRH:1 from
  # the summary, but only 13 DA lines, all hit, and 2 BRDA, both hit).
}
