# shellcheck shell=bash
# Sourced by samples/generate.sh: istanbul coverage reports (Clover XML, coverage-final.json,
# LCOV) from three istanbul-based writers over the same tiny JS project:
#   jest --coverage (babel-plugin-istanbul), nyc + mocha, vitest + @vitest/coverage-istanbul.
# Expected numbers come from istanbul's own text-summary ("Lines : x% ( covered/total )",
# "Branches : x% ( covered/total )"), checked with expect_line. All files of one run share them.

NYC_VERSION=18.0.0
MOCHA_VERSION=12.0.3   # mocha 12 needs node ^20.19.0 || >=22.12.0
# jest: $JEST_VERSION, vitest and @vitest/coverage-istanbul: $VITEST_VERSION (generate.sh)

# istanbul_sources cjs|esm - src/calc.js, src/text.js, src/unused.js and test/calc.test.js.
# The same code in both module systems (only the require/export lines differ).
istanbul_sources() {
  local kind="$1" strict="'use strict';" exp_calc exp_text exp_unused imp
  mkdir -p src test
  if [ "$kind" = esm ]; then
    strict="// ES module"
    exp_calc="export { classify, label, both, size, neverCalled };"
    exp_text="export { shout, firstWord };"
    exp_unused="export { parse };"
    imp="import assert from 'node:assert';
import { describe, it } from 'vitest';
import { classify, label, both, size } from '../src/calc.js';
import { shout, firstWord } from '../src/text.js';"
  else
    exp_calc="module.exports = { classify, label, both, size, neverCalled };"
    exp_text="module.exports = { shout, firstWord };"
    exp_unused="module.exports = { parse };"
    imp="const assert = require('node:assert');
const { classify, label, both, size } = require('../src/calc');
const { shout, firstWord } = require('../src/text');"
  fi
  cat >src/calc.js <<EOF
$strict

function classify(n) {
  if (n < 0) {
    return 'negative';
  } else if (n === 0) {
    return 'zero';
  }
  return 'positive';
}

function label(flag) {
  return flag ? 'on' : 'off';
}

function both(a, b) {
  return a && b;
}

function size(n) {
  if (n > 100) {
    return n > 1000 ? 'huge' : 'large';
  }
  return 'normal';
}

function neverCalled(x) {
  const y = x * 2;
  return y + 1;
}

$exp_calc
EOF
  cat >src/text.js <<EOF
$strict

function shout(s, excited) {
  const up = s.toUpperCase();
  return excited ? up + '!' : up;
}

function firstWord(s) {
  return s.trim() ? s.trim().split(/\s+/)[0] : '';
}

$exp_text
EOF
  cat >src/unused.js <<EOF
$strict

// No test loads this file: only nyc --all reports it (all zero).
function parse(s) {
  return s ? JSON.parse(s) : null;
}

$exp_unused
EOF
  # describe/it: globals in jest and mocha, imported in vitest.
  cat >test/calc.test.js <<EOF
$imp

describe('calc', () => {
  it('classifies', () => {
    assert.strictEqual(classify(5), 'positive');
    assert.strictEqual(classify(-1), 'negative');
  });
  it('labels', () => {
    assert.strictEqual(label(true), 'on');
  });
  it('ands', () => {
    assert.strictEqual(both(0, 1), 0);
  });
  it('sizes', () => {
    assert.strictEqual(size(5), 'normal');
  });
});

describe('text', () => {
  it('shouts', () => {
    assert.strictEqual(shout('hi', true), 'HI!');
    assert.strictEqual(shout('hi', false), 'HI');
    assert.strictEqual(firstWord('hello world'), 'hello');
  });
});
EOF
}

# What the suite covers (per tool, statements = lines here: one statement per line):
#   calc.js  classify: n<0 true/false taken, n===0 only false  -> if/else-if 3 of 4
#            label: ternary only the true side                 -> 1 of 2
#            both: `a && b` with a falsy, b never evaluated    -> 1 of 2
#            size: outer if false only (1 of 2); the inner ternary's line never runs (0 of 2)
#            neverCalled: 2 statements, never run
#   text.js  shout: both sides (2 of 2); firstWord: only the true side (1 of 2)
#   unused.js  never loaded (only nyc --all reports it): 2 statements, a ternary (0 of 2)

