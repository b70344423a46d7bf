# shellcheck shell=bash
# Sourced by samples/generate.sh: node's built-in test runner (node:test) with its junit
# reporter. No npm package: the runner and the reporter are the node binary's own
# (version recorded in logs/nodetest-version.log; the junit writer changes between node majors).

section_nodetest() {
  local d="$WORK/nodetest"; mkdir -p "$d"; cd "$d"
  cat >outcomes.test.js <<'EOF'
'use strict';
const { describe, test } = require('node:test');
const assert = require('node:assert');

test('adds', () => {
  assert.strictEqual(1 + 1, 2);
});

test('fails on purpose', () => {
  assert.strictEqual(2 + 2, 5, 'math is broken');
});

test('throws inside the test body', () => {
  throw new Error('boom: thrown from the test body');
});

test('skipped with the skip option', { skip: true }, () => {
  assert.fail('never runs');
});

test('skipped with a reason', { skip: 'not implemented yet' }, () => {
  assert.fail('never runs');
});

test('skipped at runtime with t.skip()', (t) => {
  t.skip('decided at runtime');
});

test('todo whose body passes', { todo: true }, () => {
  assert.ok(true);
});

test('todo whose body fails', { todo: 'known bug #123' }, () => {
  assert.strictEqual(1, 2);
});

test('todo at runtime with t.todo() then fails', (t) => {
  t.todo('not finished');
  assert.fail('fails, but the test is todo');
});

describe('a suite', () => {
  test('inner passes', () => {
    assert.ok(true);
  });
  test('inner fails', () => {
    assert.deepStrictEqual([1, 2], [1, 3]);
  });
  test.skip('inner test.skip', () => {});
  test.todo('inner test.todo without a body');
});
EOF
  node --version >"$LOGS/nodetest-version.log" 2>&1
  run nodetest node --test \
      --test-reporter=junit --test-reporter-destination=junit.xml \
      --test-reporter=spec --test-reporter-destination=stdout \
      outcomes.test.js
  # node's spec summary: tests 13, pass 2, fail 3, cancelled 0, skipped 4, todo 4.
  # node counts the 4 todo tests as todo, never as failures (not even the 2 whose body
  # fails). Its junit writer gives every todo <skipped type="todo" message="..."/>, and
  # a todo whose body failed gets a <failure> too (plus a failure="..." attribute).
  # cimetrics: todo = skipped, so 13 = 2 passed, 3 failed, 0 errored, 8 skipped (4 + 4 todo).
  # The describe() becomes a <testsuite>; top-level tests are <testcase> elements directly
  # under <testsuites>, with no <testsuite> around them.
  expect_line nodetest '^ℹ tests 13$'
  expect_line nodetest '^ℹ pass 2$'
  expect_line nodetest '^ℹ fail 3$'
  expect_line nodetest '^ℹ cancelled 0$'
  expect_line nodetest '^ℹ skipped 4$'
  expect_line nodetest '^ℹ todo 4$'
  put junit.xml node-test-junit.xml
  expect_tests node-test-junit.xml 13 2 3 0 8 0
}
