#!/usr/bin/env bash
# Regenerates samples/generated/: real JUnit-XML and coverage reports produced by
# running real tools on tiny throwaway projects, each beside the summary the
# tool itself printed (logs/) and the expected summary (<report>.expected.json).
#
# Usage:  bash samples/generate.sh            (from anywhere)
#   WORK_DIR=/some/dir   scratch dir (default /tmp/cimetrics-samples-work; wiped at start)
#   ONLY="pytest jest"   run only these sections
#                        (pytest coverage gcovr jest vitest nextest gotestsum ant)
#                        and those of samples/sections/<name>.sh
#   SKIP_APT=1           skip the sections that need Debian packages (gotestsum, ant)
#
# Idempotent: every run wipes the scratch dir and rewrites the same files.
# Timings, timestamps and hostnames inside the reports change between runs;
# the structure and the counts do not (tool versions are pinned below).
#
# The expected numbers are NOT computed by a parser of ours. Each section states
# the counts it expects, checks that the tool's own terminal summary says exactly
# that (the run fails loudly otherwise), and only then writes the .expected.json.
set -uo pipefail

# ---- pinned tool versions -------------------------------------------------
PYTEST_VERSION=9.2.0
PYTEST_RERUNFAILURES_VERSION=16.7
COVERAGE_VERSION=7.17.3
GCOVR_VERSION=8.8
JEST_VERSION=30.5.2
JEST_JUNIT_VERSION=17.0.0
VITEST_VERSION=4.1.12          # vitest 5 needs node >= 22.12; this machine has node 20
# cargo-nextest: whatever `cargo nextest` is installed (recorded in logs/versions.txt)
# gotestsum / golang-go / ant / junit4: Debian bookworm packages (recorded in logs/versions.txt)

SAMPLES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$SAMPLES_DIR/generated"
LOGS="$OUT/logs"
WORK="${WORK_DIR:-/tmp/cimetrics-samples-work}"
ONLY="${ONLY:-}"

case "$WORK" in /|"") echo "refusing WORK_DIR=$WORK" >&2; exit 2;; esac
case "$SAMPLES_DIR/" in "${WORK%/}/"*) echo "refusing WORK_DIR=$WORK (contains samples/)" >&2; exit 2;; esac
rm -rf "$WORK"
# a full run rewrites generated/ from scratch (a partial ONLY= or SKIP_APT= run keeps the other files)
[ -z "$ONLY" ] && [ -z "${SKIP_APT:-}" ] && rm -rf "$OUT"
mkdir -p "$WORK" "$OUT" "$LOGS"
export NO_COLOR=1 FORCE_COLOR=0 CARGO_TERM_COLOR=never PIP_DISABLE_PIP_VERSION_CHECK=1

FAILED_SECTIONS=()
DONE_SECTIONS=()

log()  { printf '\n=== %s\n' "$*"; }
die()  { echo "ERROR: $*" >&2; return 1; }

# run LOGNAME CMD...  - run a command, keep its output in logs/LOGNAME.log,
# tolerate a non-zero exit (the suites fail on purpose), print the exit code.
run() {
  local name="$1"; shift
  local rc=0
  "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  echo "\$ $* -> exit $rc" >>"$LOGS/$name.log"
  echo "  $name: exit $rc (log: generated/logs/$name.log)"
  tail -n 3 "$LOGS/$name.log" | sed 's/^/    | /'
  return 0
}

# expect_line LOGNAME REGEX - the tool's own summary must match exactly
expect_line() {
  if grep -Eq -- "$2" "$LOGS/$1.log"; then
    echo "  summary ok: $(grep -Eo -- "$2" "$LOGS/$1.log" | head -1)"
  else
    die "summary of $1 does not match /$2/ (see generated/logs/$1.log)"
  fi
}

# put SRC DEST_NAME - copy a report into generated/
put() {
  [ -s "$1" ] || die "report $1 was not written"
  cp "$1" "$OUT/$2"
  echo "  wrote generated/$2"
}

