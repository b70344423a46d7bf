# shellcheck shell=bash
# Sourced by samples/generate.sh: static-analysis / lint reports from real linters over two tiny
# projects with deliberate problems. Run alone with: ONLY=lint bash samples/generate.sh
#
#   Python (lint/py/app/{__init__,util,calc}.py): ruff (SARIF, GitLab Code Climate, JSON,
#     concise text), pylint (json2), flake8 (text), bandit (JSON, SARIF), mypy (text).
#   JavaScript (lint/js/src/{cart,report}.js): ESLint 10 flat config (JSON, checkstyle XML via
#     eslint-formatter-checkstyle, SARIF via @microsoft/eslint-formatter-sarif).
#
# Every expected number is checked against the tool's own console summary with expect_line
# (ruff "Found N errors.", pylint's "Messages by category" table and "rated at X/10", flake8
# --count, bandit's "Total issues (by severity)" block, mypy "Found N errors in M files",
# ESLint stylish "✖ N problems (X errors, Y warnings)"); nothing is counted by a parser of ours.
#
# <report>.expected.json (expect_issues below):
#   {"format": F, "issues": {"total": open issues, "suppressed": S,
#    "by_severity": {"blocker","critical","major","minor","info"}, "tool_score": X|null}}
# by_severity splits the open issues only (it sums to total). Severity mapping: SARIF
# error->major, warning->minor, note/none->info, level missing -> rule defaultConfiguration.level
# else warning (security-severity, when present, wins: >=9 blocker, >=7 critical, >=4 major,
# else minor); Code Climate word as is; checkstyle error->major, warning->minor, info->info;
# pylint fatal->blocker, error->critical, warning->major, refactor/convention->minor,
# info->info; ESLint 2->major, 1->minor; bandit HIGH->critical, MEDIUM->major, LOW->minor;
# ruff JSON all major; plain text (flake8, ruff concise) minor; mypy "error:" major
# ("note:" lines are no issues). suppressed counts SARIF results with a non-empty
# `suppressions` array (or baselineState "absent") and ESLint's suppressedMessages; the
# other formats leave suppressed findings out (0).

RUFF_VERSION=0.17.6
PYLINT_VERSION=4.1.5
ASTROID_VERSION=4.4.0            # pylint's analysis engine (its messages depend on it)
FLAKE8_VERSION=7.5.0
PYCODESTYLE_VERSION=2.15.0       # flake8's E/W checks
PYFLAKES_VERSION=4.1.0           # flake8's F checks
MCCABE_VERSION=0.7.0
BANDIT_VERSION=1.9.4             # installed as bandit[sarif] for -f sarif
SARIF_OM_VERSION=1.0.4
JSCHEMA_TO_PYTHON_VERSION=1.2.3
MYPY_VERSION=2.4.1
ESLINT_VERSION=10.16.0           # eslint 10 needs node ^20.19.0 || ^22.13.0 || >=24
ESLINT_JS_VERSION=10.0.1
GLOBALS_VERSION=17.15.0
ESLINT_FORMATTER_CHECKSTYLE_VERSION=9.0.1   # ESLint >= 9 has no built-in checkstyle formatter
ESLINT_FORMATTER_SARIF_VERSION=3.1.0
JSCHARDET_VERSION=4.1.0          # the SARIF formatter asks for jschardet "latest": pinned by override

# expect_issues REPORT FORMAT total suppressed blocker critical major minor info [tool_score]
expect_issues() {
  local f="$OUT/$1.expected.json" score="${10:-null}"
  [ $(($5 + $6 + $7 + $8 + $9)) -eq "$3" ] || die "bad expectation for $1 (severities != total)"
  printf '{"format": "%s", "issues": {"total": %d, "suppressed": %d, "by_severity": {"blocker": %d, "critical": %d, "major": %d, "minor": %d, "info": %d}, "tool_score": %s}}\n' \
    "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "$score" >"$f"
  echo "  wrote generated/$1.expected.json"
}

LINT_VENV="$WORK/lint-venv"
ensure_lint_venv() {
  [ -x "$LINT_VENV/bin/ruff" ] && return 0
  python3 -m venv "$LINT_VENV"
  "$LINT_VENV/bin/pip" install -q \
    "ruff==$RUFF_VERSION" \
    "pylint==$PYLINT_VERSION" "astroid==$ASTROID_VERSION" \
    "flake8==$FLAKE8_VERSION" "pycodestyle==$PYCODESTYLE_VERSION" \
    "pyflakes==$PYFLAKES_VERSION" "mccabe==$MCCABE_VERSION" \
    "bandit[sarif]==$BANDIT_VERSION" "sarif-om==$SARIF_OM_VERSION" \
    "jschema-to-python==$JSCHEMA_TO_PYTHON_VERSION" \
    "mypy==$MYPY_VERSION"
}

