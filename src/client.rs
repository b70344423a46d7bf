//! The commands that talk to a running service: `cimetrics upload` and
//! `cimetrics project create`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cimetrics_api::service::percent_encode as encode;

/// The CI a job runs in, read from its environment.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CiEnv {
    pub provider: Option<&'static str>,
    pub build: Option<String>,
    pub number: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub url: Option<String>,
    /// 1-based shard and shard count, from the CI's parallelism variables.
    pub shard: Option<(u32, u32)>,
}

/// What the environment says about the build: GitHub Actions, GitLab CI, Jenkins, Travis,
/// CircleCI, Buildkite, Azure Pipelines.
pub fn detect(var: &dyn Fn(&str) -> Option<String>) -> CiEnv {
    let v = |k: &str| var(k).filter(|s| !s.is_empty());
    let num = |k: &str| v(k).and_then(|s| s.parse::<u32>().ok());
    if v("GITHUB_ACTIONS").is_some() {
        let run = v("GITHUB_RUN_ID");
        return CiEnv {
            provider: Some("github-actions"),
            // A re-run of the workflow is another build of the same commit.
            build: run.as_ref().map(|r| match v("GITHUB_RUN_ATTEMPT") {
                Some(a) if a != "1" => format!("{r}-{a}"),
                _ => r.clone(),
            }),
            number: v("GITHUB_RUN_NUMBER"),
            commit: v("GITHUB_SHA"),
            branch: v("GITHUB_HEAD_REF").or_else(|| v("GITHUB_REF_NAME")),
            url: match (v("GITHUB_SERVER_URL"), v("GITHUB_REPOSITORY"), run) {
                (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
                _ => None,
            },
            shard: None,
        };
    }
    if v("GITLAB_CI").is_some() {
        return CiEnv {
            provider: Some("gitlab"),
            build: v("CI_PIPELINE_ID"),
            number: v("CI_PIPELINE_IID"),
            commit: v("CI_COMMIT_SHA"),
            branch: v("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME").or_else(|| v("CI_COMMIT_REF_NAME")),
            url: v("CI_PIPELINE_URL"),
            shard: num("CI_NODE_INDEX").zip(num("CI_NODE_TOTAL")),
        };
    }
    if v("JENKINS_URL").is_some() {
        return CiEnv {
            provider: Some("jenkins"),
            build: v("BUILD_TAG").or_else(|| v("BUILD_ID")),
            number: v("BUILD_NUMBER"),
            commit: v("GIT_COMMIT"),
            branch: v("CHANGE_BRANCH")
                .or_else(|| v("BRANCH_NAME"))
                .or_else(|| v("GIT_BRANCH").map(|b| b.trim_start_matches("origin/").to_owned())),
            url: v("BUILD_URL"),
            shard: None,
        };
    }
    if v("TRAVIS").is_some() {
        return CiEnv {
            provider: Some("travis"),
            build: v("TRAVIS_BUILD_ID"),
            number: v("TRAVIS_BUILD_NUMBER"),
            commit: v("TRAVIS_COMMIT"),
            branch: v("TRAVIS_PULL_REQUEST_BRANCH").or_else(|| v("TRAVIS_BRANCH")),
            url: v("TRAVIS_BUILD_WEB_URL"),
            shard: None,
        };
    }
    if v("CIRCLECI").is_some() {
        return CiEnv {
            provider: Some("circleci"),
            build: v("CIRCLE_WORKFLOW_ID").or_else(|| v("CIRCLE_BUILD_NUM")),
            number: v("CIRCLE_BUILD_NUM"),
            commit: v("CIRCLE_SHA1"),
            branch: v("CIRCLE_BRANCH"),
            url: v("CIRCLE_BUILD_URL"),
            shard: num("CIRCLE_NODE_INDEX")
                .map(|i| i + 1)
                .zip(num("CIRCLE_NODE_TOTAL")),
        };
    }
    if v("BUILDKITE").is_some() {
        return CiEnv {
            provider: Some("buildkite"),
            build: v("BUILDKITE_BUILD_ID"),
            number: v("BUILDKITE_BUILD_NUMBER"),
            commit: v("BUILDKITE_COMMIT"),
            branch: v("BUILDKITE_BRANCH"),
            url: v("BUILDKITE_BUILD_URL"),
            shard: num("BUILDKITE_PARALLEL_JOB")
                .map(|i| i + 1)
                .zip(num("BUILDKITE_PARALLEL_JOB_COUNT")),
        };
    }
    if v("TF_BUILD").is_some() {
        let id = v("BUILD_BUILDID");
        return CiEnv {
            provider: Some("azure-pipelines"),
            build: id.clone(),
            number: v("BUILD_BUILDNUMBER"),
            commit: v("BUILD_SOURCEVERSION"),
            branch: v("SYSTEM_PULLREQUEST_SOURCEBRANCH")
                .or_else(|| v("BUILD_SOURCEBRANCH"))
                .map(|b| b.trim_start_matches("refs/heads/").to_owned()),
            url: match (v("SYSTEM_COLLECTIONURI"), v("SYSTEM_TEAMPROJECT"), id) {
                (Some(c), Some(p), Some(id)) => Some(format!("{c}{p}/_build/results?buildId={id}")),
                _ => None,
            },
            shard: num("SYSTEM_JOBPOSITIONINPHASE").zip(num("SYSTEM_TOTALJOBSINPHASE")),
        };
    }
    CiEnv::default()
}

#[derive(clap::Args)]
pub struct UploadArgs {
    /// The cimetrics server, e.g. https://cimetrics.example.com.
    #[arg(long, env = "CIMETRICS_SERVER")]
    server: String,
    /// The project's upload token.
    #[arg(long, env = "CIMETRICS_TOKEN", hide_env_values = true)]
    token: String,
    /// The project.
    #[arg(long, env = "CIMETRICS_PROJECT")]
    project: String,
    /// The CI's build id (default: from the CI's environment).
    #[arg(long)]
    build: Option<String>,
    /// Commit SHA (default: from the CI's environment).
    #[arg(long)]
    commit: Option<String>,
    /// Branch (default: from the CI's environment).
    #[arg(long)]
    branch: Option<String>,
    /// The build's outcome, when this job knows it (it wins over the tests' verdict, and
    /// finishes the build after the files are sent).
    #[arg(long, value_parser = ["passed", "failed", "cancelled"])]
    status: Option<String>,
    /// The build is over: finish it after the files are sent (its status derived from all
    /// its reports, unless --status says it).
    #[arg(long)]
    finish: bool,
    /// This job's shard (1-based; default: from the CI's parallelism variables, else 1).
    #[arg(long)]
    shard: Option<u32>,
    /// How many shards the build has.
    #[arg(long)]
    shards: Option<u32>,
    /// Attempts on 5xx answers and network errors (with backoff).
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// Have the server refuse a report that reads with any warning (an odd value, declared
    /// totals that disagree) instead of storing it with its warnings.
    #[arg(long)]
    strict: bool,
    /// The files' format, instead of detecting it (`lint-text` for flake8, ruff concise or
    /// mypy output, which cannot be detected).
    #[arg(long)]
    format: Option<String>,
    /// The tool of code-quality reports that do not name theirs (lint text, Checkstyle).
    #[arg(long)]
    tool: Option<String>,
    /// Lines of code, for the build's code-quality ratings (default: its coverage's lines).
    #[arg(long)]
    loc: Option<u64>,
    /// Report files (any supported format; sent gzipped). None with --finish or --status.
    #[arg(value_name = "FILE", required_unless_present_any = ["finish", "status"])]
    files: Vec<PathBuf>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

/// Sends with retries: 5xx and network errors are retried with backoff (1, 2, 4, ... s);
/// anything else is the answer.
fn send(
    retries: u32,
    mut attempt: impl FnMut() -> Result<(u16, String), ureq::Error>,
) -> Result<(u16, String)> {
    let mut wait = Duration::from_secs(1);
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt() {
            Ok((status, body)) if status < 500 => return Ok((status, body)),
            Ok((status, body)) if tries > retries => return Ok((status, body)),
            Err(e) if tries > retries => return Err(e).context("the server cannot be reached"),
            Ok((status, _)) => eprintln!(
                "cimetrics: server answered {status}; retrying in {} s",
                wait.as_secs()
            ),
            Err(e) => eprintln!("cimetrics: {e}; retrying in {} s", wait.as_secs()),
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

pub fn upload(args: &UploadArgs) -> Result<ExitCode> {
    let env = detect(&|k| std::env::var(k).ok());
    let build = args
        .build
        .clone()
        .or(env.build.clone())
        .context("no build id: pass --build (no CI environment recognised)")?;
    let (shard, shards) = match (args.shard, args.shards, env.shard) {
        (Some(s), n, _) => (s, n),
        (None, n, Some((s, total))) => (s, n.or(Some(total))),
        (None, n, None) => (1, n),
    };
    let mut query = vec![("shard", shard.to_string())];
    let mut put = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            query.push((k, v));
        }
    };
    put("shards", shards.map(|n| n.to_string()));
    put("commit", args.commit.clone().or(env.commit.clone()));
    put("branch", args.branch.clone().or(env.branch.clone()));
    put(
        "number",
        env.number.clone().filter(|n| n.parse::<i64>().is_ok()),
    );
    put("ci_provider", env.provider.map(str::to_owned));
    put("ci_url", env.url.clone());
    put("strict", args.strict.then(|| "true".to_owned()));
    put("format", args.format.clone());
    put("tool", args.tool.clone());
    put("loc", args.loc.map(|n| n.to_string()));
    let base = format!(
        "{}/api/v1/projects/{}/builds/{}/reports",
        args.server.trim_end_matches('/'),
        encode(&args.project),
        encode(&build)
    );
    let agent = agent();
    let mut failed = false;
    for path in &args.files {
        let mut raw = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut raw))
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&raw)?;
            e.finish()?
        };
        let url = format!(
            "{base}?{}&name={}",
            query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect::<Vec<_>>()
                .join("&"),
            encode(&name)
        );
        let (status, body) = send(args.retries, || {
            let mut resp = agent
                .post(&url)
                .header("Authorization", &format!("Bearer {}", args.token))
                .header("Content-Encoding", "gzip")
                .header("Content-Type", "application/octet-stream")
                .send(&gz[..])?;
            let status = resp.status().as_u16();
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            Ok((status, body))
        })?;
        if (200..300).contains(&status) {
            println!(
                "{}: sent {} bytes ({} gzipped) to build {build} shard {shard}: {}",
                path.display(),
                raw.len(),
                gz.len(),
                summary(&body)
            );
        } else {
            failed = true;
            eprintln!("{}: refused ({status}): {}", path.display(), detail(&body));
        }
    }
    if !failed && (args.finish || args.status.is_some()) {
        failed = !finish(args, &agent, &build, &query)?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Tells the server the build is over: its metadata with the status (`PUT`), or `finalize`.
fn finish(
    args: &UploadArgs,
    agent: &ureq::Agent,
    build: &str,
    query: &[(&str, String)],
) -> Result<bool> {
    let base = format!(
        "{}/api/v1/projects/{}/builds/{}",
        args.server.trim_end_matches('/'),
        encode(&args.project),
        encode(build)
    );
    let (status, body) = send(args.retries, || {
        let mut resp = match &args.status {
            Some(s) => {
                let mut meta: serde_json::Map<String, serde_json::Value> = query
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            *k,
                            "shard" | "shards" | "number" | "strict" | "format" | "tool"
                        )
                    })
                    .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
                    .collect();
                meta.insert("status".into(), s.clone().into());
                agent
                    .put(&base)
                    .header("Authorization", &format!("Bearer {}", args.token))
                    .header("Content-Type", "application/json")
                    .send(serde_json::Value::Object(meta).to_string().as_bytes())?
            }
            None => agent
                .post(&format!("{base}/finalize"))
                .header("Authorization", &format!("Bearer {}", args.token))
                .send(&[][..])?,
        };
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Ok((status, body))
    })?;
    if (200..300).contains(&status) {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        println!(
            "build {build} finished: {} ({})",
            v["status"].as_str().unwrap_or("?"),
            match v["status_source"].as_str() {
                Some("ci") => "as the CI said",
                Some("tests") => "from its tests",
                _ => "no verdict",
            }
        );
        Ok(true)
    } else {
        eprintln!("build {build}: not finished ({status}): {}", detail(&body));
        Ok(false)
    }
}

