//! Deterministic generators of large, realistic reports, shared by `benches/parse.rs` and
//! `examples/gen_report.rs`, which include it with `#[path = ...] mod generator;` (`gen` is
//! a reserved keyword in edition 2024, so the module cannot be called `gen`).
//!
//! Every function returns a complete, well-formed report of approximately `target_bytes`
//! bytes (it stops at the first suite / file boundary past the target). The output depends
//! only on `target_bytes`: the pseudo-random source is a xorshift64* seeded with a constant.
//! The totals a report declares (suite `tests=`/`failures=`..., Cobertura `lines-valid=`...,
//! JaCoCo counters, LCOV `LF`/`LH`/`BRF`/`BRH`) are exact, so a correct reader reports no
//! warnings on them, and the expected counts are easy to recompute.

#![allow(dead_code)]

use std::io::Write;

/// xorshift64* (Vigna): small, fast and good enough to vary names and outcomes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

const DOMAINS: &[&str] = &[
    "billing",
    "inventory",
    "auth",
    "search",
    "checkout",
    "catalog",
    "shipping",
    "payments",
    "notifications",
    "reporting",
    "users",
    "orders",
    "pricing",
    "gateway",
    "storage",
];
const NOUNS: &[&str] = &[
    "Order",
    "Invoice",
    "Customer",
    "Cart",
    "Token",
    "Session",
    "Product",
    "Price",
    "Account",
    "Payment",
    "Refund",
    "Shipment",
    "Address",
    "Coupon",
    "Report",
    "Query",
    "Index",
    "Cache",
    "Ledger",
    "Warehouse",
];
const ROLES: &[&str] = &[
    "Service",
    "Repository",
    "Controller",
    "Mapper",
    "Validator",
    "Client",
    "Handler",
    "Resolver",
    "Factory",
    "Parser",
    "Scheduler",
    "Publisher",
];
const VERBS: &[&str] = &[
    "should",
    "rejects",
    "returns",
    "computes",
    "persists",
    "retries",
    "parses",
    "validates",
    "emits",
    "skips",
    "merges",
    "caches",
];
const OBJECTS: &[&str] = &[
    "EmptyInput",
    "ExpiredToken",
    "DuplicateItems",
    "NegativeAmount",
    "UnicodeName",
    "MissingField",
    "LargePayload",
    "ConcurrentUpdate",
    "NullCustomer",
    "ZeroQuantity",
    "InvalidCurrency",
    "StaleCache",
    "Timeout",
    "PartialRefund",
    "EmptyCart",
];
const CONDITIONS: &[&str] = &[
    "",
    "WhenDisabled",
    "OnFirstCall",
    "AfterRestart",
    "WithDefaults",
    "ForAdmin",
    "InDryRun",
    "UnderLoad",
    "",
];
const EXCEPTIONS: &[&str] = &[
    "org.opentest4j.AssertionFailedError",
    "java.lang.AssertionError",
    "org.junit.ComparisonFailure",
    "java.lang.NullPointerException",
    "java.lang.IllegalStateException",
    "java.util.concurrent.TimeoutException",
];

fn w(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    out.write_fmt(args).expect("writing to a Vec cannot fail");
}

/// A multi-line Java stack trace (XML-escaped: `<init>` appears as `&lt;init&gt;`).
fn stack_trace(
    rng: &mut Rng,
    out: &mut Vec<u8>,
    exception: &str,
    message: &str,
    class: &str,
    method: &str,
) {
    w(out, format_args!("{exception}: {message}\n"));
    let simple = class.rsplit('.').next().unwrap_or(class);
    w(
        out,
        format_args!(
            "\tat {class}.{method}({simple}.java:{})\n",
            20 + rng.below(400)
        ),
    );
    let frames = 6 + rng.below(18);
    for i in 0..frames {
        let noun = rng.pick(NOUNS);
        let role = rng.pick(ROLES);
        let domain = rng.pick(DOMAINS);
        if i % 5 == 4 {
            w(
                out,
                format_args!(
                    "\tat com.example.{domain}.{noun}{role}.&lt;init&gt;({noun}{role}.java:{})\n",
                    1 + rng.below(300)
                ),
            );
        } else {
            w(
                out,
                format_args!(
                    "\tat com.example.{domain}.{noun}{role}.handle{noun}({noun}{role}.java:{})\n",
                    1 + rng.below(900)
                ),
            );
        }
    }
    out.extend_from_slice(
        b"\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\
\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n\
\tat org.junit.platform.commons.util.ReflectionUtils.invokeMethod(ReflectionUtils.java:728)\n\
\tat org.junit.jupiter.engine.execution.MethodInvocation.proceed(MethodInvocation.java:60)\n\
\tat org.apache.maven.surefire.booter.ForkedBooter.main(ForkedBooter.java:495)\n",
    );
}