lint_python_sources() {
  mkdir -p app
  cat >pyproject.toml <<'EOF'
[project]
name = "cimetrics-lint-sample"
version = "0.1.0"

# ruff's default rule set changes between releases: select explicitly.
[tool.ruff.lint]
select = ["E", "F", "W", "S"]
EOF
  cat >app/__init__.py <<'EOF'
"""A tiny package with deliberate lint problems."""
EOF
  cat >app/util.py <<'EOF'
"""Utility helpers, full of deliberate problems."""
import os
import sys
import json  # noqa: F401
import subprocess

PASSWORD = "hunter2"


def run(cmd):
    """Run a shell command."""
    return subprocess.call(cmd, shell=True)


def load(path):
    """Read a file, swallowing every error."""
    try:
        with open(path) as f:
            return f.read()
    except:
        return None


def check(x: int) -> int:
    assert x > 0
    return undefined_name + x


def banner():
    return "this line is deliberately far too long: it goes well past the limit of eighty-eight characters"


def evaluate(expr):
    """Evaluate an expression from the user."""
    return eval(expr)


HOST = "0.0.0.0"  # nosec B104  # noqa: S104
EOF
  cat >app/calc.py <<'EOF'
"""Arithmetic with type errors."""


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def half(n: int) -> str:
    """Return half of n (but the annotation is wrong)."""
    return n / 2


def scale(n: int, factor: float = None) -> float:
    """Scale n (the default contradicts the annotation)."""
    return n * (factor or 1.0)


def sign(n: int) -> int:
    """Return the sign of n."""
    if n < 0:
        return -1
    else:
        return 1


def Unused_Name():  # pylint: disable=invalid-name
    """A badly named function, its pylint finding suppressed inline."""
    return None


TOTAL = add("1", 2)
EOF
}

lint_js_sources() {
  mkdir -p src
  cat >eslint.config.js <<'EOF'
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['src/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'warn',
    },
    rules: {
      eqeqeq: 'error',
      'no-console': 'warn',
      'prefer-const': 'warn',
    },
  },
];
EOF
  cat >src/cart.js <<'EOF'
// A tiny module with deliberate lint problems.
const TAX_RATE = 0.2;
const unusedDiscount = 0.1;

export function total(items) {
  let sum = 0;
  for (const item of items) {
    if (item.qty == 0) {
      continue;
    }
    sum += item.price * item.qty;
  }
  console.log('total computed');
  return sum * (1 + TAX_RATE);
}

export function label(count) {
  let text = count === 1 ? 'item' : 'items';
  return `${count} ${text}`;
}
EOF
  cat >src/report.js <<'EOF'
// Suppressions: one eslint-disable-next-line, one disabled block, one unused directive.
import { total, label } from './cart.js';

export function report(items) {
  // eslint-disable-next-line no-console
  console.log(label(items.length));
  /* eslint-disable eqeqeq */
  if (items.length == 0) {
    return 'empty';
  }
  /* eslint-enable eqeqeq */
  console.info('reporting');
  // eslint-disable-next-line no-alert
  return String(total(items)) + missingSuffix;
}
EOF
}

