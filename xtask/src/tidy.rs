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
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            // A library's front page is its README (shown by crates.io and by `cargo doc`).
            let readme = path.ends_with("src/lib.rs")
                && text.starts_with("#![doc = include_str!(\"../README.md\")]");
            !text.starts_with("//!") && !readme
        })
        .map(|path| relative(&path))
        .collect();
    assert!(missing.is_empty(), "files without a `//!` header: {missing:?}");
}

/// No `should_panic` (assert on the error instead) and no unconditional `#[ignore]`; a test
/// that cannot run somewhere says so with `#[cfg_attr(CONDITION, ignore = "reason")]`, so it
/// is reported as ignored, with its reason, not as passed.
#[test]
fn no_should_panic_or_ignore_outside_loom_models() {
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| !relative(path).contains("loom") && !path.ends_with("xtask/src/tidy.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let bare_ignore = text.lines().any(|line| {
                line.contains("ignore") && line.trim_start().starts_with("#[ignore")
                    || (line.contains("cfg_attr(")
                        && line.contains("ignore")
                        && !line.contains("ignore = \""))
            });
            text.contains("#[should_panic") || bare_ignore
        })
        .map(|path| relative(&path))
        .collect();
    assert!(offenders.is_empty(), "assert on the Err instead: {offenders:?}");
}

/// Every path a file names, from its syntax tree: the leaves of its `use` trees
/// (`std::fs::File`, with `use std::{fs, io}` expanded) and every path in its code
/// (`std::fs::read(...)`, `rustix::fs::fsync`), each as `a::b::c`.
fn paths_named(path: &Path) -> Vec<String> {
    use syn::visit::Visit;

    struct Paths(Vec<String>);

    fn use_tree(prefix: &str, tree: &syn::UseTree, out: &mut Vec<String>) {
        let join = |name: &str| {
            if prefix.is_empty() { name.to_owned() } else { format!("{prefix}::{name}") }
        };
        match tree {
            syn::UseTree::Path(p) => use_tree(&join(&p.ident.to_string()), &p.tree, out),
            syn::UseTree::Name(n) => out.push(join(&n.ident.to_string())),
            syn::UseTree::Rename(r) => out.push(join(&r.ident.to_string())),
            syn::UseTree::Glob(_) => out.push(join("*")),
            syn::UseTree::Group(g) => g.items.iter().for_each(|item| use_tree(prefix, item, out)),
        }
    }

    impl<'ast> Visit<'ast> for Paths {
        fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
            use_tree("", &item.tree, &mut self.0);
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.0.push(segments.join("::"));
            syn::visit::visit_path(self, path);
        }
    }

    let text = std::fs::read_to_string(path).unwrap();
    let file = syn::parse_file(&text).unwrap_or_else(|err| panic!("{}: {err}", relative(path)));
    let mut paths = Paths(Vec::new());
    paths.visit_file(&file);
    paths.0
}

/// The files under `dir` (not their `tests.rs` unit tests) naming a path that starts with one
/// of `forbidden`, with the paths.
fn naming(dir: &str, forbidden: &[&str], except: &[&str]) -> Vec<String> {
    let dir = workspace_root().join(dir);
    let mut offenders = Vec::new();
    for path in rust_files().into_iter().filter(|path| path.starts_with(&dir)) {
        if path.ends_with("tests.rs")
            || except.iter().any(|e| path.starts_with(workspace_root().join(e)))
        {
            continue;
        }
        for named in paths_named(&path) {
            if forbidden.iter().any(|f| named == *f || named.starts_with(&format!("{f}::"))) {
                offenders.push(format!("{}: {named}", relative(&path)));
            }
        }
    }
    offenders
}

/// metrics-types does no I/O: no file system, network, process or environment, read from
/// the syntax tree (so `use std::{fs, io}` and `std :: fs` are caught, and a doc comment
/// mentioning `std::fs` is not).
#[test]
fn metrics_types_does_no_io() {
    let io = ["std::fs", "std::net", "std::process", "std::env", "std::os", "File"];
    let offenders = naming("crates/metrics-types/src", &io, &[]);
    assert!(offenders.is_empty(), "metrics-types must not do I/O: {offenders:?}");
}

