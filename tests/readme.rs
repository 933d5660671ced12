//! The README, docs/ and every other Markdown file (the bindings' READMEs too) cannot rot: every
//! C, C++, C#, Python, Rust, CMake and TypeScript block in them is a file (or a marked region of
//! one) that a test compiles and runs, and this test checks each block equals its source; then it runs the README's first-screen commands (examples/hello/run.sh)
//! against the sandbox, exactly as shown, and the Rust API example.
//!
//! Mark a block with `<!-- snippet: PATH -->` (the whole file) or `<!-- snippet: PATH#NAME -->`
//! (the lines between `snippet:begin NAME` and `snippet:end NAME` in PATH, dedented) on the line
//! before its opening fence. A block in a checked language without a mark fails the test.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ky_access_token::Config;
use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox};

mod common;
use common::{
    in_ci, output_within, outside_cargo_test, release_build, root, tool_available, without_proxies,
};

#[allow(dead_code)]
#[path = "../examples/rust_client.rs"]
mod rust_client;

/// Languages whose blocks must come from a file.
const CHECKED: &[&str] = &["c", "cpp", "csharp", "python", "rust", "cmake", "ts"];

/// The files a block may come from, and the test that compiles and runs each.
const SOURCES: &[(&str, &str)] = &[
    ("examples/hello/hello.c", "tests/readme.rs"),
    ("examples/hello/hello.cpp", "tests/readme.rs"),
    ("examples/hello/Hello.cs", "tests/readme.rs"),
    ("examples/hello/hello.py", "tests/readme.rs"),
    ("examples/hello/run.sh", "tests/readme.rs"),
    ("examples/rust_client.rs", "tests/readme.rs"),
    (
        "examples/c/get_token.c",
        "tests/examples.rs, tests/install.rs",
    ),
    ("examples/c/client.c", "tests/examples.rs"),
    (
        "examples/cpp/game_server.cpp",
        "tests/examples.rs, tests/install.rs",
    ),
    ("examples/cpp/client_options.cpp", "tests/install.rs"),
    ("examples/cpp/CMakeLists.txt", "tests/install.rs"),
    (
        "examples/csharp/GetToken.cs",
        "bindings/csharp/run-tests.sh",
    ),
    ("examples/shell/get-token.sh", "cli/tests/cli.rs"),
    ("examples/node/get-token.ts", "bindings/node/run-tests.sh"),
    (
        "bindings/csharp/tests/ReadmeTests.cs",
        "bindings/csharp/run-tests.sh",
    ),
    (
        "bindings/python/tests/test_readme.py",
        "bindings/python/run-tests.sh",
    ),
];

/// Every Markdown file of the project (README.md, docs/, each binding's README, ...), but not the
/// copied wire-format spec (its one JavaScript block is the API owner's illustration, kept as
/// written) and not build output or installed packages.
fn documents() -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let skip = ["target", "node_modules", "build", "dist"];
                if !name.starts_with('.') && !skip.contains(&name.as_str()) {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") && name != "accesstoken-api.zh.md" {
                out.push(path);
            }
        }
    }
    let mut docs = Vec::new();
    walk(root(), &mut docs);
    docs.sort();
    docs
}

/// The lines between `snippet:begin NAME` and `snippet:end NAME`, without their common indent.
fn region(source: &str, name: &str, path: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let is = |line: &str, what: &str| {
        line.split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] == what && w[1] == name)
    };
    let begin = lines.iter().position(|l| is(l, "snippet:begin"));
    let end = lines.iter().position(|l| is(l, "snippet:end"));
    let (Some(begin), Some(end)) = (begin, end) else {
        panic!("{path} has no region {name} (snippet:begin {name} … snippet:end {name})");
    };
    let body = &lines[begin + 1..end];
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every problem with the blocks of one document.
fn check_document(text: &str, doc: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(lang) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let lang = lang.trim().to_owned();
        let start = i;
        let close = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .unwrap_or_else(|| panic!("{doc}:{}: the code block never closes", start + 1));
        let body = lines[start + 1..close].join("\n");
        i = close + 1;
        let mark = lines[..start]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<!-- snippet:"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(str::trim);
        let Some(mark) = mark else {
            if CHECKED.contains(&lang.as_str()) {
                problems.push(format!(
                    "{doc}:{}: a {lang} block without a <!-- snippet: PATH#REGION --> mark",
                    start + 1
                ));
            }
            continue;
        };
        let (path, name) = match mark.split_once('#') {
            Some((path, name)) => (path, Some(name)),
            None => (mark, None),
        };
        if !SOURCES.iter().any(|(p, _)| *p == path) {
            problems.push(format!(
                "{doc}:{}: {path} is not a source a test compiles and runs (tests/readme.rs SOURCES)",
                start + 1
            ));
            continue;
        }
        let source = std::fs::read_to_string(root().join(path)).unwrap();
        let want = match name {
            Some(name) => region(&source, name, path),
            None => source.trim_end().to_owned(),
        };
        if body.trim_end() != want {
            problems.push(format!(
                "{doc}:{}: the block differs from {mark}; copy it again:\n{want}",
                start + 1
            ));
        }
    }
    problems
}

