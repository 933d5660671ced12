//! scripts/install.sh gives C and C++ teams the package layout their build systems expect, and
//! the installed package works: pkg-config flags compile a C program, CMake's find_package builds
//! examples/cpp against the shared and the static target, and every binary fetches a token from
//! the sandbox. cmake, pkg-config, patchelf, readelf and nm are required (a missing tool fails).
//!
//! The library installed is the release build shared with examples/quickstart.sh (same cargo
//! command, so CI compiles it once).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox};

const VERSION: &str = env!("CARGO_PKG_VERSION");

mod common;
use common::release_build;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Cargo's target directory (CARGO_TARGET_TMPDIR is `<target>/tmp`), wherever CARGO_TARGET_DIR put it.
fn target_dir() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap()
}

/// A fresh `<target>/tmp/install-NAME-PID`: the process id keeps two concurrent `cargo test` runs
/// (two terminals, an editor's test runner) out of each other's files.
fn work_dir(name: &str) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("install-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes the work directories of earlier runs whose process is gone (Linux: no /proc/PID).
fn remove_stale_work_dirs() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.rsplit('-').next().unwrap_or("");
        let stale = name.starts_with("install-")
            && pid.parse::<u32>().is_ok()
            && !Path::new("/proc").join(pid).exists();
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs a command that must succeed; panics with its output otherwise (or naming a missing tool).
fn run_ok(command: &mut Command) -> Output {
    let description = format!("{command:?}");
    let out = command.output().unwrap_or_else(|e| {
        panic!("{description}: {e} (this test needs cmake, pkg-config, patchelf, binutils, gcc)")
    });
    assert!(
        out.status.success(),
        "{description} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the release library the way examples/quickstart.sh does, then installs it once per test
/// binary with scripts/install.sh; returns the prefix.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        remove_stale_work_dirs();
        let mut build = release_build();
        run_ok(&mut build);
        let prefix = work_dir("prefix");
        let out = run_ok(
            Command::new("bash")
                .arg(root().join("scripts/install.sh"))
                .args(["--release", "--no-build", "--prefix"])
                .arg(&prefix)
                .env("CARGO_TARGET_DIR", target_dir()),
        );
        assert!(stdout(&out).contains(&format!("installed ky_access_token {VERSION}")));
        prefix
    })
}

fn readelf_dynamic(file: &Path) -> String {
    stdout(&run_ok(Command::new("readelf").arg("-d").arg(file)))
}

/// Runs an installed-package program against the sandbox with no retries and no other KY_*
/// setting from the caller's environment (a KY_CACHE_TTL_MS=0 would change the counts).
fn run_against(program: &Path, sandbox: &Sandbox, args: &[&str]) -> Output {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars() {
        if name.starts_with("KY_") {
            command.env_remove(name);
        }
    }
    // The installed library, through the program's rpath: not cargo test's LD_LIBRARY_PATH.
    command.env_remove("LD_LIBRARY_PATH");
    command
        .args(args)
        .env("KY_BASE_URL", sandbox.base_url())
        .env("KY_MAX_RETRIES", "0")
        .output()
        .unwrap()
}

#[test]
fn layout_symlinks_soname_and_exports() {
    let prefix = prefix();
    let lib = prefix.join("lib");
    for file in [
        "include/ky_access_token.h",
        "lib/libky_access_token.a",
        "lib/pkgconfig/ky_access_token.pc",
        "lib/cmake/ky_access_token/ky_access_tokenConfig.cmake",
        "lib/cmake/ky_access_token/ky_access_tokenConfigVersion.cmake",
    ] {
        assert!(prefix.join(file).is_file(), "{file} missing");
    }
    assert_eq!(
        std::fs::read(prefix.join("include/ky_access_token.h")).unwrap(),
        std::fs::read(root().join("include/ky_access_token.h")).unwrap(),
        "the installed header is the committed one"
    );

    let real = format!("libky_access_token.so.{VERSION}");
    assert!(lib.join(&real).is_file() && !lib.join(&real).is_symlink());
    let link = |name: &str| std::fs::read_link(lib.join(name)).unwrap();
    assert_eq!(link("libky_access_token.so.0"), PathBuf::from(&real));
    assert_eq!(
        link("libky_access_token.so"),
        PathBuf::from("libky_access_token.so.0")
    );

    let dynamic = readelf_dynamic(&lib.join(&real));
    assert!(
        dynamic.contains("Library soname: [libky_access_token.so.0]"),
        "{dynamic}"
    );
    // Only the C API is exported (symbol hygiene of the release build; tests/symbols.rs compares
    // the list with the header).
    let nm = stdout(&run_ok(
        Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(lib.join(&real)),
    ));
    let names: Vec<&str> = nm
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert!(names.contains(&"ky_get_access_token"), "{nm}");
    assert!(names.iter().all(|n| n.starts_with("ky_")), "{nm}");
}