fn failure_message(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!(
            "expected: &lt;{}&gt; but was: &lt;{}&gt;",
            rng.below(1000),
            rng.below(1000)
        ),
        1 => format!("Timed out after {} ms", 1000 * (1 + rng.below(30))),
        2 => format!(
            "&quot;{}&quot; is not a valid {}",
            rng.pick(OBJECTS),
            rng.pick(NOUNS)
        ),
        _ => "Cannot invoke &quot;Object.hashCode()&quot; because &quot;key&quot; is null"
            .to_string(),
    }
}

fn duration(rng: &mut Rng) -> String {
    // Mostly fast tests, a tail of slow ones; Surefire writes up to 3 decimals.
    let millis = match rng.below(100) {
        0..=69 => rng.below(20),
        70..=94 => 20 + rng.below(500),
        _ => 500 + rng.below(30_000),
    };
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

/// Counts of one suite, written into its attributes.
#[derive(Default, Clone, Copy)]
struct SuiteCounts {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    millis: u64,
}

/// A Maven Surefire style report: `<testsuites>` holding many `<testsuite>`s of ~50
/// `<testcase>`s each. About 3% of cases fail (message, type, stack trace), 1% error, 2% are
/// skipped, 1% are flaky (`<flakyFailure>` with `<stackTrace>`, `<system-out>`), 0.5% fail
/// after reruns (`<failure>` + `<rerunFailure>`), and ~5% carry `<system-out>`.
pub fn junit_surefire(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED);
    // The suites go to `out`, the root's totals are written in front of them at the end.
    let mut out = Vec::with_capacity(target_bytes + 64 * 1024);
    let mut body = Vec::with_capacity(64 * 1024);
    let mut all = SuiteCounts::default();
    let mut suite_no = 0u64;
    while out.len() + 200 < target_bytes {
        suite_no += 1;
        let domain = DOMAINS[(suite_no % DOMAINS.len() as u64) as usize];
        let class = format!(
            "com.example.{domain}.module{}.{}{}{}Test",
            suite_no / 97,
            rng.pick(NOUNS),
            rng.pick(ROLES),
            suite_no
        );
        let cases = 40 + rng.below(21);
        let mut counts = SuiteCounts::default();
        body.clear();
        for i in 0..cases {
            let method = format!(
                "{}{}{}_{i}",
                rng.pick(VERBS),
                rng.pick(OBJECTS),
                rng.pick(CONDITIONS)
            );
            let time = duration(&mut rng);
            let (secs, frac) = time.split_once('.').unwrap();
            counts.millis += secs.parse::<u64>().unwrap() * 1000 + frac.parse::<u64>().unwrap();
            counts.tests += 1;
            w(
                &mut body,
                format_args!(
                    "    <testcase name=\"{method}\" classname=\"{class}\" time=\"{time}\""
                ),
            );
            let roll = rng.below(2000);
            match roll {
                // 3% failed
                0..=59 => {
                    counts.failures += 1;
                    let exc = rng.pick(&EXCEPTIONS[..3]);
                    let msg = failure_message(&mut rng);
                    w(
                        &mut body,
                        format_args!(">\n      <failure message=\"{msg}\" type=\"{exc}\">"),
                    );
                    stack_trace(&mut rng, &mut body, exc, &msg, &class, &method);
                    body.extend_from_slice(b"</failure>\n");
                    if rng.chance(500) {
                        system_out(&mut rng, &mut body, &method);
                    }
                    body.extend_from_slice(b"    </testcase>\n");
                }
                // 1% errored
                60..=79 => {
                    counts.errors += 1;
                    let exc = rng.pick(&EXCEPTIONS[3..]);
                    let msg = failure_message(&mut rng);
                    w(
                        &mut body,
                        format_args!(">\n      <error message=\"{msg}\" type=\"{exc}\">"),
                    );
                    stack_trace(&mut rng, &mut body, exc, &msg, &class, &method);
                    body.extend_from_slice(b"</error>\n    </testcase>\n");
                }
                // 2% skipped
                80..=119 => {
                    counts.skipped += 1;
                    if rng.chance(500) {
                        body.extend_from_slice(
                            b">\n      <skipped message=\"Disabled until the fix lands\"/>\n    </testcase>\n",
                        );
                    } else {
                        body.extend_from_slice(b">\n      <skipped/>\n    </testcase>\n");
                    }
                }
                // 1% flaky: failed, then passed on a rerun
                120..=139 => {
                    body.extend_from_slice(b">\n");
                    for _ in 0..1 + rng.below(2) {
                        let exc = rng.pick(&EXCEPTIONS[..3]);
                        let msg = failure_message(&mut rng);
                        w(
                            &mut body,
                            format_args!(
                                "      <flakyFailure message=\"{msg}\" type=\"{exc}\">\n        <stackTrace>"
                            ),
                        );
                        stack_trace(&mut rng, &mut body, exc, &msg, &class, &method);
                        body.extend_from_slice(b"</stackTrace>\n");
                        w(
                            &mut body,
                            format_args!(
                                "        <system-out><![CDATA[attempt of {method} started\nconnection reset by peer, retrying\n]]></system-out>\n"
                            ),
                        );
                        body.extend_from_slice(b"      </flakyFailure>\n");
                    }
                    body.extend_from_slice(b"    </testcase>\n");
                }
                // 0.5% failed on every rerun
                140..=149 => {
                    counts.failures += 1;
                    let exc = rng.pick(&EXCEPTIONS[..3]);
                    let msg = failure_message(&mut rng);
                    w(
                        &mut body,
                        format_args!(">\n      <failure message=\"{msg}\" type=\"{exc}\">"),
                    );
                    stack_trace(&mut rng, &mut body, exc, &msg, &class, &method);
                    body.extend_from_slice(b"</failure>\n");
                    for _ in 0..1 + rng.below(2) {
                        w(
                            &mut body,
                            format_args!(
                                "      <rerunFailure message=\"{msg}\" type=\"{exc}\">\n        <stackTrace>"
                            ),
                        );
                        stack_trace(&mut rng, &mut body, exc, &msg, &class, &method);
                        body.extend_from_slice(b"</stackTrace>\n      </rerunFailure>\n");
                    }
                    body.extend_from_slice(b"    </testcase>\n");
                }
                // ~5% passed with output
                150..=249 => {
                    body.extend_from_slice(b">\n");
                    system_out(&mut rng, &mut body, &method);
                    body.extend_from_slice(b"    </testcase>\n");
                }
                _ => body.extend_from_slice(b"/>\n"),
            }
        }
        let c = counts;
        all.tests += c.tests;
        all.failures += c.failures;
        all.errors += c.errors;
        all.skipped += c.skipped;
        all.millis += c.millis;
        w(
            &mut out,
            format_args!(
                "  <testsuite xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
xsi:noNamespaceSchemaLocation=\"https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd\" \
version=\"3.0\" name=\"{class}\" time=\"{}.{:03}\" tests=\"{}\" errors=\"{}\" skipped=\"{}\" failures=\"{}\">\n",
                c.millis / 1000,
                c.millis % 1000,
                c.tests,
                c.errors,
                c.skipped,
                c.failures
            ),
        );
        out.extend_from_slice(b"    <properties>\n");
        w(
            &mut out,
            format_args!(
                "      <property name=\"java.version\" value=\"21.0.{}\"/>\n",
                rng.below(5)
            ),
        );
        out.extend_from_slice(b"      <property name=\"os.name\" value=\"Linux\"/>\n");
        w(
            &mut out,
            format_args!(
                "      <property name=\"user.dir\" value=\"/home/runner/work/shop/shop/{domain}\"/>\n"
            ),
        );
        w(
            &mut out,
            format_args!(
                "      <property name=\"surefire.test.class.path\" value=\"/home/runner/work/shop/shop/{domain}/target/test-classes:\
/home/runner/work/shop/shop/{domain}/target/classes:\
/home/runner/.m2/repository/org/junit/jupiter/junit-jupiter-api/5.10.2/junit-jupiter-api-5.10.2.jar\"/>\n"
            ),
        );
        out.extend_from_slice(b"    </properties>\n");
        out.extend_from_slice(&body);
        out.extend_from_slice(b"  </testsuite>\n");
    }
    let mut report = Vec::with_capacity(out.len() + 256);
    w(
        &mut report,
        format_args!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"shop\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}.{:03}\">\n",
            all.tests,
            all.failures,
            all.errors,
            all.skipped,
            all.millis / 1000,
            all.millis % 1000
        ),
    );
    report.extend_from_slice(&out);
    report.extend_from_slice(b"</testsuites>\n");
    report
}