#[test]
fn every_snippet_is_its_tested_source() {
    let mut problems = Vec::new();
    let mut marked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        marked += text.matches("<!-- snippet:").count();
        problems.extend(check_document(&text, &name));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        marked >= 14,
        "only {marked} marked snippets: a README lost its examples?"
    );
    let names: Vec<_> = documents()
        .iter()
        .map(|d| d.strip_prefix(root()).unwrap().to_owned())
        .collect();
    for expected in [
        "README.md",
        "docs/c-api.md",
        "bindings/csharp/README.md",
        "bindings/python/README.md",
        "bindings/node/README.md",
    ] {
        assert!(
            names.iter().any(|n| n == Path::new(expected)),
            "{expected} is not checked"
        );
    }
    for (path, _) in SOURCES {
        assert!(root().join(path).is_file(), "{path} is gone");
    }
}

#[test]
fn the_checker_catches_unmarked_and_changed_blocks() {
    let good = "<!-- snippet: examples/hello/hello.py -->\n```python\n".to_owned()
        + std::fs::read_to_string(root().join("examples/hello/hello.py"))
            .unwrap()
            .trim_end()
        + "\n```\n";
    assert_eq!(check_document(&good, "x.md"), Vec::<String>::new());
    let changed = good.replace("print(", "print (");
    assert!(check_document(&changed, "x.md")[0].contains("differs"));
    let unmarked = good.replace("<!-- snippet: examples/hello/hello.py -->", "");
    assert!(check_document(&unmarked, "x.md")[0].contains("without a"));
    let untested = good.replace("examples/hello/hello.py", "examples/nowhere.py");
    assert!(check_document(&untested, "x.md")[0].contains("not a source"));
    let region_block = "<!-- snippet: examples/c/client.c#handles -->\n```c\nky_config *cfg;\n```";
    assert!(check_document(region_block, "x.md")[0].contains("differs"));
    // Shell and text blocks may be unmarked (commands and output, not programs).
    assert!(check_document("```sh\nls\n```\n```text\nx\n```\n", "x.md").is_empty());
}

#[test]
fn the_first_screen_commands_work_against_the_sandbox() {
    // Build exactly as the README's build region (and the quickstart) do, so they share one build.
    let built = release_build().status().expect("cargo");
    assert!(built.success(), "cargo build --release failed");
    let mut steps = vec!["build", "c", "cpp", "python"];
    if tool_available("mcs") && tool_available("mono") {
        steps.push("csharp");
    } else if in_ci() {
        panic!("mcs and mono are required with CI=true (the README's C# commands)");
    } else {
        eprintln!("note: no mcs/mono here: the README's C# commands were NOT run");
    }
    let sandbox = Sandbox::start_default().unwrap();
    let mut run = Command::new("bash");
    outside_cargo_test(&mut run);
    run.arg(root().join("examples/hello/run.sh"))
        .args(&steps)
        .current_dir(root())
        .env("KY_BASE_URL", sandbox.base_url())
        .env("KY_MAX_RETRIES", "0");
    without_proxies(&mut run);
    // Generous: the build step is a no-op after release_build, the rest is a few compilers.
    let out = output_within(&mut run, Duration::from_secs(900));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let languages = steps.len() - 1;
    let tokens = stdout.lines().filter(|l| *l == SAMPLE_TOKEN).count();
    assert_eq!(tokens, languages, "{stdout}");
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), languages as u64);
}

#[test]
fn the_rust_api_example_runs_against_the_sandbox() {
    let sandbox = Sandbox::start_default().unwrap();
    rust_client::run(Config::new().base_url(sandbox.base_url())).unwrap();
    // One fetch, then one more after the compare-and-invalidate dropped it.
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 2);
    assert!(Path::new(&root().join("examples/rust_client.rs")).is_file());
}