# expect_tests REPORT total passed failed errored skipped flaky
expect_tests() {
  local f="$OUT/$1.expected.json"
  [ $(($3 + $4 + $5 + $6)) -eq "$2" ] || die "bad expectation for $1"
  printf '{"format": "junit", "tests": {"total": %d, "passed": %d, "failed": %d, "errored": %d, "skipped": %d, "flaky": %d}}\n' \
    "$2" "$3" "$4" "$5" "$6" "$7" >"$f"
  echo "  wrote generated/$1.expected.json"
}

# expect_tests_as FORMAT REPORT total passed failed errored skipped flaky (a test format
# other than JUnit XML: trx, nunit, xunit, sonarqube-tests)
expect_tests_as() {
  local fmt="$1"; shift
  expect_tests "$@"
  sed -i "s/\"format\": \"junit\"/\"format\": \"$fmt\"/" "$OUT/$1.expected.json"
}

# expect_cov REPORT format lines_valid lines_covered branches_valid branches_covered
expect_cov() {
  printf '{"format": "%s", "coverage": {"lines_valid": %d, "lines_covered": %d, "branches_valid": %d, "branches_covered": %d}}\n' \
    "$2" "$3" "$4" "$5" "$6" >"$OUT/$1.expected.json"
  echo "  wrote generated/$1.expected.json"
}

# sections that install Debian packages (a sections/<name>.sh that does adds its name)
APT_SECTIONS="gotestsum ant"

section() {
  local name="$1"
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
  if [ -n "${SKIP_APT:-}" ] && [[ " $APT_SECTIONS " == *" $name "* ]]; then
    log "$name: skipped (SKIP_APT)"; return 0
  fi
  log "$name"
  local rc=0
  ( set -e; "section_$name" )
  rc=$?
  if [ "$rc" -eq 0 ]; then
    DONE_SECTIONS+=("$name")
  else
    echo "!!! section $name FAILED (exit $rc)" >&2
    FAILED_SECTIONS+=("$name")
  fi
}

# ---- Python tools (one venv for pytest, pytest-rerunfailures, coverage, gcovr)
VENV="$WORK/venv"
ensure_venv() {
  [ -x "$VENV/bin/pytest" ] && return 0
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q \
    "pytest==$PYTEST_VERSION" \
    "pytest-rerunfailures==$PYTEST_RERUNFAILURES_VERSION" \
    "coverage==$COVERAGE_VERSION" \
    "gcovr==$GCOVR_VERSION"
}