#[test]
fn pkg_config_flags_compile_and_link_a_c_program() {
    let prefix = prefix();
    let work = work_dir("pkg-config");
    let pkg_config = |args: &[&str]| {
        let out = run_ok(
            Command::new("pkg-config")
                .args(args)
                .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")),
        );
        stdout(&out).trim().to_owned()
    };
    assert_eq!(pkg_config(&["--modversion", "ky_access_token"]), VERSION);
    run_ok(
        Command::new("pkg-config")
            .args(["--atleast-version=0.1", "ky_access_token"])
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")),
    );
    let flags = pkg_config(&["--cflags", "--libs", "ky_access_token"]);
    assert!(flags.contains("-lky_access_token"), "{flags}");

    // The README's lines, run by a shell so the quoting is the user's. The rpath stands in for
    // an install into a directory the loader already searches.
    let sandbox = Sandbox::start_default().unwrap();
    let script = r#"set -e
cc -std=c11 -Wall -Wextra -Werror -pedantic "$SRC" -o get_token \
  $(pkg-config --cflags --libs ky_access_token) -Wl,-rpath,"$PREFIX/lib"
cc -std=c11 -Wall -Wextra -Werror -pedantic "$SRC" -o get_token_static \
  $(pkg-config --cflags --static --libs ky_access_token | sed 's/-lky_access_token /-l:libky_access_token.a /')
"#;
    run_ok(
        Command::new("sh")
            .args(["-c", script])
            .current_dir(&work)
            .env("SRC", root().join("examples/c/get_token.c"))
            .env("PREFIX", prefix)
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")),
    );
    let shared = readelf_dynamic(&work.join("get_token"));
    assert!(shared.contains("[libky_access_token.so.0]"), "{shared}");
    let static_ = readelf_dynamic(&work.join("get_token_static"));
    assert!(!static_.contains("libky_access_token"), "{static_}");

    for name in ["get_token", "get_token_static"] {
        let out = run_against(&work.join(name), &sandbox, &[]);
        assert!(out.status.success(), "{name}: {out:?}");
        assert_eq!(stdout(&out).trim(), SAMPLE_TOKEN, "{name}");
    }
    assert_eq!(
        sandbox.requests(SAMPLE_PROGRAM_ID),
        2,
        "one request per process"
    );
}

