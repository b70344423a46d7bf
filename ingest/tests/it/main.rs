//! The reader's integration tests: one test binary, one module per concern. They read the
//! reports in the repository's `samples/` and the shared corpus beside the repository.

mod corpus;
mod fastpath;
mod robustness;
mod samples;
mod stream;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The shared corpus beside the repository, if it is there.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CIMETRICS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/corpus"));
    dir.join("expected.json").is_file().then_some(dir)
}

/// Every file below `dir`, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Summarises a file with the default options.
pub fn summarize(path: &Path) -> Result<cimetrics_ingest::Summary, cimetrics_ingest::Error> {
    let file = std::fs::File::open(path).expect("file opens");
    cimetrics_ingest::summarize(file, &cimetrics_ingest::Options::default())
}