fn system_out(rng: &mut Rng, out: &mut Vec<u8>, method: &str) {
    out.extend_from_slice(b"      <system-out><![CDATA[");
    for _ in 0..2 + rng.below(5) {
        w(
            out,
            format_args!(
                "12:{:02}:{:02}.{:03} [main] INFO  com.example.{}.{}{} - {method}: processed {} items in {} ms\n",
                rng.below(60),
                rng.below(60),
                rng.below(1000),
                rng.pick(DOMAINS),
                rng.pick(NOUNS),
                rng.pick(ROLES),
                rng.below(10_000),
                rng.below(500)
            ),
        );
    }
    out.extend_from_slice(b"]]></system-out>\n");
}

/// One generated source line: number, hits, (branches covered, branches total).
struct GenLine {
    nr: u32,
    hits: u64,
    branch: Option<(u32, u32)>,
}

/// The lines of one source file: increasing numbers with gaps, ~15% uncovered, ~12% with
/// branches (2 or 4 outcomes).
fn gen_lines(rng: &mut Rng) -> Vec<GenLine> {
    let count = 20 + rng.below(300) as usize;
    let mut nr = 0u32;
    let mut lines = Vec::with_capacity(count);
    let dead_file = rng.chance(50);
    for _ in 0..count {
        nr += 1 + rng.below(3) as u32;
        let hits = if dead_file || rng.chance(150) {
            0
        } else if rng.chance(700) {
            1 + rng.below(5)
        } else {
            1 + rng.below(100_000)
        };
        let branch = rng.chance(120).then(|| {
            let total = if rng.chance(800) { 2 } else { 4 };
            let covered = if hits == 0 {
                0
            } else {
                rng.below(u64::from(total) + 1) as u32
            };
            (covered, total)
        });
        lines.push(GenLine { nr, hits, branch });
    }
    lines
}

