#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (gitignored) with seeds made from ../samples: each sample with
# what the target's fixed header already provides stripped off (the XML declaration and root
# start tag, the first `SF:`, the `mode:` line), so the seeds continue the header.
set -euo pipefail
cd "$(dirname "$0")"
S=../samples
python3 - "$S" <<'PY'
import os, re, sys, pathlib
samples = pathlib.Path(sys.argv[1])
def files(*globs):
    for g in globs:
        for p in sorted(samples.glob(g)):
            if not p.name.endswith(".json") and p.is_file():
                yield p
prolog = rb"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?((<!--.*?-->)\s*)*"
def json_files(*globs):
    for g in globs:
        for p in sorted(samples.glob(g)):
            if not p.name.endswith(".expected.json") and p.is_file():
                yield p
def json_value(data, key):
    return data.split(key, 1)[-1]
def strip_root(data, root):
    return re.sub(prolog + rb"<" + root + rb"\b[^>]*>", b"", data, count=1, flags=re.S)
targets = {
    "junit": (files("corpus/junit/*/*", "generated/*junit*.xml", "generated/pytest-*.xml", "generated/ant-junit4.xml"),
              lambda d: re.sub(prolog, b"", d, count=1, flags=re.S)),
    "cobertura": (files("corpus/coverage/cobertura/*", "generated/*cobertura*.xml"), lambda d: strip_root(d, b"coverage")),
    "jacoco": (files("corpus/coverage/jacoco/*", "generated/*jacoco*.xml"), lambda d: strip_root(d, b"report")),
    "clover": (files("corpus/coverage/clover/*", "generated/*clover*.xml"), lambda d: strip_root(d, b"coverage")),
    "lcov": (files("corpus/coverage/lcov/*", "generated/*.lcov"), lambda d: d.split(b"SF:", 1)[-1]),
    "go": (files("corpus/coverage/go/*", "generated/go-*.out"), lambda d: d.split(b"\n", 1)[-1]),
    "trx": (files("fixtures/trx/*.trx"), lambda d: strip_root(d, b"TestRun")),
    "nunit": (files("fixtures/nunit/*.xml"), lambda d: strip_root(d, b"test-run")),
    "xunit": (files("fixtures/xunit/*.xml"), lambda d: strip_root(d, b"assemblies")),
    "sonar_tests": (files("fixtures/sonarqube/cypress-*.xml"), lambda d: strip_root(d, b"testExecutions")),
    "sonar_coverage": (files("fixtures/sonarqube/gcovr-*.xml", "generated/*sonarqube*.xml"), lambda d: strip_root(d, b"coverage")),
    # The JSON targets' headers end where a value starts: the seeds are the documents' values.
    "coveragepy_json": (json_files("generated/coverage-py.json"), lambda d: json_value(d, b'"files":')),
    "istanbul_json": (json_files("generated/*coverage-final.json"), lambda d: json_value(d, b'"statementMap":')),
    "llvm_cov_json": (json_files("generated/cargo-llvm-cov*.json"), lambda d: json_value(d, b'"files":')),
    "sarif": (json_files("generated/*.sarif"), lambda d: json_value(d, b'"runs":')),
    "codeclimate": (json_files("generated/ruff-gitlab.json"), lambda d: b"," + d.lstrip()[1:]),
    "checkstyle": (files("generated/*checkstyle*.xml"), lambda d: strip_root(d, b"checkstyle")),
    "pylint_json2": (json_files("generated/pylint.json2"), lambda d: json_value(d, b'"messages":')),
    "eslint_json": (json_files("generated/eslint.json"), lambda d: json_value(d, b'"messages":')),
    "lint_text": (files("generated/*.txt"), lambda d: d),
    "detect": (files("corpus/*/*/*", "generated/*.*", "fixtures/*/*"), lambda d: d),
}
for target, (paths, strip) in targets.items():
    out = pathlib.Path("corpus") / target
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for p in paths:
        data = strip(p.read_bytes())
        if len(data) > 64 * 1024:
            data = data[: 64 * 1024]
        (out / (p.parent.name + "--" + p.name)).write_bytes(data)
        n += 1
    print(f"{target}: {n} seeds in {out}")
PY
