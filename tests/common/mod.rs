//! Helpers shared by the tests that compile C/C++ programs against the library or build it.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the `libky_access_token.so` that *this* `cargo test` run built:
/// target/<profile>/deps, next to the test executable (never a stale copy from an older build).
pub fn lib_dir() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        deps.join("libky_access_token.so").exists(),
        "{} has no libky_access_token.so; run through `cargo test`",
        deps.display()
    );
    deps
}

/// Compiles `source` with `-Wall -Wextra -Werror -pedantic` against the committed header and the
/// freshly built shared library; panics with the compiler's output on failure.
pub fn compile(compiler: &str, lang: &[&str], source: &str, name: &str) -> PathBuf {
    let lib = lib_dir();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-programs");
    std::fs::create_dir_all(&out).unwrap();
    let program = out.join(name);
    let result = Command::new(compiler)
        .args(lang)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-pthread"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join(source))
        .arg("-o")
        .arg(&program)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lky_access_token")
        .output()
        .unwrap_or_else(|e| panic!("{compiler} is required for this test: {e}"));
    assert!(
        result.status.success(),
        "{compiler} {source} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    program
}

/// `cargo build --release -p ky-access-token -p ky-sandbox`, exactly as examples/quickstart.sh
/// runs it, so the two share one release build. The variables cargo sets for this test process
/// are removed first: build scripts (ring's) track CARGO_MANIFEST_DIR, and a value the
/// quickstart's build does not see would make each build recompile what the other built.
pub fn release_build() -> Command {
    let mut build = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_test = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&&*name);
        if set_by_cargo_test {
            build.env_remove(&*name);
        }
    }
    build
        .current_dir(root())
        .args(["build", "--release", "--quiet", "-p", "ky-access-token"])
        .args(["-p", "ky-sandbox"]);
    if std::env::var("KY_OFFLINE").is_ok_and(|v| v == "1") {
        build.arg("--offline");
    }
    build
}