#[derive(Default, Clone, Copy)]
struct Totals {
    lines_valid: u64,
    lines_covered: u64,
    branches_valid: u64,
    branches_covered: u64,
}

impl Totals {
    fn add_lines(&mut self, lines: &[GenLine]) {
        for l in lines {
            self.lines_valid += 1;
            self.lines_covered += u64::from(l.hits > 0);
            if let Some((c, t)) = l.branch {
                self.branches_valid += u64::from(t);
                self.branches_covered += u64::from(c);
            }
        }
    }

    fn add(&mut self, o: &Totals) {
        self.lines_valid += o.lines_valid;
        self.lines_covered += o.lines_covered;
        self.branches_valid += o.branches_valid;
        self.branches_covered += o.branches_covered;
    }

    fn line_rate(&self) -> f64 {
        if self.lines_valid == 0 {
            1.0
        } else {
            self.lines_covered as f64 / self.lines_valid as f64
        }
    }

    fn branch_rate(&self) -> f64 {
        if self.branches_valid == 0 {
            1.0
        } else {
            self.branches_covered as f64 / self.branches_valid as f64
        }
    }
}

/// A coverage.py style Cobertura report: packages of ~8-20 classes (one per `.py` file),
/// `<methods/>` empty, `<line number hits/>` with `branch="true" condition-coverage="50% (1/2)"
/// missing-branches="..."` on branch lines. Root totals are exact.
pub fn cobertura(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED ^ 0xC0B);
    let mut body = Vec::with_capacity(target_bytes + 64 * 1024);
    let mut pkg = Vec::with_capacity(256 * 1024);
    let mut totals = Totals::default();
    let mut pkg_no = 0u64;
    // ~300 bytes of header are added after the body is known.
    while body.len() + 400 < target_bytes {
        pkg_no += 1;
        let dir = format!(
            "src/shop/{}/sub{}",
            DOMAINS[(pkg_no % DOMAINS.len() as u64) as usize],
            pkg_no
        );
        let mut pkg_totals = Totals::default();
        pkg.clear();
        for f in 0..8 + rng.below(13) {
            let module = format!(
                "{}_{}_{f}.py",
                rng.pick(NOUNS).to_ascii_lowercase(),
                rng.pick(ROLES).to_ascii_lowercase()
            );
            let lines = gen_lines(&mut rng);
            let mut t = Totals::default();
            t.add_lines(&lines);
            pkg_totals.add(&t);
            w(
                &mut pkg,
                format_args!(
                    "\t\t\t\t<class name=\"{module}\" filename=\"{dir}/{module}\" complexity=\"0\" line-rate=\"{:.4}\" branch-rate=\"{:.4}\">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n",
                    t.line_rate(),
                    t.branch_rate()
                ),
            );
            for l in &lines {
                match l.branch {
                    None => w(
                        &mut pkg,
                        format_args!(
                            "\t\t\t\t\t\t<line number=\"{}\" hits=\"{}\"/>\n",
                            l.nr, l.hits
                        ),
                    ),
                    Some((c, t)) => {
                        let pct = 100 * c / t;
                        w(
                            &mut pkg,
                            format_args!(
                                "\t\t\t\t\t\t<line number=\"{}\" hits=\"{}\" branch=\"true\" condition-coverage=\"{pct}% ({c}/{t})\"",
                                l.nr, l.hits
                            ),
                        );
                        if c < t {
                            let missing: Vec<String> =
                                (c..t).map(|k| (l.nr + 1 + k).to_string()).collect();
                            w(
                                &mut pkg,
                                format_args!(" missing-branches=\"{}\"", missing.join(",")),
                            );
                        }
                        pkg.extend_from_slice(b"/>\n");
                    }
                }
            }
            pkg.extend_from_slice(b"\t\t\t\t\t</lines>\n\t\t\t\t</class>\n");
        }
        totals.add(&pkg_totals);
        w(
            &mut body,
            format_args!(
                "\t\t<package name=\"{}\" line-rate=\"{:.4}\" branch-rate=\"{:.4}\" complexity=\"0\">\n\t\t\t<classes>\n",
                dir.replace('/', "."),
                pkg_totals.line_rate(),
                pkg_totals.branch_rate()
            ),
        );
        body.extend_from_slice(&pkg);
        body.extend_from_slice(b"\t\t\t</classes>\n\t\t</package>\n");
    }
    let mut out = Vec::with_capacity(body.len() + 1024);
    w(
        &mut out,
        format_args!(
            "<?xml version=\"1.0\" ?>\n<coverage version=\"7.6.1\" timestamp=\"1730000000000\" lines-valid=\"{}\" lines-covered=\"{}\" line-rate=\"{:.4}\" branches-valid=\"{}\" branches-covered=\"{}\" branch-rate=\"{:.4}\" complexity=\"0\">\n\
\t<!-- Generated by coverage.py: https://coverage.readthedocs.io/en/7.6.1 -->\n\
\t<!-- Based on https://raw.githubusercontent.com/cobertura/web/master/htdocs/xml/coverage-04.dtd -->\n\
\t<sources>\n\t\t<source>/home/runner/work/shop/shop</source>\n\t</sources>\n\t<packages>\n",
            totals.lines_valid,
            totals.lines_covered,
            totals.line_rate(),
            totals.branches_valid,
            totals.branches_covered,
            totals.branch_rate()
        ),
    );
    out.extend_from_slice(&body);
    out.extend_from_slice(b"\t</packages>\n</coverage>\n");
    out
}