section_lint() {
  ensure_lint_venv
  local LV="$LINT_VENV/bin"
  local d="$WORK/lint/py"; mkdir -p "$d"; cd "$d"
  lint_python_sources

  # ---- ruff ---------------------------------------------------------------
  # 9 findings, all "error" to ruff (it has no other level): F401 x2 (os, sys; json is
  # `# noqa: F401`), S105, S602, E722, S101, F821, E501, S307 (HOST's S104 is `# noqa`).
  run ruff "$LV/ruff" check --no-cache .
  expect_line ruff '^Found 9 errors\.$'
  # the 2 noqa'd findings exist (11 with --ignore-noqa) but no ruff format lists them
  run ruff-ignore-noqa "$LV/ruff" check --no-cache --ignore-noqa .
  expect_line ruff-ignore-noqa '^Found 11 errors\.$'
  "$LV/ruff" check --no-cache --output-format sarif -o ruff.sarif . || true
  "$LV/ruff" check --no-cache --output-format gitlab -o ruff-gitlab.json . || true
  "$LV/ruff" check --no-cache --output-format json -o ruff.json . || true
  "$LV/ruff" check --no-cache --output-format concise . >ruff-concise.txt 2>&1 || true
  grep -q '^Found 9 errors\.$' ruff-concise.txt || die "ruff concise: no 'Found 9 errors.'"
  put ruff.sarif ruff.sarif
  put ruff-gitlab.json ruff-gitlab.json
  put ruff.json ruff.json
  put ruff-concise.txt ruff-concise.txt
  # SARIF: every result has level "error" -> 9 major; Code Climate: severity "major" on all 9
  expect_issues ruff.sarif sarif 9 0 0 0 9 0 0
  expect_issues ruff-gitlab.json codeclimate 9 0 0 0 9 0 0
  expect_issues ruff.json ruff-json 9 0 0 0 9 0 0
  expect_issues ruff-concise.txt lint-text 9 0 0 0 0 9 0

  # ---- pylint -------------------------------------------------------------
  # Text run with --reports=y: its "Messages by category" table gives the split
  # (convention 3, refactor 1, warning 6, error 1 = 11; no fatal/info rows) and the last line
  # the rating. The json2 run writes the same 11 messages. Unused_Name's invalid-name is
  # suppressed by `# pylint: disable` (not reported at all). PYLINTHOME in the scratch dir and
  # --persistent=n keep "previous run" out of the output.
  export PYLINTHOME="$d/.pylinthome"
  run pylint "$LV/pylint" --persistent=n --reports=y app
  expect_line pylint '^\|convention +\|3 +\|'
  expect_line pylint '^\|refactor +\|1 +\|'
  expect_line pylint '^\|warning +\|6 +\|'
  expect_line pylint '^\|error +\|1 +\|'
  expect_line pylint '^34 statements analysed\.$'
  expect_line pylint '^Your code has been rated at 5\.59/10$'
  run pylint-json2 "$LV/pylint" --persistent=n --output-format=json2 --output=pylint.json2 app
  put pylint.json2 pylint.json2
  # error -> critical 1, warning -> major 6, refactor + convention -> minor 4
  expect_issues pylint.json2 pylint-json2 11 0 0 1 6 4 0 5.59

  # ---- flake8 -------------------------------------------------------------
  # default select (pycodestyle E/W, pyflakes F), max-line-length 79:
  # F401 x2, E722, F821, E501 (json's F401 is `# noqa: F401`)
  "$LV/flake8" --output-file=flake8.txt . || true
  run flake8 "$LV/flake8" --count .
  expect_line flake8 '^5$'
  [ "$(wc -l <flake8.txt)" -eq 5 ] || die "flake8.txt: expected 5 lines"
  put flake8.txt flake8.txt
  expect_issues flake8.txt lint-text 5 0 0 0 0 5 0

  # ---- bandit -------------------------------------------------------------
  # B404 (import subprocess) Low, B105 Low, B602 High, B101 Low, B307 (eval) Medium;
  # HOST's B104 is `# nosec B104` ("Total potential issues skipped ...: 1").
  run bandit "$LV/bandit" -r app -f txt
  # bandit's txt ends with two blocks of Undefined/Low/Medium/High lines (by severity, then by
  # confidence): check the severity block alone
  sed -n '/Total issues (by severity):/,/Total issues (by confidence):/p' "$LOGS/bandit.log" \
    >"$LOGS/bandit-by-severity.log"
  expect_line bandit-by-severity '^[[:space:]]+Undefined: 0$'
  expect_line bandit-by-severity '^[[:space:]]+Low: 3$'
  expect_line bandit-by-severity '^[[:space:]]+Medium: 1$'
  expect_line bandit-by-severity '^[[:space:]]+High: 1$'
  expect_line bandit 'Total potential issues skipped due to specifically being disabled \(e\.g\., #nosec BXXX\): 1$'
  # with --ignore-nosec the B104 (Medium) comes back
  run bandit-ignore-nosec "$LV/bandit" -r app -f txt --ignore-nosec
  sed -n '/Total issues (by severity):/,/Total issues (by confidence):/p' \
    "$LOGS/bandit-ignore-nosec.log" >"$LOGS/bandit-ignore-nosec-by-severity.log"
  expect_line bandit-ignore-nosec-by-severity '^[[:space:]]+Medium: 2$'
  "$LV/bandit" -q -r app -f json -o bandit.json || true
  "$LV/bandit" -q -r app -f sarif -o bandit.sarif || true
  put bandit.json bandit.json
  put bandit.sarif bandit.sarif
  # JSON: HIGH -> critical 1, MEDIUM -> major 1, LOW -> minor 3
  expect_issues bandit.json bandit-json 5 0 0 1 1 3 0
  # bandit's SARIF writer sets level "error" for HIGH, "note" for LOW and NO level for
  # MEDIUM (its rules have no defaultConfiguration -> SARIF default "warning"):
  # major 1, minor 1, info 3. No security-severity property.
  grep -q '"level": "note"' bandit.sarif || die "bandit.sarif: no note level"
  expect_issues bandit.sarif sarif 5 0 0 0 1 1 3

  # ---- mypy ---------------------------------------------------------------
  # calc.py: return-value, assignment (+2 "note:" lines), arg-type; util.py: name-defined.
  # (The untyped functions are not checked, so only check()'s undefined name shows up there.)
  "$LV/mypy" --cache-dir="$d/.mypy_cache" app >mypy.txt 2>&1 || true
  run mypy "$LV/mypy" --cache-dir="$d/.mypy_cache" app
  expect_line mypy '^Found 4 errors in 2 files \(checked 3 source files\)$'
  [ "$(grep -c ': note: ' mypy.txt)" -eq 2 ] || die "mypy.txt: expected 2 note lines"
  put mypy.txt mypy.txt
  expect_issues mypy.txt lint-text 4 0 0 0 4 0 0
  unset PYLINTHOME

  # ---- ESLint -------------------------------------------------------------
  d="$WORK/lint/js"; mkdir -p "$d"; cd "$d"
  cat >package.json <<EOF
{
  "name": "cimetrics-eslint-sample",
  "version": "1.0.0",
  "private": true,
  "type": "module",
  "devDependencies": {
    "@eslint/js": "$ESLINT_JS_VERSION",
    "@microsoft/eslint-formatter-sarif": "$ESLINT_FORMATTER_SARIF_VERSION",
    "eslint": "$ESLINT_VERSION",
    "eslint-formatter-checkstyle": "$ESLINT_FORMATTER_CHECKSTYLE_VERSION",
    "globals": "$GLOBALS_VERSION"
  },
  "overrides": {
    "jschardet": "$JSCHARDET_VERSION"
  }
}
EOF
  npm install --no-audit --no-fund --loglevel=error >"$LOGS/lint-eslint-npm-install.log" 2>&1
  lint_js_sources
  # stylish: cart.js no-unused-vars (error), eqeqeq (error), no-console (warning),
  # prefer-const (warning); report.js no-console (warning), the unused
  # `eslint-disable-next-line no-alert` directive (warning, ruleId null), no-undef (error).
  # Suppressed by directives: report.js:6 no-console (warning), report.js:8 eqeqeq (error).
  run eslint npx eslint src
  expect_line eslint '^✖ 7 problems \(3 errors, 4 warnings\)$'
  expect_line eslint "Unused eslint-disable directive \(no problems were reported from 'no-alert'\)"
  # without the unused-directive report: the 6 real problems (the SARIF results left open)
  run eslint-no-unused-directives npx eslint --report-unused-disable-directives-severity off src
  expect_line eslint-no-unused-directives '^✖ 6 problems \(3 errors, 3 warnings\)$'
  # with directives ignored: those 6 + the 2 suppressed ones (1 error, 1 warning)
  run eslint-no-inline-config npx eslint --no-inline-config src
  expect_line eslint-no-inline-config '^✖ 8 problems \(4 errors, 4 warnings\)$'
  npx eslint -f json -o eslint.json src || true
  npx eslint -f checkstyle -o eslint-checkstyle.xml src || true
  npx eslint -f @microsoft/eslint-formatter-sarif -o eslint.sarif src || true
  put eslint.json eslint.json
  put eslint-checkstyle.xml eslint-checkstyle.xml
  put eslint.sarif eslint.sarif
  # JSON: the 7 messages (3 x severity 2, 4 x severity 1); the 2 suppressed ones (8 - 6
  # above) sit in each file's suppressedMessages.
  expect_issues eslint.json eslint-json 7 2 0 0 3 4 0
  # checkstyle: the same 7 (the unused directive with source="")
  expect_issues eslint-checkstyle.xml checkstyle 7 0 0 0 3 4 0
  # SARIF: 8 results = 6 open (3 error, 3 warning) + 2 with suppressions [{kind: inSource}];
  # the unused directive is NOT a result (it is in invocations[0].toolConfigurationNotifications).
  grep -q '"kind": "inSource"' eslint.sarif || die "eslint.sarif: no inSource suppression"
  grep -q '"toolConfigurationNotifications"' eslint.sarif || die "eslint.sarif: no notifications"
  expect_issues eslint.sarif sarif 6 2 0 0 3 3 0

  # ---- versions -----------------------------------------------------------
  {
    "$LV/pip" list --format=freeze 2>/dev/null |
      grep -Ei '^(ruff|pylint|astroid|flake8|pycodestyle|pyflakes|mccabe|bandit|sarif-om|jschema-to-python|mypy)=='
    npm ls --depth=0 2>/dev/null | tail -n +2 | grep -v '^$'
    npm ls jschardet 2>/dev/null | grep jschardet
    echo "node $(node --version)  $("$LINT_VENV/bin/python" --version 2>&1)"
  } >"$LOGS/lint-versions.log"
  cat "$LOGS/lint-versions.log"
}