section_istanbul() {
  # ---- jest --coverage ----------------------------------------------------
  local d="$WORK/istanbul-jest"; mkdir -p "$d"; cd "$d"
  cat >package.json <<EOF
{
  "name": "cimetrics-istanbul-jest-sample",
  "version": "1.0.0",
  "private": true,
  "devDependencies": {
    "jest": "$JEST_VERSION"
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/istanbul-jest-npm-install.log" 2>&1
  istanbul_sources cjs
  run istanbul-jest npx jest --ci --coverage \
      --coverageReporters=clover --coverageReporters=json \
      --coverageReporters=text-summary --coverageReporters=lcov
  # istanbul text-summary: Lines 13/17 (the 'use strict' directives and the function
  # headers are no statements), Branches 9/16. unused.js is not loaded, so jest leaves it out.
  expect_line istanbul-jest 'Tests: +5 passed, 5 total'
  expect_line istanbul-jest '^Lines +: [0-9.]+% \( 13/17 \)$'
  expect_line istanbul-jest '^Branches +: [0-9.]+% \( 9/16 \)$'
  # the line that never runs but holds a condition: count 0, truecount 0, falsecount 2
  grep -q '<line num="22" count="0" type="cond" truecount="0" falsecount="2"/>' coverage/clover.xml ||
    die "istanbul clover: no never-run cond line"
  put coverage/clover.xml istanbul-clover.xml
  put coverage/coverage-final.json istanbul-coverage-final.json
  put coverage/lcov.info istanbul.lcov
  expect_cov istanbul-clover.xml clover 17 13 16 9
  expect_cov istanbul-coverage-final.json istanbul-json 17 13 16 9
  expect_cov istanbul.lcov lcov 17 13 16 9

  # ---- nyc + mocha, with --all (adds the never-loaded unused.js) --------------
  d="$WORK/istanbul-nyc"; mkdir -p "$d"; cd "$d"
  cat >package.json <<EOF
{
  "name": "cimetrics-istanbul-nyc-sample",
  "version": "1.0.0",
  "private": true,
  "devDependencies": {
    "mocha": "$MOCHA_VERSION",
    "nyc": "$NYC_VERSION"
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/istanbul-nyc-npm-install.log" 2>&1
  istanbul_sources cjs
  run istanbul-nyc npx nyc --all --include='src/**' --report-dir=nyc-coverage \
      --reporter=clover --reporter=json --reporter=text-summary --reporter=lcov \
      mocha 'test/**/*.test.js'
  # mocha: "5 passing"; istanbul text-summary: Lines 13/19, Branches 9/18
  # (= the jest numbers + unused.js: 2 lines, 2 branches, all uncovered)
  expect_line istanbul-nyc '^ +5 passing'
  expect_line istanbul-nyc '^Lines +: [0-9.]+% \( 13/19 \)$'
  expect_line istanbul-nyc '^Branches +: [0-9.]+% \( 9/18 \)$'
  put nyc-coverage/clover.xml nyc-clover.xml
  put nyc-coverage/coverage-final.json nyc-coverage-final.json
  put nyc-coverage/lcov.info nyc.lcov
  expect_cov nyc-clover.xml clover 19 13 18 9
  expect_cov nyc-coverage-final.json istanbul-json 19 13 18 9
  expect_cov nyc.lcov lcov 19 13 18 9

  # ---- vitest + @vitest/coverage-istanbul (ES modules) ---------------------
  d="$WORK/istanbul-vitest"; mkdir -p "$d"; cd "$d"
  cat >package.json <<EOF
{
  "name": "cimetrics-istanbul-vitest-sample",
  "version": "1.0.0",
  "private": true,
  "type": "module",
  "devDependencies": {
    "@vitest/coverage-istanbul": "$VITEST_VERSION",
    "vitest": "$VITEST_VERSION"
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/istanbul-vitest-npm-install.log" 2>&1
  istanbul_sources esm
  run istanbul-vitest npx vitest run --coverage.enabled --coverage.provider=istanbul \
      --coverage.reporter=clover --coverage.reporter=json --coverage.reporter=text-summary
  # vitest: "Tests  5 passed (5)"; istanbul text-summary: Lines 11/15, Branches 9/16
  # (the same branches as jest; 2 lines fewer: an `export { ... }` is no statement,
  # `module.exports = ...` is one). unused.js is not loaded, so it is left out.
  expect_line istanbul-vitest 'Tests +5 passed \(5\)'
  expect_line istanbul-vitest '^Lines +: [0-9.]+% \( 11/15 \)$'
  expect_line istanbul-vitest '^Branches +: [0-9.]+% \( 9/16 \)$'
  put coverage/clover.xml vitest-istanbul-clover.xml
  put coverage/coverage-final.json vitest-istanbul-coverage-final.json
  expect_cov vitest-istanbul-clover.xml clover 15 11 16 9
  expect_cov vitest-istanbul-coverage-final.json istanbul-json 15 11 16 9
}