/// JaCoCo counters of a set of lines: (instructions missed, covered), lines, branches.
struct JacocoCounters {
    instr: (u64, u64),
    branch: (u64, u64),
    line: (u64, u64),
    methods: (u64, u64),
}

impl JacocoCounters {
    /// Adds a child's counters (a class into its package, a package into the report).
    fn add(&mut self, other: &JacocoCounters) {
        for (a, b) in [
            (&mut self.instr, other.instr),
            (&mut self.branch, other.branch),
            (&mut self.line, other.line),
            (&mut self.methods, other.methods),
        ] {
            a.0 += b.0;
            a.1 += b.1;
        }
    }
}

fn jacoco_counters(
    out: &mut Vec<u8>,
    indent: &str,
    c: &JacocoCounters,
    with_class: Option<(u64, u64)>,
) {
    w(
        out,
        format_args!(
            "{indent}<counter type=\"INSTRUCTION\" missed=\"{}\" covered=\"{}\"/>\n",
            c.instr.0, c.instr.1
        ),
    );
    if c.branch.0 + c.branch.1 > 0 {
        w(
            out,
            format_args!(
                "{indent}<counter type=\"BRANCH\" missed=\"{}\" covered=\"{}\"/>\n",
                c.branch.0, c.branch.1
            ),
        );
    }
    w(
        out,
        format_args!(
            "{indent}<counter type=\"LINE\" missed=\"{}\" covered=\"{}\"/>\n",
            c.line.0, c.line.1
        ),
    );
    w(
        out,
        format_args!(
            "{indent}<counter type=\"COMPLEXITY\" missed=\"{}\" covered=\"{}\"/>\n",
            c.methods.0 + c.branch.0 / 2,
            c.methods.1 + c.branch.1 / 2
        ),
    );
    w(
        out,
        format_args!(
            "{indent}<counter type=\"METHOD\" missed=\"{}\" covered=\"{}\"/>\n",
            c.methods.0, c.methods.1
        ),
    );
    if let Some((m, cv)) = with_class {
        w(
            out,
            format_args!("{indent}<counter type=\"CLASS\" missed=\"{m}\" covered=\"{cv}\"/>\n"),
        );
    }
}