# ===========================================================================
section_pytest() {
  ensure_venv
  local d="$WORK/pytest"; mkdir -p "$d"; cd "$d"
  cat >test_outcomes.py <<'EOF'
import pytest


@pytest.fixture
def broken_fixture():
    raise RuntimeError("fixture setup exploded")


def test_addition():
    assert 1 + 1 == 2


def test_string_upper():
    assert "ci".upper() == "CI"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_parametrized(n):
    assert n > 0


def test_failing_assert():
    print("some captured stdout before the failure")
    assert 2 + 2 == 5, "math is broken"


def test_uses_broken_fixture(broken_fixture):
    assert True


@pytest.mark.skip(reason="not implemented yet")
def test_skipped_by_marker():
    assert False


def test_skipped_at_runtime():
    pytest.skip("skipped at runtime")


@pytest.mark.xfail(reason="known bug #123")
def test_expected_failure():
    assert 1 == 2


@pytest.mark.xfail(reason="maybe fixed already")
def test_unexpectedly_passes():
    assert True


class TestGroup:
    def test_in_class(self):
        assert [1, 2] == [1, 2]

    def test_raises_in_body(self):
        raise ValueError("an exception in the test body is a failure, not an error")
EOF
  # pytest counts: 7 passed incl. 1 xpassed | 2 failed | 1 error | 2 skipped + 1 xfailed
  # cimetrics:     total 13 = passed 7 (6 + xpass) + failed 2 + errored 1 + skipped 3 (2 + xfail)
  local summary='2 failed, 6 passed, 2 skipped, 1 xfailed, 1 xpassed, 1 error in'
  run pytest-xunit2 "$VENV/bin/pytest" -p no:cacheprovider --color=no -rA test_outcomes.py \
      --junitxml=out-xunit2.xml
  expect_line pytest-xunit2 "$summary"
  put out-xunit2.xml pytest-xunit2.xml
  expect_tests pytest-xunit2.xml 13 7 2 1 3 0

  run pytest-xunit1 "$VENV/bin/pytest" -p no:cacheprovider --color=no -rA test_outcomes.py \
      -o junit_family=xunit1 -o junit_logging=all --junitxml=out-xunit1.xml
  expect_line pytest-xunit1 "$summary"
  put out-xunit1.xml pytest-xunit1.xml
  expect_tests pytest-xunit1.xml 13 7 2 1 3 0

  # --- errors in fixture teardown: pytest's summary counts a teardown error *in
  # addition* to the call outcome, but the JUnit testcase is one element.
  cat >test_teardown.py <<'EOF'
import pytest


@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown exploded")


def test_passes_then_teardown_error(bad_teardown):
    assert True


def test_fails_then_teardown_error(bad_teardown):
    assert False, "call failed"


def test_plain_pass():
    assert True
EOF
  # pytest: "1 failed, 2 passed, 2 errors" = 3 call outcomes + 2 teardown errors.
  # cimetrics: 3 tests; the 2 using bad_teardown are errored (one has <error> only,
  # one has <failure> and <error> -> errored once); test_plain_pass passed.
  run pytest-teardown "$VENV/bin/pytest" -p no:cacheprovider --color=no -rA test_teardown.py \
      --junitxml=out-teardown.xml
  expect_line pytest-teardown '1 failed, 2 passed, 2 errors in'
  put out-teardown.xml pytest-teardown-errors.xml
  expect_tests pytest-teardown-errors.xml 3 1 0 2 0 0

  # --- pytest-rerunfailures: deterministic flakiness through a file counter
  mkdir -p counters
  cat >test_reruns.py <<'EOF'
import os
import pathlib

COUNTERS = pathlib.Path(os.environ["FLAKY_COUNTER_DIR"])


def attempt(name):
    """Return 1 on the first call for `name`, 2 on the second, ..."""
    f = COUNTERS / name
    n = int(f.read_text()) + 1 if f.exists() else 1
    f.write_text(str(n))
    return n


def test_flaky_passes_on_second_attempt():
    assert attempt("second") >= 2, "fails on the first attempt only"


def test_flaky_passes_on_third_attempt():
    assert attempt("third") >= 3, "fails on the first two attempts"


def test_always_fails():
    assert False, "fails on every attempt"


def test_stable_pass():
    assert True
EOF
  # pytest: "1 failed, 3 passed, 5 rerun" (reruns: second 1, third 2, always_fails 2)
  # cimetrics: 4 tests; passed 3 of which flaky 2; failed 1
  rm -rf counters; mkdir counters
  FLAKY_COUNTER_DIR="$d/counters" run pytest-reruns "$VENV/bin/pytest" -p no:cacheprovider \
      --color=no -rA test_reruns.py --reruns 2 --junitxml=out-reruns.xml
  expect_line pytest-reruns '1 failed, 3 passed, 5 rerun in'
  put out-reruns.xml pytest-rerunfailures.xml
  expect_tests pytest-rerunfailures.xml 4 3 1 0 0 2
}