/// The check above can fail: it finds every spelling of a forbidden path in real code.
#[test]
fn the_path_reader_sees_grouped_and_spaced_uses() {
    let dir = tempfile_dir();
    let file = dir.join("probe.rs");
    #[expect(clippy::disallowed_methods, reason = "a scratch source file for the parser")]
    std::fs::write(&file, "//! probe\nuse std::{fs, io::Read};\n/// std::net in a doc comment\nfn f() { let _ = std :: process :: id(); }\n").unwrap();
    let named = paths_named(&file);
    assert!(named.contains(&"std::fs".to_owned()), "{named:?}");
    assert!(named.contains(&"std::io::Read".to_owned()), "{named:?}");
    assert!(named.contains(&"std::process::id".to_owned()), "{named:?}");
    assert!(
        !named.iter().any(|n| n.starts_with("std::net")),
        "doc comments are not code: {named:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Only `atomic-fs/src/sys` calls rustix: the one seam every file-system call goes through
/// (and `sim/`, the seam's test double, which builds the same errno values it injects).
#[test]
fn rustix_is_called_only_in_the_seam() {
    let mut offenders = Vec::new();
    for dir in [
        "crates/metrics-types/src",
        "crates/metrics-store/src",
        "crates/metrics-server/src",
        "crates/metrics-cli/src",
        "crates/atomic-fs/src",
    ] {
        let seam = ["crates/atomic-fs/src/sys", "crates/atomic-fs/src/sim"];
        offenders.extend(naming(dir, &["rustix"], &seam));
    }
    assert!(offenders.is_empty(), "rustix outside atomic-fs/src/sys: {offenders:?}");
}

/// The OS seam sits below the protocols: `sys` names nothing from `replace`, `journal` or the
/// simulation's lies, and `replace` names nothing from `sim` (its bugs are played by the
/// simulated disk, not switched on inside it).
#[test]
fn the_seam_depends_on_no_protocol_and_replace_on_no_simulation() {
    let mut offenders = naming(
        "crates/atomic-fs/src/sys",
        &["crate::replace", "crate::journal", "crate::sim::Lie", "super::replace"],
        &[],
    );
    offenders.extend(naming("crates/atomic-fs/src/replace", &["crate::sim"], &[]));
    offenders.extend(naming("crates/atomic-fs/src/replace.rs", &["crate::sim"], &[]));
    assert!(offenders.is_empty(), "upward or test-only dependencies: {offenders:?}");
}

/// The direct dependencies of each workspace package, from `cargo metadata`: (name, kind).
fn direct_dependencies() -> Vec<(String, Vec<(String, String)>)> {
    let output =
        cargo(&["metadata", "--offline", "--no-deps", "--format-version", "1"]).output().unwrap();
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let dependencies = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let name = d["name"].as_str().unwrap_or_default().to_owned();
                    let kind = d["kind"].as_str().unwrap_or("normal").to_owned();
                    (name, kind)
                })
                .collect();
            (package["name"].as_str().unwrap_or_default().to_owned(), dependencies)
        })
        .collect()
}

/// Front ends reach files only through the store: the CLI and the server have no normal
/// dependency on atomic-fs (a dev-dependency, to hold a lock in a test, is fine); xtask
/// depends on no workspace crate, so it drives exactly the binary users run.
#[test]
fn front_ends_and_xtask_depend_only_on_what_they_may() {
    let packages = direct_dependencies();
    let workspace: Vec<&str> = packages.iter().map(|(name, _)| name.as_str()).collect();
    for (package, dependencies) in &packages {
        let normal =
            |name: &str| dependencies.iter().any(|(n, kind)| n == name && kind == "normal");
        if package == "agent-metrics" || package == "agent-metrics-server" {
            assert!(
                !normal("agent-metrics-atomic-fs"),
                "{package} must reach files through metrics-store"
            );
        }
        if package == "xtask" {
            let internal: Vec<&(String, String)> =
                dependencies.iter().filter(|(n, _)| workspace.contains(&n.as_str())).collect();
            assert!(internal.is_empty(), "xtask depends on workspace crates: {internal:?}");
        }
    }
    assert!(workspace.contains(&"agent-metrics") && workspace.contains(&"xtask"), "{workspace:?}");
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
    let [types, fs, store, server, cli] = [
        "agent-metrics-types",
        "agent-metrics-atomic-fs",
        "agent-metrics-store",
        "agent-metrics-server",
        "agent-metrics",
    ];
    check_layering(types, &[fs, store, "rustix", "libc", "tempfile", "clap"]);
    check_layering(fs, &[types, store, "serde", "serde_json"]);
    check_layering(store, &[cli, server, "tokio", "axum"]);
    check_layering(types, &[server, "tokio", "axum"]);
    check_layering(server, &[cli, "clap"]);
}