/// A JaCoCo XML report: `<report>` with `<package>`s of classes; each class has a few
/// `<method>`s with counters, then its `<sourcefile>` lists `<line nr mi ci mb cb/>` and
/// counters; package and report counters are exact sums.
pub fn jacoco(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED ^ 0x7AC0C0);
    let mut out = Vec::with_capacity(target_bytes + 64 * 1024);
    out.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"shop\">\
<sessioninfo id=\"runner-4f2a9c31\" start=\"1730000000000\" dump=\"1730000123456\"/>",
    );
    let mut all = JacocoCounters {
        instr: (0, 0),
        branch: (0, 0),
        line: (0, 0),
        methods: (0, 0),
    };
    let mut all_classes = (0u64, 0u64);
    let mut classes_xml = Vec::with_capacity(64 * 1024);
    let mut sources_xml = Vec::with_capacity(256 * 1024);
    let mut pkg_no = 0u64;
    while out.len() + 1024 < target_bytes {
        pkg_no += 1;
        let pkg = format!(
            "com/example/{}/module{pkg_no}",
            DOMAINS[(pkg_no % DOMAINS.len() as u64) as usize]
        );
        let mut p = JacocoCounters {
            instr: (0, 0),
            branch: (0, 0),
            line: (0, 0),
            methods: (0, 0),
        };
        let mut p_classes = (0u64, 0u64);
        classes_xml.clear();
        sources_xml.clear();
        for k in 0..5 + rng.below(16) {
            let simple = format!("{}{}{k}", rng.pick(NOUNS), rng.pick(ROLES));
            let lines = gen_lines(&mut rng);
            // Per line: mi/ci instructions; a line is covered when ci > 0.
            let mut c = JacocoCounters {
                instr: (0, 0),
                branch: (0, 0),
                line: (0, 0),
                methods: (0, 0),
            };
            let mut per_line = Vec::with_capacity(lines.len());
            for l in &lines {
                let n = 1 + rng.below(12);
                let (mi, ci) = if l.hits == 0 {
                    (n, 0)
                } else if rng.chance(100) {
                    let m = rng.below(n);
                    (m, n - m.min(n - 1))
                } else {
                    (0, n)
                };
                let (mb, cb) = match l.branch {
                    Some((cv, t)) if ci > 0 => (u64::from(t - cv), u64::from(cv)),
                    Some((_, t)) => (u64::from(t), 0),
                    None => (0, 0),
                };
                c.instr.0 += mi;
                c.instr.1 += ci;
                c.branch.0 += mb;
                c.branch.1 += cb;
                if ci > 0 {
                    c.line.1 += 1
                } else {
                    c.line.0 += 1
                }
                per_line.push((l.nr, mi, ci, mb, cb));
            }
            let methods = 1 + (lines.len() as u64) / 12;
            let missed_methods = (c.line.0 * methods) / (c.line.0 + c.line.1).max(1);
            c.methods = (missed_methods, methods - missed_methods);
            let class_cov = if c.methods.1 > 0 { (0, 1) } else { (1, 0) };

            w(
                &mut classes_xml,
                format_args!("<class name=\"{pkg}/{simple}\" sourcefilename=\"{simple}.java\">"),
            );
            let mut first = per_line.iter();
            for m in 0..methods {
                let start = first.nth(if m == 0 { 0 } else { 11 }).map_or(1, |l| l.0);
                let covered = m >= c.methods.0;
                let name = if m == 0 {
                    "&lt;init&gt;".to_string()
                } else {
                    format!("{}{}", rng.pick(VERBS), rng.pick(OBJECTS))
                };
                w(
                    &mut classes_xml,
                    format_args!(
                        "<method name=\"{name}\" desc=\"(Ljava/lang/String;I)V\" line=\"{start}\">\
<counter type=\"INSTRUCTION\" missed=\"{}\" covered=\"{}\"/><counter type=\"LINE\" missed=\"{}\" covered=\"{}\"/>\
<counter type=\"COMPLEXITY\" missed=\"{}\" covered=\"{}\"/><counter type=\"METHOD\" missed=\"{}\" covered=\"{}\"/></method>",
                        if covered { 0 } else { 9 },
                        if covered { 9 } else { 0 },
                        if covered { 0 } else { 3 },
                        if covered { 3 } else { 0 },
                        u8::from(!covered),
                        u8::from(covered),
                        u8::from(!covered),
                        u8::from(covered)
                    ),
                );
            }
            let mut counters = Vec::new();
            jacoco_counters(&mut counters, "", &c, Some(class_cov));
            classes_xml.extend_from_slice(&counters);
            classes_xml.extend_from_slice(b"</class>");

            w(
                &mut sources_xml,
                format_args!("<sourcefile name=\"{simple}.java\">"),
            );
            for (nr, mi, ci, mb, cb) in &per_line {
                w(
                    &mut sources_xml,
                    format_args!(
                        "<line nr=\"{nr}\" mi=\"{mi}\" ci=\"{ci}\" mb=\"{mb}\" cb=\"{cb}\"/>"
                    ),
                );
            }
            jacoco_counters(&mut sources_xml, "", &c, Some(class_cov));
            sources_xml.extend_from_slice(b"</sourcefile>");

            p.add(&c);
            p_classes.0 += class_cov.0;
            p_classes.1 += class_cov.1;
        }
        w(&mut out, format_args!("<package name=\"{pkg}\">"));
        out.extend_from_slice(&classes_xml);
        out.extend_from_slice(&sources_xml);
        jacoco_counters(&mut out, "", &p, Some(p_classes));
        out.extend_from_slice(b"</package>");
        all.add(&p);
        all_classes.0 += p_classes.0;
        all_classes.1 += p_classes.1;
    }
    jacoco_counters(&mut out, "", &all, Some(all_classes));
    out.extend_from_slice(b"</report>");
    out
}