# ===========================================================================
section_coverage() {
  ensure_venv
  local d="$WORK/coveragepy"; mkdir -p "$d/calc" "$d/tests"; cd "$d"
  cat >calc/__init__.py <<'EOF'
EOF
  cat >calc/ops.py <<'EOF'
def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    return "positive"


def safe_div(a, b):
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b


def sum_even(xs):
    total = 0
    for x in xs:
        if x % 2 == 0:
            total += x
    return total


def never_called():
    value = 42
    return value
EOF
  cat >calc/text.py <<'EOF'
def shout(s, excited=False):
    s = s.upper()
    if excited:
        s += "!"
    return s


def first_word(s):
    return s.split()[0] if s.strip() else ""
EOF
  cat >tests/test_calc.py <<'EOF'
from calc.ops import classify, safe_div, sum_even
from calc.text import shout, first_word


def test_classify():
    assert classify(5) == "positive"
    assert classify(-1) == "negative"


def test_safe_div():
    assert safe_div(4, 2) == 2


def test_sum_even():
    assert sum_even([1, 2, 4]) == 6


def test_shout():
    assert shout("hi", excited=True) == "HI!"
    assert first_word("hello world") == "hello"
EOF
  cat >.coveragerc <<'EOF'
[run]
branch = True
source = calc
relative_files = True
EOF
  run coverage-run "$VENV/bin/coverage" run --branch -m pytest -p no:cacheprovider --color=no tests
  expect_line coverage-run '4 passed in'
  run coverage-report "$VENV/bin/coverage" report -m
  "$VENV/bin/coverage" xml -o coverage-py-cobertura.xml
  "$VENV/bin/coverage" lcov -o coverage-py.lcov
  "$VENV/bin/coverage" json -o coverage-py-summary.json
  # coverage.py's own totals (the same numbers `coverage report` prints)
  "$VENV/bin/python" - coverage-py-summary.json >"$LOGS/coverage-totals.log" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print("num_statements=%d covered_lines=%d num_branches=%d covered_branches=%d" % (
    t["num_statements"], t["covered_lines"], t["num_branches"], t["covered_branches"]))
EOF
  cat "$LOGS/coverage-totals.log"
  # Expected: 26 statements, 22 covered; 12 branch outcomes, 9 covered (3 missed)
  expect_line coverage-totals '^num_statements=26 covered_lines=22 num_branches=12 covered_branches=9$'
  expect_line coverage-report '^TOTAL +26 +4 +12 +3 +82%'
  put coverage-py-cobertura.xml coverage-py-cobertura.xml
  put coverage-py.lcov coverage-py.lcov
  expect_cov coverage-py-cobertura.xml cobertura 26 22 12 9
  expect_cov coverage-py.lcov lcov 26 22 12 9
  # coverage.py's own JSON report: "totals" and each file's "summary" carry num_statements /
  # covered_lines / num_branches / covered_branches (branch outcomes, the same 12/9 as above;
  # num_partial_branches=3 is BrPart, a count of lines). Per file also executed_lines /
  # missing_lines and executed_branches / missing_branches as [from, to] arc pairs.
  put coverage-py-summary.json coverage-py.json
  expect_cov coverage-py.json coveragepy-json 26 22 12 9
}

# write_c_sample - the small C program the gcovr and lcov sections build with --coverage
# (src/util.c, src/util.h, src/main.c in the current directory)
write_c_sample() {
  cat >src/util.c <<'EOF'
#include "util.h"

int classify(int n)
{
    if (n < 0)
        return -1;
    else if (n == 0)
        return 0;
    return 1;
}

int sum_even(const int *xs, int len)
{
    int total = 0;
    for (int i = 0; i < len; i++) {
        if (xs[i] % 2 == 0)
            total += xs[i];
    }
    return total;
}

int never_called(int x)
{
    int y = x * 2;
    return y + 1;
}
EOF
  cat >src/util.h <<'EOF'
int classify(int n);
int sum_even(const int *xs, int len);
int never_called(int x);
EOF
  cat >src/main.c <<'EOF'
#include <stdio.h>
#include "util.h"

int main(int argc, char **argv)
{
    int xs[] = {1, 2, 3, 4};
    (void)argv;
    printf("%d %d\n", classify(argc), sum_even(xs, 4));
    if (argc > 5 && argc < 10)
        printf("%d\n", never_called(argc));
    return 0;
}
EOF
}

