//! Sets `cfg(corpus_absent)` when the shared corpus is not there, so that the tests that read
//! it show as ignored instead of passing without having read it. The corpus is the directory
//! `$CIMETRICS_CORPUS`, else `../shared/corpus` beside the repository; it is there when it
//! holds `expected.json`.
//!
//! Cargo runs this again when `CIMETRICS_CORPUS` changes or the corpus's `expected.json` does,
//! and, while the corpus is absent, only when this file changes: a path that does not exist
//! would make cargo run it, and rebuild the crate and all that depend on it, on every build.
//! After putting the corpus in place, `touch ingest/build.rs` (or set `CIMETRICS_CORPUS`).

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(corpus_absent)");
    println!("cargo::rerun-if-env-changed=CIMETRICS_CORPUS");
    let dir = match std::env::var_os("CIMETRICS_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
            PathBuf::from(manifest).join("../../shared/corpus")
        }
    };
    let expected = dir.join("expected.json");
    if expected.is_file() {
        println!("cargo::rerun-if-changed={}", expected.display());
    } else {
        println!("cargo::rerun-if-changed=build.rs");
        println!("cargo::rustc-cfg=corpus_absent");
    }
}