fn summary(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.trim().to_owned();
    };
    let format = v["format"].as_str().unwrap_or("?");
    if let Some(t) = v["tests"].as_object() {
        let n = |k: &str| t.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        return format!(
            "{format}, {} tests: {} passed ({} flaky), {} failed, {} errored, {} skipped",
            n("total"),
            n("passed"),
            n("flaky"),
            n("failed"),
            n("errored"),
            n("skipped")
        );
    }
    if let Some(c) = v["coverage"].as_object() {
        let n = |k: &str| c.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        return format!(
            "{format}, lines {}/{}",
            n("lines_covered"),
            n("lines_valid")
        );
    }
    format.to_owned()
}

fn detail(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

#[derive(clap::Subcommand)]
pub enum ProjectCommand {
    /// Create a project (or find it) and print a new upload token for it (last line).
    Create(CreateArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// The project's name.
    name: String,
    /// The cimetrics server.
    #[arg(long, env = "CIMETRICS_SERVER")]
    server: String,
    /// The admin token.
    #[arg(long, env = "CIMETRICS_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

pub fn project(cmd: &ProjectCommand) -> Result<ExitCode> {
    let ProjectCommand::Create(args) = cmd;
    let url = format!("{}/api/v1/projects", args.server.trim_end_matches('/'));
    let agent = agent();
    let body = serde_json::json!({ "name": args.name }).to_string();
    let (status, text) = send(3, || {
        let mut resp = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", args.admin_token))
            .header("Content-Type", "application/json")
            .send(body.as_bytes())?;
        let status = resp.status().as_u16();
        Ok((status, resp.body_mut().read_to_string().unwrap_or_default()))
    })?;
    if !(200..300).contains(&status) {
        bail!("the server refused ({status}): {}", detail(&text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).context("the server's answer")?;
    if args.json {
        println!("{v}");
    } else {
        println!("project {} created; its upload token:", args.name);
        println!("{}", v["upload_token"].as_str().unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn github_actions_rerun_is_its_own_build_and_pull_requests_use_the_head_branch() {
        let e = detect(&env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "123"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_SHA", "abc"),
            ("GITHUB_REF_NAME", "45/merge"),
            ("GITHUB_HEAD_REF", "feature/x"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
        ]));
        assert_eq!(e.provider, Some("github-actions"));
        assert_eq!(e.build.as_deref(), Some("123-2"));
        assert_eq!(e.branch.as_deref(), Some("feature/x"));
        assert_eq!(
            e.url.as_deref(),
            Some("https://github.com/o/r/actions/runs/123")
        );
    }

    #[test]
    fn zero_based_parallel_indexes_become_one_based_shards() {
        let circle = detect(&env(&[
            ("CIRCLECI", "true"),
            ("CIRCLE_NODE_INDEX", "0"),
            ("CIRCLE_NODE_TOTAL", "4"),
        ]));
        assert_eq!(circle.shard, Some((1, 4)));
        let gitlab = detect(&env(&[
            ("GITLAB_CI", "true"),
            ("CI_NODE_INDEX", "2"),
            ("CI_NODE_TOTAL", "3"),
        ]));
        assert_eq!(gitlab.shard, Some((2, 3)));
        let jenkins = detect(&env(&[
            ("JENKINS_URL", "http://j"),
            ("GIT_BRANCH", "origin/main"),
        ]));
        assert_eq!(jenkins.branch.as_deref(), Some("main"));
        assert_eq!(detect(&env(&[])), CiEnv::default());
    }
}