# ===========================================================================
section_gcovr() {
  ensure_venv
  local d="$WORK/gcovr"; mkdir -p "$d/src"; cd "$d"
  write_c_sample
  gcc --version | head -1 >"$LOGS/gcovr-gcc.log"
  gcc --coverage -O0 -o prog src/main.c src/util.c
  ./prog
  run gcovr "$VENV/bin/gcovr" --root . \
      --cobertura-pretty --cobertura gcovr-cobertura.xml \
      --lcov gcovr.lcov \
      --jacoco-pretty --jacoco gcovr-jacoco.xml \
      --clover-pretty --clover gcovr-clover.xml \
      --sonarqube-pretty --sonarqube gcovr-sonarqube.xml \
      --txt gcovr-summary.txt --print-summary
  cp gcovr-summary.txt "$LOGS/gcovr-txt.log"
  run gcovr-branches "$VENV/bin/gcovr" --root . --txt-metric branch --txt
  # gcovr's own summary (--print-summary)
  expect_line gcovr '^lines: [0-9.]+% \(15 out of 21\)$'
  expect_line gcovr '^branches: [0-9.]+% \(7 out of 12\)$'
  put gcovr-cobertura.xml gcovr-cobertura.xml
  put gcovr.lcov gcovr.lcov
  put gcovr-jacoco.xml gcovr-jacoco.xml
  put gcovr-clover.xml gcovr-clover.xml
  expect_cov gcovr-cobertura.xml cobertura 21 15 12 7
  expect_cov gcovr.lcov lcov 21 15 12 7
  expect_cov gcovr-jacoco.xml jacoco 21 15 12 7
  # gcovr's Clover writer emits no branch data (<metrics conditionals="0">, no type="cond"
  # lines), so the Clover report can only hold the line numbers.
  expect_cov gcovr-clover.xml clover 21 15 0 0
  # gcovr's SonarQube generic coverage (<coverage version="1"><file path="src/util.c">, paths
  # relative to --root, no DOCTYPE): one <lineToCover lineNumber covered="true|false"> per
  # measured line (no hit counts); only lines with branches add branchesToCover/coveredBranches
  # (branch outcomes, as in the summary: main.c:9 has 4 with 1 covered). Summed over the file:
  # 21 lineToCover, 15 covered="true", branchesToCover 12, coveredBranches 7 = the summary.
  put gcovr-sonarqube.xml gcovr-sonarqube.xml
  expect_cov gcovr-sonarqube.xml sonarqube-coverage 21 15 12 7
}

# ===========================================================================
js_tests() { # $1 = import line (empty for jest)
  mkdir -p tests
  cat >tests/math.test.js <<EOF
$1
describe('math', () => {
  test('adds', () => {
    expect(1 + 1).toBe(2);
  });
  test('multiplies', () => {
    expect(3 * 4).toBe(12);
  });
  test('fails on purpose', () => {
    expect(2 + 2).toBe(5);
  });
  test.skip('skipped with test.skip', () => {
    expect(true).toBe(false);
  });
  test.todo('write a test for division');
  test.each([1, 2])('each row %i is positive', (n) => {
    expect(n).toBeGreaterThan(0);
  });
});

test('top-level test passes', () => {
  expect('ci'.toUpperCase()).toBe('CI');
});
EOF
  cat >tests/strings.test.js <<EOF
$1
describe('strings', () => {
  test('throws inside the test body', () => {
    throw new Error('boom: thrown from the test body');
  });
  test('trims', () => {
    expect('  x '.trim()).toBe('x');
  });
  describe.skip('a skipped describe block', () => {
    test('inner one', () => {
      expect(1).toBe(1);
    });
    test('inner two', () => {
      expect(1).toBe(1);
    });
  });
});
EOF
}