/// Every package but xtask and the benchmarks is ready for crates.io: a description, the
/// licence (with both licence texts in the package), a README of its own, keywords and
/// categories, docs.rs settings, and the workspace's version on every internal dependency,
/// so `cargo package --workspace` makes tarballs a downstream crate can depend on.
#[test]
fn publishable_packages_carry_what_crates_io_needs() {
    let output =
        cargo(&["metadata", "--offline", "--no-deps", "--format-version", "1"]).output().unwrap();
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let version = |name: &str| {
        packages.iter().find(|p| p["name"] == name).map(|p| p["version"].clone()).unwrap()
    };
    let mut published = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let unpublished = package["publish"].as_array().is_some_and(Vec::is_empty);
        if unpublished {
            assert!(["xtask", "agent-metrics-benches"].contains(&name), "{name} is not published");
            continue;
        }
        published.push(name);
        let dir =
            std::path::Path::new(package["manifest_path"].as_str().unwrap()).parent().unwrap();
        for field in ["description", "license", "readme"] {
            assert!(package[field].as_str().is_some_and(|v| !v.is_empty()), "{name}: no {field}");
        }
        let readme = dir.join(package["readme"].as_str().unwrap());
        assert!(readme.is_file(), "{name}: {} is missing", readme.display());
        for list in ["keywords", "categories"] {
            let len = package[list].as_array().map_or(0, Vec::len);
            assert!((1..=5).contains(&len), "{name}: {len} {list} (crates.io takes 1 to 5)");
        }
        assert!(package["metadata"]["docs"]["rs"].is_object(), "{name}: no docs.rs settings");
        for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
            assert!(dir.join(licence).is_file(), "{name}: no {licence} in the package");
        }
        for dependency in package["dependencies"].as_array().unwrap() {
            if dependency["path"].is_string() && dependency["kind"].is_null() {
                let wanted =
                    format!("^{}", version(dependency["name"].as_str().unwrap()).as_str().unwrap());
                assert_eq!(
                    dependency["req"].as_str(),
                    Some(wanted.as_str()),
                    "{name}: {dependency}"
                );
            }
        }
    }
    published.sort_unstable();
    let expected = [
        "agent-metrics",
        "agent-metrics-atomic-fs",
        "agent-metrics-server",
        "agent-metrics-store",
        "agent-metrics-types",
    ];
    assert_eq!(published, expected);
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

/// The field names of `event_fields!` in metrics-types' `event.rs`, in order: the identifiers
/// followed by a lone `:` after `fields:` (attributes, kinds' types and writer spellings are
/// all inside groups).
fn event_field_list() -> Vec<String> {
    use proc_macro2::{Spacing, TokenTree};
    let path = workspace_root().join("crates/metrics-types/src/event.rs");
    let file = syn::parse_file(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let tokens: Vec<TokenTree> = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Macro(item) if item.mac.path.is_ident("event_fields") => {
                Some(item.mac.tokens.clone().into_iter().collect())
            }
            _ => None,
        })
        .expect("event.rs declares the event's fields with event_fields!");
    let is_colon = |tree: &TokenTree| matches!(tree, TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == Spacing::Alone);
    let start = tokens
        .windows(2)
        .position(|pair| {
            matches!(&pair[0], TokenTree::Ident(i) if i == "fields") && is_colon(&pair[1])
        })
        .expect("a `fields:` list");
    tokens[start + 2..]
        .windows(2)
        .filter_map(|pair| match &pair[0] {
            TokenTree::Ident(name) if is_colon(&pair[1]) => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

/// A new event field is one line in the field list and one row in docs/format.md: the Event
/// table has a row for every field, in the file's order.
#[test]
fn the_format_doc_has_a_row_for_every_event_field_in_file_order() {
    let fields = event_field_list();
    assert!(fields.len() >= 15 && fields[0] == "event_id", "{fields:?}");
    let doc = std::fs::read_to_string(workspace_root().join("docs/format.md")).unwrap();
    let section = doc.split("\n### Event\n").nth(1).expect("an Event section in docs/format.md");
    let section = section.split("\n### ").next().unwrap();
    let documented: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    assert_eq!(documented, fields, "the Event table of docs/format.md against event_fields!");
}

/// Docs a maintainer reads in one sitting: no line of the Markdown docs (README, `docs/`, the
/// crates' READMEs) over 200 characters, and docs/ARCHITECTURE.md at most 200 lines.
#[test]
fn docs_lines_are_at_most_200_characters() {
    let root = workspace_root();
    let mut docs = vec![root.join("README.md")];
    for dir in [root.join("docs"), root.join("crates")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let readme = path.join("README.md");
            if path.extension().is_some_and(|ext| ext == "md") {
                docs.push(path);
            } else if readme.exists() {
                docs.push(readme);
            }
        }
    }
    let mut long = Vec::new();
    for path in &docs {
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let chars = line.chars().count();
            if chars > 200 {
                long.push(format!("{}:{}: {chars} characters", relative(path), number + 1));
            }
        }
    }
    assert!(docs.len() > 8, "the docs were found: {docs:?}");
    assert!(long.is_empty(), "lines over 200 characters: {long:#?}");
    let architecture = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let lines = architecture.lines().count();
    assert!(lines <= 200, "docs/ARCHITECTURE.md has {lines} lines; keep it a map (at most 200)");
}

/// No test machinery in the product: the `agent-metrics` binary, built as users build it (no
/// dev-dependencies), enables no `simulation` feature of `atomic-fs` (the simulated disk) and
/// pulls in no failure-injection crate.
#[test]
fn the_product_builds_without_test_machinery() {
    let output = cargo(&[
        "tree",
        "-p",
        "agent-metrics",
        "-e",
        "normal,build,features",
        "--prefix",
        "none",
        "--offline",
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(tree.contains("agent-metrics-atomic-fs v"), "the tree was read: {tree}");
    let offending: Vec<&str> = tree
        .lines()
        .filter(|line| line.contains("feature \"simulation\"") || line.starts_with("fail v"))
        .collect();
    assert!(offending.is_empty(), "test machinery in the product: {offending:?}");
}