/// An LCOV tracefile (lcov/geninfo or istanbul style): per source file `TN:`, `SF:`,
/// `FN`/`FNDA`/`FNF`/`FNH`, `DA:line,hits`, `BRDA:line,block,branch,taken` (`-` when the line
/// never ran), `BRF`/`BRH`, `LF`/`LH`, `end_of_record`. Declared totals are exact.
pub fn lcov(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED ^ 0x1C0F);
    let mut out = Vec::with_capacity(target_bytes + 64 * 1024);
    let mut file_no = 0u64;
    while out.len() < target_bytes {
        file_no += 1;
        let path = format!(
            "/home/runner/work/shop/shop/src/{}/{}{}{file_no}.ts",
            DOMAINS[(file_no % DOMAINS.len() as u64) as usize],
            rng.pick(NOUNS).to_ascii_lowercase(),
            rng.pick(ROLES)
        );
        let lines = gen_lines(&mut rng);
        w(&mut out, format_args!("TN:\nSF:{path}\n"));
        let functions: Vec<(u32, String, u64)> = lines
            .iter()
            .step_by(10)
            .map(|l| {
                (
                    l.nr,
                    format!("{}{}", rng.pick(VERBS), rng.pick(OBJECTS)),
                    l.hits,
                )
            })
            .collect();
        for (nr, name, _) in &functions {
            w(&mut out, format_args!("FN:{nr},{name}\n"));
        }
        for (_, name, hits) in &functions {
            w(&mut out, format_args!("FNDA:{hits},{name}\n"));
        }
        let fnh = functions.iter().filter(|f| f.2 > 0).count();
        w(
            &mut out,
            format_args!("FNF:{}\nFNH:{fnh}\n", functions.len()),
        );
        let (mut brf, mut brh) = (0u32, 0u32);
        for l in &lines {
            w(&mut out, format_args!("DA:{},{}\n", l.nr, l.hits));
        }
        for l in &lines {
            if let Some((c, t)) = l.branch {
                for b in 0..t {
                    brf += 1;
                    if l.hits == 0 {
                        w(&mut out, format_args!("BRDA:{},0,{b},-\n", l.nr));
                    } else if b < c {
                        brh += 1;
                        w(
                            &mut out,
                            format_args!("BRDA:{},0,{b},{}\n", l.nr, 1 + rng.below(l.hits)),
                        );
                    } else {
                        w(&mut out, format_args!("BRDA:{},0,{b},0\n", l.nr));
                    }
                }
            }
        }
        let lh = lines.iter().filter(|l| l.hits > 0).count();
        w(
            &mut out,
            format_args!(
                "BRF:{brf}\nBRH:{brh}\nLF:{}\nLH:{lh}\nend_of_record\n",
                lines.len()
            ),
        );
    }
    out
}