section_jest() {
  local d="$WORK/jest"; mkdir -p "$d"; cd "$d"
  cat >package.json <<EOF
{
  "name": "cimetrics-jest-sample",
  "version": "1.0.0",
  "private": true,
  "devDependencies": {
    "jest": "$JEST_VERSION",
    "jest-junit": "$JEST_JUNIT_VERSION"
  },
  "jest": {
    "reporters": ["default", ["jest-junit", {"outputDirectory": ".", "outputName": "junit.xml"}]]
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/jest-npm-install.log" 2>&1
  js_tests ""
  run jest npx jest --ci
  # Jest: "Tests: 2 failed, 3 skipped, 1 todo, 6 passed, 12 total".
  # jest-junit writes the test.todo as a <testcase> with NO <skipped/> child (and leaves it
  # out of the suite's tests= count), so in the report it is indistinguishable from a pass:
  # expected = 12 tests, 7 passed (6 + the todo), 2 failed, 3 skipped. See README.
  expect_line jest 'Tests: +2 failed, 3 skipped, 1 todo, 6 passed, 12 total'
  put junit.xml jest-junit.xml
  expect_tests jest-junit.xml 12 7 2 0 3 0
}

section_vitest() {
  local d="$WORK/vitest"; mkdir -p "$d"; cd "$d"
  cat >package.json <<EOF
{
  "name": "cimetrics-vitest-sample",
  "version": "1.0.0",
  "private": true,
  "type": "module",
  "devDependencies": {
    "vitest": "$VITEST_VERSION"
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/vitest-npm-install.log" 2>&1
  js_tests "import { describe, test, expect } from 'vitest';"
  run vitest npx vitest run --reporter=default --reporter=junit --outputFile.junit=junit.xml
  # Vitest: "Tests  2 failed | 6 passed | 3 skipped | 1 todo (12)"
  expect_line vitest 'Tests +2 failed \| 6 passed \| 3 skipped \| 1 todo \(12\)'
  put junit.xml vitest-junit.xml
  expect_tests vitest-junit.xml 12 6 2 0 4 0
}

# ===========================================================================
section_nextest() {
  local d="$WORK/nextest"; mkdir -p "$d/src" "$d/tests" "$d/.config" "$d/counters"; cd "$d"
  cat >Cargo.toml <<'EOF'
[package]
name = "flaky_sample"
version = "0.1.0"
edition = "2021"

[dependencies]
EOF
  cat >.config/nextest.toml <<'EOF'
[profile.ci]
fail-fast = false

[profile.ci.junit]
path = "junit.xml"
EOF
  cat >src/lib.rs <<'EOF'
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{fs, path::PathBuf};

    /// 1 on the first call for `name`, 2 on the second, ... (nextest runs every
    /// attempt in a fresh process, so the count lives in a file).
    fn attempt(name: &str) -> u32 {
        let dir = std::env::var("FLAKY_COUNTER_DIR").expect("FLAKY_COUNTER_DIR");
        let path = PathBuf::from(dir).join(name);
        let n = fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        fs::write(&path, n.to_string()).unwrap();
        n
    }

    #[test]
    fn passes() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn always_fails() {
        assert_eq!(add(1, 1), 3, "fails on every attempt");
    }

    #[test]
    fn flaky_passes_on_second_attempt() {
        let n = attempt("second");
        assert!(n >= 2, "attempt {n}: fails on the first attempt only");
    }

    #[test]
    fn flaky_passes_on_third_attempt() {
        let n = attempt("third");
        println!("stdout of attempt {n}");
        assert!(n >= 3, "attempt {n}: fails on the first two attempts");
    }

    #[test]
    #[should_panic(expected = "expected panic")]
    fn should_panic_passes() {
        panic!("expected panic");
    }

    #[test]
    #[ignore = "ignored on purpose"]
    fn ignored_test() {}
}
EOF
  cat >tests/integration.rs <<'EOF'
#[test]
fn integration_passes() {
    assert_eq!(flaky_sample::add(40, 2), 42);
}
EOF
  cargo nextest --version >"$LOGS/nextest-version.log" 2>&1
  export CARGO_TARGET_DIR="$d/target" RUST_BACKTRACE=0
  rm -rf counters; mkdir counters
  FLAKY_COUNTER_DIR="$d/counters" run nextest cargo nextest run --profile ci --retries 2 \
      --color never --no-fail-fast
  # nextest: "6 tests run: 5 passed (2 flaky), 1 failed, 1 skipped"
  # The ignored test is counted as skipped by nextest but is not written to the JUnit file
  # (see README); expected = what the report can hold: 6 tests.
  expect_line nextest '6 tests run: 5 passed \(2 flaky\), 1 failed, 1 skipped'
  put target/nextest/ci/junit.xml nextest-junit.xml
  expect_tests nextest-junit.xml 6 5 1 0 0 2
}

# ===========================================================================
# Debian-packaged extras: gotestsum (go test -> JUnit) + go coverprofile, and Ant's <junit>.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "no apt-get"
  apt-get install -y -qq "${missing[@]}" >"$LOGS/apt-${1}.log" 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >"$LOGS/apt-${1}.log" 2>&1; }
}

section_gotestsum() {
  apt_install golang-go gotestsum
  local d="$WORK/gotestsum"; mkdir -p "$d/calc"; cd "$d"
  export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOCACHE="$d/.gocache" GOPATH="$d/.gopath"
  cat >go.mod <<'EOF'
module example.com/sample

go 1.19
EOF
  cat >calc/calc.go <<'EOF'
package calc

func Classify(n int) string {
	if n < 0 {
		return "negative"
	} else if n == 0 {
		return "zero"
	}
	return "positive"
}

func NeverCalled(x int) int {
	y := x * 2
	return y + 1
}
EOF
  cat >calc/calc_test.go <<'EOF'
package calc

import "testing"

func TestClassifyPositive(t *testing.T) {
	if Classify(3) != "positive" {
		t.Fatal("wrong")
	}
}

func TestClassifyFails(t *testing.T) {
	if Classify(-3) != "zero" {
		t.Errorf("Classify(-3) = %q, want %q", Classify(-3), "zero")
	}
}

func TestSkipped(t *testing.T) {
	t.Skip("skipped on purpose")
}

func TestSubtests(t *testing.T) {
	t.Run("zero", func(t *testing.T) {
		if Classify(0) != "zero" {
			t.Fatal("wrong")
		}
	})
	t.Run("fails", func(t *testing.T) {
		t.Fatal("subtest fails on purpose")
	})
}
EOF
  go version >"$LOGS/gotestsum-go.log" 2>&1
  (gotestsum --version || true) >>"$LOGS/gotestsum-go.log" 2>&1
  run gotestsum gotestsum --format standard-verbose --junitfile junit.xml -- \
      -count=1 -coverprofile=cover.out ./...
  # gotestsum: "DONE 6 tests, 1 skipped, 3 failures in ..."
  # = TestClassifyPositive, TestClassifyFails(F), TestSkipped(S), TestSubtests(F, parent of a
  #   failing subtest), TestSubtests/zero, TestSubtests/fails(F)
  expect_line gotestsum 'DONE 6 tests, 1 skipped, 3 failures in'
  put junit.xml gotestsum-junit.xml
  expect_tests gotestsum-junit.xml 6 2 3 0 1 0
  run go-cover-func go tool cover -func=cover.out
  # go's own summary is in statements: "total: (statements) 71.4%" = 5 of 7 statements.
  # cimetrics counts lines: each block "file:L1.C1,L2.C2 nstmts count" covers lines L1..L2,
  # a line is covered if any block over it has count > 0 (the Jenkins coverage-model
  # convention). The 6 blocks span lines 3-9 (all count 1) and 12-15 (count 0):
  # 11 lines, 7 covered. Coverprofiles have no branch data.
  expect_line go-cover-func '^total:[[:space:]]+\(statements\)[[:space:]]+71\.4%$'
  put cover.out go-coverprofile.out
  expect_cov go-coverprofile.out go 11 7 0 0
}

section_ant() {
  apt_install ant ant-optional junit4
  local d="$WORK/ant"; mkdir -p "$d/src/sample" "$d/test/sample"; cd "$d"
  cat >src/sample/Calc.java <<'EOF'
package sample;

public class Calc {
    public static int add(int a, int b) { return a + b; }
}
EOF
  cat >test/sample/CalcTest.java <<'EOF'
package sample;

import static org.junit.Assert.assertEquals;
import org.junit.Before;
import org.junit.Ignore;
import org.junit.Test;

public class CalcTest {
    @Test public void adds() { assertEquals(4, Calc.add(2, 2)); }
    @Test public void addsNegative() { assertEquals(-1, Calc.add(1, -2)); }
    @Test public void failsOnPurpose() { assertEquals("math is broken", 5, Calc.add(2, 2)); }
    @Test public void throwsInBody() { throw new IllegalStateException("unexpected exception -> <error>"); }
    @Ignore("ignored on purpose") @Test public void ignored() { }
}
EOF
  cat >build.xml <<'EOF'
<project name="sample" default="test">
  <path id="cp">
    <pathelement location="build/classes"/>
    <pathelement location="/usr/share/java/junit4.jar"/>
    <pathelement location="/usr/share/java/hamcrest-core.jar"/>
  </path>
  <target name="test">
    <mkdir dir="build/classes"/>
    <mkdir dir="build/reports"/>
    <javac srcdir="src:test" destdir="build/classes" classpathref="cp" includeantruntime="false"/>
    <junit printsummary="yes" haltonfailure="no" fork="yes">
      <classpath refid="cp"/>
      <formatter type="xml"/>
      <formatter type="plain" usefile="false"/>
      <batchtest todir="build/reports">
        <fileset dir="test" includes="**/*Test.java"/>
      </batchtest>
    </junit>
  </target>
</project>
EOF
  ant -version >"$LOGS/ant-version.log" 2>&1
  run ant ant -noinput
  # Ant/JUnit4: "Tests run: 5, Failures: 1, Errors: 1, Skipped: 1"
  expect_line ant 'Tests run: 5, Failures: 1, Errors: 1, Skipped: 1'
  put build/reports/TEST-sample.CalcTest.xml ant-junit4.xml
  expect_tests ant-junit4.xml 5 2 1 1 1 0
}

# ===========================================================================
# More sections, one file each: samples/sections/<name>.sh defines section_<name>.
EXTRA_SECTIONS=()
for f in "$SAMPLES_DIR"/sections/*.sh; do
  [ -e "$f" ] || continue
  # shellcheck source=/dev/null
  source "$f"
  EXTRA_SECTIONS+=("$(basename "$f" .sh)")
done

for name in pytest coverage gcovr jest vitest nextest gotestsum ant "${EXTRA_SECTIONS[@]}"; do
  section "$name"
done

[ -z "$ONLY" ] && [ -z "${SKIP_APT:-}" ] && {
  echo "generated by samples/generate.sh on $(date -u +%Y-%m-%d)"
  [ -x "$VENV/bin/pip" ] && "$VENV/bin/pip" list --format=freeze 2>/dev/null |
    grep -Ei '^(pytest|pytest-rerunfailures|coverage|gcovr)=='
  [ -d "$WORK/jest/node_modules" ] && (cd "$WORK/jest" && npm ls --depth=0 2>/dev/null | tail -n +2 | grep -v "^$")
  [ -d "$WORK/vitest/node_modules" ] && (cd "$WORK/vitest" && npm ls --depth=0 2>/dev/null | tail -n +2 | grep -v "^$")
  cargo nextest --version 2>/dev/null | head -1
  gcc --version 2>/dev/null | head -1
  command -v go >/dev/null && go version
  command -v gotestsum >/dev/null && echo "gotestsum $(dpkg-query -W -f='${Version}' gotestsum 2>/dev/null)"
  command -v ant >/dev/null && ant -version 2>/dev/null
  dpkg-query -W -f='junit4 ${Version}\n' junit4 2>/dev/null
  echo "node $(node --version 2>/dev/null)  python $(python3 --version 2>&1)"
} >"$LOGS/versions.txt" 2>/dev/null || true

log "done: ${DONE_SECTIONS[*]:-none}"
if [ ${#FAILED_SECTIONS[@]} -gt 0 ]; then
  echo "FAILED sections: ${FAILED_SECTIONS[*]}" >&2
  exit 1
fi
