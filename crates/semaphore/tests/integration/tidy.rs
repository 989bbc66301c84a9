//! House rules checked on the whole tree: every Rust file says what it is for in a `//!` comment at its top
//! (STYLE.md section 10), and the docs the README promises exist.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("directory is readable") {
        let path = entry.expect("entry is readable").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_comment() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("file is readable");
            !text.trim_start().starts_with("//!")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! comment: {missing:#?}"
    );
}

#[test]
fn readme_and_architecture_exist_and_name_the_test_command() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md exists");
    assert!(
        readme.contains("bash .ci/run"),
        "README.md names the test command"
    );
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run exists");
    assert!(
        ci.contains("cargo nextest run") || ci.contains("cargo test"),
        ".ci/run runs the tests"
    );
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md exists");
    for section in [
        "Bird's-eye view",
        "Entry points",
        "Code map",
        "Cross-cutting concerns",
    ] {
        assert!(
            architecture.contains(section),
            "ARCHITECTURE.md has a {section} section"
        );
    }
}
