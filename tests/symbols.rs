//! Symbol hygiene: the shared library exports the C API and nothing else (no Rust std, no
//! dependency symbols a host program could collide with), and that API is exactly the functions
//! the committed header declares. Checked on the debug library this `cargo test` built and on the
//! release build shipped (LTO and stripping must not change the list). Needs `nm` (binutils).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{lib_dir, release_build, root};

/// Names of the dynamic symbols `library` defines (functions and data), from `nm -D`.
fn exported(library: &Path) -> BTreeSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(library)
        .output()
        .unwrap_or_else(|e| panic!("nm (binutils) is required for this test: {e}"));
    assert!(
        out.status.success(),
        "nm {}: {}",
        library.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // "0000000000e6530 T ky_client_free"; a versioned name would read "name@@VERSION".
        .filter_map(|line| line.split_whitespace().nth(2))
        .map(|name| name.split('@').next().unwrap().to_owned())
        .collect()
}

/// The functions declared in include/ky_access_token.h: every `ky_name(` inside the
/// `extern "C"` block once comments are removed (the callback typedefs sit outside it).
fn declared() -> BTreeSet<String> {
    let header = std::fs::read_to_string(root().join("include/ky_access_token.h")).unwrap();
    let mut code = String::new();
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("unterminated comment") + start + 2;
        rest = &rest[end..];
    }
    code.push_str(rest);
    let code: String = code
        .lines()
        .map(|line| line.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let block = code
        .split_once("extern \"C\" {")
        .expect("header has an extern \"C\" block")
        .1;
    let block = block.split_once("#ifdef __cplusplus").unwrap().0;
    let mut names = BTreeSet::new();
    for (i, _) in block.match_indices("ky_") {
        let name: String = block[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = block[i + name.len()..].trim_start();
        let starts_word =
            i == 0 || !block[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if starts_word && after.starts_with('(') {
            names.insert(name);
        }
    }
    names
}

fn check(library: &Path) {
    let exported = exported(library);
    let declared = declared();
    println!("{} exports {} symbols:", library.display(), exported.len());
    for name in &exported {
        println!("  {name}");
    }
    let foreign: Vec<_> = exported.iter().filter(|n| !n.starts_with("ky_")).collect();
    assert!(foreign.is_empty(), "exported beyond the C API: {foreign:?}");
    let undeclared: Vec<_> = exported.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "exported, not in the header: {undeclared:?}"
    );
    let missing: Vec<_> = declared.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "in the header, not exported: {missing:?}"
    );
}

#[test]
fn header_parser_finds_every_declaration() {
    let declared = declared();
    // A fixed point so a parser that finds nothing cannot make the checks below pass vacuously.
    for name in [
        "ky_get_access_token",
        "ky_string_free",
        "ky_client_new",
        "ky_config_set_ca_pem",
        "ky_set_log_callback",
    ] {
        assert!(declared.contains(name), "{name} not found in {declared:?}");
    }
    assert!(
        !declared.contains("ky_token_callback"),
        "a typedef, not a function"
    );
}

#[test]
fn debug_library_exports_exactly_the_header_functions() {
    check(&lib_dir().join("libky_access_token.so"));
}

#[test]
fn release_library_exports_exactly_the_header_functions() {
    // The quickstart's build command, so the release build is shared with it (and with
    // tests/install.rs) instead of compiled again with other features.
    let mut build = release_build();
    let status = build.status().expect("cargo");
    assert!(status.success(), "cargo build --release failed");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    check(
        &target
            .parent()
            .unwrap()
            .join("release/libky_access_token.so"),
    );
}
