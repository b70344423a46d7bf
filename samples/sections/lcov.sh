# LCOV tracefiles written by lcov itself (Debian's lcov 1.16 over gcc --coverage), plus one
# written by jest/istanbul that has BRDA records on lines without a DA record, and one
# documented hand edit of a real lcov tracefile whose LF/LH disagree with its DA records.
# Sourced by samples/generate.sh; run alone with: ONLY=lcov bash samples/generate.sh
#
# What these files show:
# * lcov-capture.info: Debian's lcov 1.16-1 `lcov --capture` (gcc 12, JSON intermediate gcov
#   format) writes NO summary records at all: no LF/LH, no BRF/BRH, no FNF/FNH. Debian's
#   geninfo defines intermediate_json_to_info twice ("Subroutine ... redefined" on stderr)
#   and the second one, which wins, prints only TN/SF/FN/FNDA/DA/BRDA/end_of_record.
#   BRDA follows its DA line. SF paths are absolute. A parser must not require LF/LH.
# * lcov-add-tracefile.info: the same data after `lcov --add-tracefile` (lcov's own writer):
#   FN.. FNDA.. FNF FNH, then all BRDA, BRF BRH, then all DA, LF LH; files sorted by path.
# * lcov 1.16 reads only TN/SF/DA/FN/FNDA/BRDA (read_info_file has no case for LF/LH/BRF/BRH
#   or FNF/FNH) and recomputes every total, so `lcov --summary` and genhtml ignore LF/LH.
#   Its BRDA regex is /^BRDA:(\d+),(\d+),(\d+),(\d+|-)/, numeric block and branch ids only.
# * jest-istanbul.info: istanbul (jest --coverage, babel provider) writes DA only for the
#   lines where statements start, and BRDA on the line where the branch's expression or
#   default parameter starts. A `return (` whose ternary / && is on the next line, or a
#   default parameter on its own line, gives BRDA records on lines that have no DA record
#   (lines 4, 10 and 17 here). istanbul, lcov --summary and genhtml all count those as
#   branches only, not as lines: rule "a BRDA without DA adds a branch, not a line".
#   istanbul puts FNF/FNH before FNDA and DA/LF/LH before BRDA/BRF/BRH; SF is relative.
# * lcov-lf-lh-mismatch.info: no tool found that writes LF/LH disagreeing with its DA records
#   (lcov 1.16, istanbul, gcovr and coverage.py all count their own DA lines), so this is
#   lcov-add-tracefile.info with ONE documented edit: in the util.c record LF:15 -> LF:17 and
#   LH:10 -> LH:13 (as if 2 lines were counted twice). lcov --summary and genhtml still say
#   15 of 21: the DA records win, LF/LH are only a cross-check.
APT_SECTIONS+=" lcov"
LCOV_DEB_VERSION=1.16-1