#[test]
fn cmake_find_package_builds_and_runs_the_cpp_examples() {
    let prefix = prefix();
    let build = work_dir("cmake-examples");
    run_ok(
        Command::new("cmake")
            .arg("-S")
            .arg(root().join("examples/cpp"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
            .arg("-DCMAKE_CXX_FLAGS=-Werror"),
    );
    run_ok(Command::new("cmake").arg("--build").arg(&build));

    let shared = build.join("game_server");
    let static_ = build.join("game_server_static");
    let dynamic = readelf_dynamic(&shared);
    assert!(
        dynamic.contains("[libky_access_token.so.0]"),
        "linked by soname: {dynamic}"
    );
    assert!(
        dynamic.contains(&prefix.join("lib").display().to_string()),
        "CMake's build RPATH points into the installed prefix: {dynamic}"
    );
    let dynamic = readelf_dynamic(&static_);
    assert!(!dynamic.contains("libky_access_token"), "{dynamic}");

    let sandbox = Sandbox::start_default().unwrap();
    for (round, program) in [&shared, &static_].into_iter().enumerate() {
        let out = run_against(program, &sandbox, &[]);
        let text = stdout(&out);
        assert!(out.status.success(), "{program:?}: {out:?}");
        assert!(text.contains("errcode 40001"), "{text}");
        assert!(
            text.contains("done: 1 refresh(es); 5 cache hits, 2 upstream requests"),
            "{text}"
        );
        assert_eq!(sandbox.requests("rotating-demo"), 2 * (round as u64 + 1));

        // Errors come through ky::Error: status as the exit code, upstream err and msg intact.
        let out = run_against(program, &sandbox, &["fault-api-error"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(7), "{err}");
        assert!(
            err.contains("KY_ERR_API") && err.contains("项目不存在") && err.contains("err=40013"),
            "{err}"
        );
        let out = run_against(program, &sandbox, &["bad/id"]);
        assert_eq!(out.status.code(), Some(1));
    }
    assert_eq!(sandbox.total_requests(), 6, "no request for the invalid id");

    // ky::Client and ky::ClientOptions: settings applied, errors thrown, move-only ownership.
    let out = run_against(&build.join("client_options"), &sandbox, &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!(
            "token: {} bytes\nsame token after move: yes\nstats: 1 upstream request(s)\n\
             rejected: KY_ERR_INVALID_ARGUMENT (status 1)\n",
            SAMPLE_TOKEN.len()
        )
    );
    assert_eq!(
        sandbox.requests(SAMPLE_PROGRAM_ID),
        1,
        "prefetch and get share one request"
    );
    let agent = sandbox.last_user_agent().unwrap_or_default();
    assert!(agent.ends_with(" client_options/1.0"), "{agent}");
}

#[test]
fn cmake_package_checks_the_version_and_is_relocatable() {
    // A copy of the installed tree somewhere else: the config finds its files relative to itself.
    let moved = work_dir("moved-prefix");
    run_ok(
        Command::new("cp")
            .arg("-a")
            .arg(prefix())
            .arg(moved.join("p")),
    );
    let moved = moved.join("p");
    let project = work_dir("cmake-version");
    std::fs::write(
        project.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.16)\nproject(version_check NONE)\n\
         find_package(ky_access_token ${WANT} REQUIRED)\n\
         get_target_property(shared ky_access_token::ky_access_token IMPORTED_LOCATION)\n\
         get_target_property(static ky_access_token::ky_access_token_static IMPORTED_LOCATION)\n\
         message(STATUS \"found ky_access_token ${ky_access_token_VERSION}: ${shared} ${static}\")\n",
    )
    .unwrap();
    let configure = |want: &str| {
        let build = project.join(format!("build-{want}"));
        Command::new("cmake")
            .arg("-S")
            .arg(&project)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", moved.display()))
            .arg(format!("-DWANT={want}"))
            .output()
            .expect("cmake is required for this test")
    };
    let lib = moved.join("lib");
    for want in ["0.1", "0.1.0", "0"] {
        let out = configure(want);
        assert!(out.status.success(), "{want}: {out:?}");
        let expected = format!(
            "found ky_access_token {VERSION}: {}/libky_access_token.so.{VERSION} {}/libky_access_token.a",
            lib.display(),
            lib.display()
        );
        assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
    }
    for want in ["0.2", "1.0"] {
        let out = configure(want);
        assert!(!out.status.success(), "{want} must not match {VERSION}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("ky_access_token"),
            "{out:?}"
        );
    }

    // pkg-config too: its prefix is relative to the .pc file.
    let out = run_ok(
        Command::new("pkg-config")
            .args(["--cflags", "ky_access_token"])
            .env("PKG_CONFIG_PATH", lib.join("pkgconfig")),
    );
    let include = Path::new(stdout(&out).trim().strip_prefix("-I").unwrap()).canonicalize();
    assert_eq!(
        include.unwrap(),
        moved.join("include").canonicalize().unwrap()
    );
}