/// A SARIF 2.1.0 log as CodeQL writes it for a large repository: one run, a driver with
/// rules (with help text, tags and `security-severity`), and results with a location, a
/// region, partial fingerprints, code flows left out; a few suppressed.
pub fn sarif(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED ^ 0x5A21F);
    let mut out = Vec::with_capacity(target_bytes + 64 * 1024);
    out.extend_from_slice(
        br#"{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL","semanticVersion":"2.19.0","rules":["#,
    );
    let rules = 200;
    for r in 0..rules {
        if r > 0 {
            out.push(b',');
        }
        let tags = if r % 3 == 0 {
            r#"["security","external/cwe/cwe-079"]"#
        } else {
            r#"["maintainability","correctness"]"#
        };
        w(
            &mut out,
            format_args!(
                r##"{{"id":"js/rule-{r}","name":"{}{}","shortDescription":{{"text":"{} {}"}},"defaultConfiguration":{{"level":"{}"}},"help":{{"text":"{}","markdown":"# {}\n\n{}"}},"properties":{{"tags":{tags},"precision":"high"{}}}}}"##,
                rng.pick(VERBS),
                rng.pick(OBJECTS),
                rng.pick(VERBS),
                rng.pick(OBJECTS),
                ["error", "warning", "note"][r % 3],
                "Explains the rule and how to fix what it finds. ".repeat(8),
                rng.pick(NOUNS),
                "A longer explanation with an example of the problem and of the fix. ".repeat(12),
                if r % 3 == 0 {
                    format!(r#","security-severity":"{}.{}""#, 4 + r % 6, r % 10)
                } else {
                    String::new()
                },
            ),
        );
    }
    out.extend_from_slice(br#"]}},"results":["#);
    let mut n = 0u64;
    while out.len() < target_bytes {
        if n > 0 {
            out.push(b',');
        }
        n += 1;
        let rule = rng.below(rules as u64);
        let file = format!(
            "src/{}/{}{}.js",
            DOMAINS[(n % DOMAINS.len() as u64) as usize],
            rng.pick(NOUNS).to_ascii_lowercase(),
            rng.below(500)
        );
        let line = 1 + rng.below(2000);
        let suppressed = if rng.chance(20) {
            r#","suppressions":[{"kind":"inSource"}]"#
        } else {
            ""
        };
        w(
            &mut out,
            format_args!(
                r#"{{"ruleId":"js/rule-{rule}","ruleIndex":{rule},"message":{{"text":"This {} {} flows to a {} without being sanitized."}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{file}","uriBaseId":"%SRCROOT%","index":{}}},"region":{{"startLine":{line},"startColumn":{},"endColumn":{}}}}}}}],"partialFingerprints":{{"primaryLocationLineHash":"{:016x}:1","primaryLocationStartColumnFingerprint":"{}"}}{suppressed}}}"#,
                rng.pick(NOUNS).to_ascii_lowercase(),
                rng.pick(OBJECTS).to_ascii_lowercase(),
                rng.pick(OBJECTS).to_ascii_lowercase(),
                rng.below(100),
                1 + rng.below(40),
                41 + rng.below(40),
                rng.next_u64(),
                rng.below(30),
            ),
        );
    }
    out.extend_from_slice(br#"]}]}"#);
    out
}

/// The generator for a format name, as the example and the benches spell them.
pub fn by_name(format: &str) -> Option<fn(usize) -> Vec<u8>> {
    Some(match format {
        "junit" => junit_surefire,
        "cobertura" => cobertura,
        "jacoco" => jacoco,
        "lcov" => lcov,
        "sarif" => sarif,
        _ => return None,
    })
}