section_lcov() {
  if [ "$(dpkg-query -W -f='${Version}' lcov 2>/dev/null)" != "$LCOV_DEB_VERSION" ]; then
    apt_install "lcov=$LCOV_DEB_VERSION"
  fi
  [ "$(dpkg-query -W -f='${Version}' lcov)" = "$LCOV_DEB_VERSION" ] ||
    die "lcov $LCOV_DEB_VERSION is not installed"
  { lcov --version; dpkg-query -W -f='lcov (Debian) ${Version}\n' lcov; gcc --version | head -1; } \
    >"$LOGS/lcov-version.log" 2>&1

  local d="$WORK/lcov"; mkdir -p "$d/src"; cd "$d"
  write_c_sample # the program section_gcovr builds
  gcc --coverage -O0 -o prog src/main.c src/util.c
  ./prog
  run lcov-capture lcov --capture --directory . --rc lcov_branch_coverage=1 \
      --output-file capture.info
  run lcov-capture-summary lcov --summary --rc lcov_branch_coverage=1 capture.info
  # lcov's own totals (the same as gcovr's for this program)
  expect_line lcov-capture-summary 'lines\.+: 71\.4% \(15 of 21 lines\)'
  expect_line lcov-capture-summary 'branches\.+: 58\.3% \(7 of 12 branches\)'
  if grep -Eq '^(LF|LH|BRF|BRH):' capture.info; then
    echo "  note: this lcov capture writes LF/LH (the comment at the top says it does not)"
  fi
  put capture.info lcov-capture.info
  expect_cov lcov-capture.info lcov 21 15 12 7

  run lcov-add lcov --add-tracefile capture.info --rc lcov_branch_coverage=1 \
      --output-file added.info
  # lcov prints the totals of what it wrote
  expect_line lcov-add 'lines\.+: 71\.4% \(15 of 21 lines\)'
  expect_line lcov-add 'branches\.+: 58\.3% \(7 of 12 branches\)'
  grep -q '^LF:15$' added.info || die "added.info: no LF:15 for util.c"
  put added.info lcov-add-tracefile.info
  expect_cov lcov-add-tracefile.info lcov 21 15 12 7

  # --- LF/LH that disagree with the DA records (hand edit, see the top of this file)
  sed -e 's/^LF:15$/LF:17/' -e 's/^LH:10$/LH:13/' added.info >mismatch.info
  [ "$(diff added.info mismatch.info | grep -c '^>')" -eq 2 ] || die "mismatch.info: edit failed"
  run lcov-mismatch-summary lcov --summary --rc lcov_branch_coverage=1 mismatch.info
  expect_line lcov-mismatch-summary 'lines\.+: 71\.4% \(15 of 21 lines\)'
  expect_line lcov-mismatch-summary 'branches\.+: 58\.3% \(7 of 12 branches\)'
  run lcov-mismatch-genhtml genhtml --branch-coverage --output-directory html-mismatch mismatch.info
  expect_line lcov-mismatch-genhtml 'lines\.+: 71\.4% \(15 of 21 lines\)'
  expect_line lcov-mismatch-genhtml 'branches\.+: 58\.3% \(7 of 12 branches\)'
  put mismatch.info lcov-lf-lh-mismatch.info
  expect_cov lcov-lf-lh-mismatch.info lcov 21 15 12 7

  # --- istanbul (jest --coverage): BRDA records on lines with no DA record
  local j="$WORK/lcov-jest"; mkdir -p "$j/src" "$j/tests"; cd "$j"
  cat >package.json <<EOF
{
  "name": "cimetrics-lcov-istanbul-sample",
  "version": "1.0.0",
  "private": true,
  "devDependencies": {
    "jest": "$JEST_VERSION"
  },
  "jest": {
    "collectCoverage": true,
    "coverageProvider": "babel",
    "coverageReporters": ["lcovonly", "text-summary", "text"]
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/lcov-jest-npm-install.log" 2>&1
  cat >src/split.js <<'EOF'
// Statements whose branches start on a later line than the statement itself.
function pick(flag, a, b) {
  return (
    flag ? a : b
  );
}

function withDefault(
  x,
  y = 10
) {
  return x + y;
}

function both(a, b) {
  return (
    a &&
    b
  );
}

function sign(n) {
  if (n < 0) {
    return -1;
  }
  return 1;
}

module.exports = { pick, withDefault, both, sign };
EOF
  cat >tests/split.test.js <<'EOF'
const { pick, withDefault, both, sign } = require('../src/split');

test('pick', () => {
  expect(pick(true, 1, 2)).toBe(1);
});

test('withDefault', () => {
  expect(withDefault(1)).toBe(11);
});

test('both', () => {
  expect(both(true, 'b')).toBe('b');
});

test('sign', () => {
  expect(sign(3)).toBe(1);
});
EOF
  run lcov-jest npx jest --ci
  # istanbul's own summary: 7 lines (statement start lines 3 12 16 23 24 26 29), 6 covered;
  # 7 branch outcomes (ternary 2 on line 4, default param 1 on line 10, && 2 on line 17,
  # if 2 on line 23), 5 covered. Lines 4, 10, 17 have BRDA but no DA.
  expect_line lcov-jest 'Tests: +4 passed, 4 total'
  expect_line lcov-jest '^Lines +: 85\.71% \( 6/7 \)'
  expect_line lcov-jest '^Branches +: 71\.42% \( 5/7 \)'
  for l in 4 10 17; do
    grep -q "^BRDA:$l," coverage/lcov.info && ! grep -q "^DA:$l," coverage/lcov.info ||
      die "coverage/lcov.info: expected BRDA without DA on line $l"
  done
  # lcov agrees: the BRDA-only lines add branches, not lines
  run lcov-jest-summary lcov --summary --rc lcov_branch_coverage=1 coverage/lcov.info
  expect_line lcov-jest-summary 'lines\.+: 85\.7% \(6 of 7 lines\)'
  expect_line lcov-jest-summary 'branches\.+: 71\.4% \(5 of 7 branches\)'
  put coverage/lcov.info jest-istanbul.info
  expect_cov jest-istanbul.info lcov 7 6 7 5
}
