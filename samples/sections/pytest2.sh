# pytest-rerunfailures in both JUnit families, with and without a suite name, with
# captured output (junit_logging=all) and suite properties (record_testsuite_property).
# Sourced by samples/generate.sh; run alone with: ONLY=pytest2 bash samples/generate.sh
#
# What pytest 9.2.0 + pytest-rerunfailures 16.7 write (checked in the 5 variants below):
# * Root is always <testsuites name="pytest tests"> with exactly one <testsuite>. Its name is
#   "pytest", or the value of -o junit_suite_name=... (nothing else changes with the suite name).
#   The testsuite carries errors/failures/skipped/tests/time/timestamp/hostname; tests="5" is
#   the number of distinct tests, failures="1" skipped="1", while there are 10 <testcase>s.
# * One <testcase> per attempt, in run order, with the same classname+name (+ file/line in
#   xunit1). The attempts that failed and were rerun have NO <failure>: without junit_logging
#   they are empty elements, indistinguishable from a pass; with junit_logging=all they hold
#   only <system-out>/<system-err>. Only the last attempt of a test that never passed carries
#   <failure>. So a test is flaky iff it has >1 element and its last element is a pass.
# * xunit1: every testcase has file="test_flaky.py" line="<0-based def line>" besides
#   classname/name/time. xunit2 (the default family): classname/name/time only.
# * junit_logging=all: every testcase gets <system-out> and <system-err> with
#   "---- Captured Log ----" / "---- Captured Out ----" / "---- Captured Err ----" banners.
#   The captured output accumulates over attempts (attempt 3's <system-out> repeats the
#   lines of attempts 1 and 2). The marker-skipped test gets the pair TWICE (<skipped>,
#   system-out, system-err, system-out, system-err).
# * record_testsuite_property -> <properties><property name value/></properties> as the first
#   child of <testsuite>, in both families (record_property would warn under xunit2).
section_pytest2() {
  ensure_venv
  local d="$WORK/pytest2"; mkdir -p "$d"; cd "$d"
  cat >test_flaky.py <<'EOF'
import os
import pathlib
import sys

import pytest

COUNTERS = pathlib.Path(os.environ["FLAKY_COUNTER_DIR"])


def attempt(name):
    """Return 1 on the first call for `name`, 2 on the second, ..."""
    f = COUNTERS / name
    n = int(f.read_text()) + 1 if f.exists() else 1
    f.write_text(str(n))
    return n


@pytest.fixture(scope="session", autouse=True)
def suite_properties(request):
    if os.environ.get("SUITE_PROPERTIES"):
        record = request.getfixturevalue("record_testsuite_property")
        record("ci_build", "1234")
        record("runner", "pytest-rerunfailures")


def test_passes_on_second_attempt():
    n = attempt("second")
    print("stdout of attempt %d" % n)
    assert n >= 2, "fails on the first attempt only"


def test_passes_on_third_attempt():
    n = attempt("third")
    print("stderr of attempt %d" % n, file=sys.stderr)
    assert n >= 3, "fails on the first two attempts"


def test_always_fails():
    n = attempt("always")
    print("stdout of attempt %d" % n)
    assert False, "fails on every attempt"


def test_stable_pass():
    assert True


@pytest.mark.skip(reason="skipped on purpose")
def test_skipped():
    assert False
EOF
  # pytest: "1 failed, 3 passed, 1 skipped, 5 rerun" (reruns: second 1, third 2, always 2)
  # cimetrics: 5 tests = 3 passed (2 of them flaky) + 1 failed + 1 skipped; 10 <testcase>s.
  # variant: name  junit_family  extra -o options  properties?
  local variants=(
    "xunit1                    xunit1 -                                             -"
    "xunit1-suitename-logging  xunit1 junit_suite_name=my-suite,junit_logging=all   props"
    "xunit2                    xunit2 -                                             -"
    "xunit2-suitename          xunit2 junit_suite_name=my-suite                     props"
    "xunit2-logging            xunit2 junit_logging=all                             -"
  )
  local v name family opts props o
  for v in "${variants[@]}"; do
    read -r name family opts props <<<"$v"
    local args=(-o "junit_family=$family")
    if [ "$opts" != "-" ]; then
      for o in ${opts//,/ }; do args+=(-o "$o"); done
    fi
    local sp=""; [ "$props" = props ] && sp=1
    rm -rf counters; mkdir counters
    FLAKY_COUNTER_DIR="$d/counters" SUITE_PROPERTIES="$sp" run "pytest-reruns-$name" \
        "$VENV/bin/pytest" -p no:cacheprovider --color=no -rA -p rerunfailures --reruns 2 \
        test_flaky.py "${args[@]}" --junitxml="out-$name.xml"
    expect_line "pytest-reruns-$name" '=+ 1 failed, 3 passed, 1 skipped, 5 rerun in '
    # the declared totals, as pytest wrote them (distinct tests), and the 10 attempt elements
    grep -q '<testsuite name="[^"]*" errors="0" failures="1" skipped="1" tests="5"' "out-$name.xml" ||
      die "out-$name.xml: unexpected <testsuite> totals"
    [ "$(grep -o '<testcase ' "out-$name.xml" | wc -l)" -eq 10 ] ||
      die "out-$name.xml: expected 10 <testcase> elements"
    if [ -n "$sp" ]; then grep -q '<property name="ci_build" value="1234"' "out-$name.xml" ||
      die "out-$name.xml: no <properties>"; fi
    put "out-$name.xml" "pytest-reruns-$name.xml"
    expect_tests "pytest-reruns-$name.xml" 5 3 1 0 1 2
  done
}
