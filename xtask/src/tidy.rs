//! Tidy checks, run by plain `cargo test`: file headers, test conventions, and the layering of
//! the crates, so that a local test pass predicts a green CI.

use std::path::{Path, PathBuf};

use crate::cmd::{cargo, workspace_root};

/// Every `.rs` file under `crates/` and `xtask/`.
fn rust_files() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut pending = vec![root.join("crates"), root.join("xtask")];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root()).unwrap_or(path).display().to_string()
}

#[test]
fn every_rust_file_starts_with_a_doc_comment() {
    let missing: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| !std::fs::read_to_string(path).unwrap().starts_with("//!"))
        .map(|path| relative(&path))
        .collect();
    assert!(missing.is_empty(), "files without a `//!` header: {missing:?}");
}

#[test]
fn no_should_panic_or_ignore_outside_loom_models() {
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| !relative(path).contains("loom") && !path.ends_with("xtask/src/tidy.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.contains("#[should_panic") || text.contains("#[ignore")
        })
        .map(|path| relative(&path))
        .collect();
    assert!(offenders.is_empty(), "assert on the Err instead: {offenders:?}");
}

#[test]
fn metrics_types_does_no_io() {
    let src = workspace_root().join("crates/metrics-types/src");
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| path.starts_with(&src) && !path.ends_with("tests.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            ["std::fs", "std::net", "std::process", "File::"].iter().any(|io| text.contains(io))
        })
        .map(|path| relative(&path))
        .collect();
    assert!(offenders.is_empty(), "metrics-types must not do I/O: {offenders:?}");
}

/// The normal (non-dev) dependency names of a package, transitively.
fn dependency_names(package: &str) -> Vec<String> {
    let output = cargo(&[
        "tree",
        "--offline",
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ])
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn check_layering(package: &str, forbidden: &[&str]) {
    let names = dependency_names(package);
    let found: Vec<&&str> =
        forbidden.iter().filter(|name| names.iter().any(|n| n == *name)).collect();
    assert!(found.is_empty(), "{package} must not depend on {found:?} (see docs/ARCHITECTURE.md)");
}

#[test]
fn crates_depend_only_downwards() {
    check_layering("metrics-types", &["atomic-fs", "metrics-store", "rustix", "libc", "tempfile"]);
    check_layering("atomic-fs", &["metrics-types", "metrics-store", "serde", "serde_json"]);
    check_layering("metrics-store", &["metrics-cli", "metrics-server", "tokio", "axum"]);
    check_layering("metrics-types", &["metrics-server", "tokio", "axum"]);
    check_layering("metrics-server", &["metrics-cli", "clap"]);
}

#[test]
fn internal_dependencies_are_version_zero() {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    for line in manifest.lines().filter(|line| line.contains("path = \"crates/")) {
        assert!(
            line.contains("version = \"0.0.0\""),
            "internal dependency without version 0.0.0: {line}"
        );
    }
}

/// Each crate has one integration-test binary, `tests/<name>/main.rs`; a file beside it that
/// `main.rs` does not declare as a module would silently never run.
#[test]
fn every_integration_test_file_is_a_module_of_its_binary() {
    let mut unlisted = Vec::new();
    for crate_dir in std::fs::read_dir(workspace_root().join("crates")).unwrap() {
        let tests = crate_dir.unwrap().path().join("tests");
        let Ok(binaries) = std::fs::read_dir(&tests) else { continue };
        for binary in binaries {
            let binary = binary.unwrap().path();
            let Ok(main) = std::fs::read_to_string(binary.join("main.rs")) else { continue };
            for entry in std::fs::read_dir(&binary).unwrap() {
                let path = entry.unwrap().path();
                let Some(module) = path.file_stem().and_then(|stem| stem.to_str()) else {
                    continue;
                };
                let is_rust = path.extension().is_some_and(|ext| ext == "rs");
                if is_rust && module != "main" && !main.contains(&format!("mod {module};")) {
                    unlisted.push(relative(&path));
                }
            }
        }
    }
    assert!(unlisted.is_empty(), "not declared in their tests/*/main.rs: {unlisted:?}");
}
