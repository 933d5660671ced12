//! The release artifacts as shipped: `scripts/dist.sh` builds every archive this machine can
//! build into dist/ (it checks exports, imports and the glibc floor itself; the checker is shown
//! to fail on a library that breaks its rules), then each archive is unpacked and used:
//!
//! - linux-x64 (glibc 2.17, zig): tests/c natively, static link from pkg-config's Libs.private,
//!   the Rust unit tests + tests/client.rs built for x86_64-unknown-linux-gnu.2.17;
//! - linux-arm64 (glibc 2.17): tests/c and the Rust tests under qemu-aarch64;
//! - win-x64 (MinGW): tests/c and the Rust tests under wine64, plus Windows paths for KY_CA_FILE
//!   and the untrusted-CA message. Wine 8 has no bcryptprimitives.dll (ProcessPrng, which Rust's
//!   std uses on Windows 10+), so a TEST-ONLY stand-in (tests/wine/) is put beside the programs;
//! - linux-x64-musl: tests/c against musl's loader;
//! - wheels (auditwheel: manylinux_2_17 x86_64 + aarch64; the x86_64 one installed in a fresh venv
//!   and called), NuGet runtimes/, the Unity package (.meta files, GUIDs, plugin platforms), and
//!   the release workflow (actionlint).
//!
//! Every child process runs under `timeout`; no assertion depends on how fast anything is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use ky_sandbox::{SAMPLE_PROGRAM_ID, Sandbox, SandboxOptions};

mod common;
use common::{
    c_program_env, dead_base_url, https_sandbox, outside_cargo_test, root, without_proxies,
};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dist-test")
}

/// `cmd` under `timeout SECS` (killed 10 s after that if it ignores SIGTERM).
fn timed(secs: u32, program: &str) -> Command {
    let mut c = Command::new("timeout");
    c.args(["-k", "10", &secs.to_string(), program]);
    c
}

fn output(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    let out = command.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    if out.status.code() == Some(124) {
        panic!("{shown} timed out");
    }
    out
}

fn ok(command: Command) -> String {
    let shown = format!("{command:?}");
    let out = output(command);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// dist/, built once per test binary by the release script itself.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let mut build = timed(3600, "bash");
        build.current_dir(root()).arg("scripts/dist.sh");
        outside_cargo_test(&mut build);
        let out = ok(build);
        eprintln!("{out}");
        root().join("dist")
    })
}

/// The archive for `rid`, unpacked once under the test's own directory; returns its prefix.
fn unpacked(rid: &str) -> PathBuf {
    static DONE: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(prefix) = done.get(rid) {
        return prefix.clone();
    }
    let prefix = unpack(rid);
    done.insert(rid.to_owned(), prefix.clone());
    prefix
}

fn unpack(rid: &str) -> PathBuf {
    let name = format!("ky_access_token-{VERSION}-{rid}");
    let dir = tmp().join("unpacked");
    let prefix = dir.join(&name);
    let _ = std::fs::remove_dir_all(&prefix);
    std::fs::create_dir_all(&dir).unwrap();
    if rid.starts_with("win-") {
        let mut unzip = timed(120, "python3");
        unzip
            .args(["-m", "zipfile", "-e"])
            .arg(dist().join(format!("{name}.zip")))
            .arg(&dir);
        ok(unzip);
    } else {
        let mut tar = timed(120, "tar");
        tar.arg("-xzf")
            .arg(dist().join(format!("{name}.tar.gz")))
            .arg("-C")
            .arg(&dir);
        ok(tar);
    }
    prefix
}

// ------------------------------------------------------------------ the C programs per target

struct Target {
    rid: &'static str,
    cc: &'static str,
    /// How to run a program built for the target (empty: natively).
    runner: Vec<String>,
    exe: &'static str,
}

fn wine64() -> String {
    for candidate in ["wine64", "/usr/lib/wine/wine64", "wine"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate.to_owned();
        }
    }
    panic!("wine64 is required for the win-x64 tests (apt-get install wine64)");
}

fn qemu_aarch64() -> Vec<String> {
    let qemu = ["qemu-aarch64-static", "qemu-aarch64"]
        .into_iter()
        .find(|q| Command::new(q).arg("--version").output().is_ok())
        .expect(
            "qemu-aarch64 is required for the linux-arm64 tests (apt-get install qemu-user-static)",
        );
    vec![qemu.into(), "-L".into(), "/usr/aarch64-linux-gnu".into()]
}

fn target(rid: &'static str) -> Target {
    match rid {
        "linux-x64" => Target {
            rid,
            cc: "gcc",
            runner: vec![],
            exe: "",
        },
        "linux-arm64" => Target {
            rid,
            cc: "aarch64-linux-gnu-gcc",
            runner: qemu_aarch64(),
            exe: "",
        },
        "linux-x64-musl" => Target {
            rid,
            cc: "musl-gcc",
            runner: vec![],
            exe: "",
        },
        "win-x64" => Target {
            rid,
            cc: "x86_64-w64-mingw32-gcc",
            runner: vec![wine64()],
            exe: ".exe",
        },
        _ => unreachable!(),
    }
}

/// A wine prefix of our own, created once (wineboot) before any test uses it, and quiet wine.
fn wine_env(command: &mut Command) {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let prefix = tmp().join("wineprefix");
        std::fs::create_dir_all(&prefix).unwrap();
        let mut boot = timed(900, &wine64());
        boot.arg("wineboot")
            .arg("--init")
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
        ok(boot);
        prefix
    });
    command
        .env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
}

/// The TEST-ONLY bcryptprimitives.dll stand-in (see tests/wine/bcryptprimitives_standin.c).
fn bcryptprimitives_standin() -> PathBuf {
    static DLL: OnceLock<PathBuf> = OnceLock::new();
    DLL.get_or_init(|| {
        let dir = tmp().join("wine-standin");
        std::fs::create_dir_all(&dir).unwrap();
        let dll = dir.join("bcryptprimitives.dll");
        let mut cc = timed(300, "x86_64-w64-mingw32-gcc");
        cc.args(["-Wall", "-Wextra", "-Werror", "-shared", "-o"])
            .arg(&dll)
            .arg(root().join("tests/wine/bcryptprimitives_standin.c"))
            .arg("-lbcrypt");
        ok(cc);
        dll
    })
    .clone()
}

impl Target {
    /// tests/c/NAME.c compiled for this target against its unpacked archive (`static`: against
    /// libky_access_token.a with the archive's pkg-config Libs.private instead of the shared one).
    fn compile(&self, name: &str, static_link: bool) -> PathBuf {
        // Once per program: tests running in parallel share the outputs.
        static DONE: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
        let key = format!("{}/{name}/{static_link}", self.rid);
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(program) = done.get(&key) {
            return program.clone();
        }
        let program = self.compile_now(&unpacked(self.rid), name, static_link);
        done.insert(key, program.clone());
        program
    }

    fn compile_now(&self, prefix: &Path, name: &str, static_link: bool) -> PathBuf {
        let dir = tmp().join(format!("c-{}", self.rid));
        std::fs::create_dir_all(&dir).unwrap();
        let suffix = if static_link { "_static" } else { "" };
        let program = dir.join(format!("{name}{suffix}{}", self.exe));
        let mut cc = timed(300, self.cc);
        cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .arg("-I")
            .arg(prefix.join("include"))
            .arg(root().join(format!("tests/c/{name}.c")))
            .arg("-o")
            .arg(&program);
        if static_link {
            let pc =
                std::fs::read_to_string(prefix.join("lib/pkgconfig/ky_access_token.pc")).unwrap();
            let private = pc
                .lines()
                .find_map(|l| l.strip_prefix("Libs.private:"))
                .expect("Libs.private in the .pc");
            cc.arg(prefix.join("lib/libky_access_token.a"));
            cc.args(private.split_whitespace());
            cc.arg("-pthread");
        } else if self.rid.starts_with("win-") {
            cc.arg("-L")
                .arg(prefix.join("lib"))
                .arg("-lky_access_token");
            // winpthreads linked in, so the test program needs no MinGW DLL of its own.
            cc.args([
                "-static-libgcc",
                "-Wl,-Bstatic",
                "-lpthread",
                "-Wl,-Bdynamic",
            ]);
        } else {
            cc.arg("-pthread")
                .arg("-L")
                .arg(prefix.join("lib"))
                .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
                .arg("-lky_access_token");
        }
        ok(cc);
        if self.rid.starts_with("win-") {
            // Windows finds DLLs beside the program.
            std::fs::copy(
                prefix.join("bin/ky_access_token.dll"),
                dir.join("ky_access_token.dll"),
            )
            .unwrap();
            std::fs::copy(bcryptprimitives_standin(), dir.join("bcryptprimitives.dll")).unwrap();
        }
        program
    }

    /// Runs `program args` for this target with `env`; asserts it exits 0 and prints ", 0 failed".
    fn run(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut command = if self.runner.is_empty() {
            timed(900, program.to_str().unwrap())
        } else {
            let mut c = timed(900, &self.runner[0]);
            c.args(&self.runner[1..]).arg(program);
            c
        };
        if self.rid.starts_with("win-") {
            wine_env(&mut command);
        }
        command.args(args);
        c_program_env(
            &mut command,
            &["KY_CA_FILE", "SSL_CERT_FILE", "SSL_CERT_DIR"],
            env,
        );
        let stdout = ok(command);
        assert!(stdout.contains(", 0 failed"), "{stdout}");
        stdout
    }
}

/// tests/c against the sandbox through the target's archive: the same assertions as
/// tests/c_abi.rs makes for the native build (request counts prove single-flight and caching).
fn c_programs(rid: &'static str) {
    let t = target(rid);
    let api = t.compile("test_api", false);
    let client = t.compile("test_client", false);

    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    eprintln!("{}", t.run(&api, &["main"], &[("KY_BASE_URL", &base)]));
    assert_eq!(sandbox.requests("c-inv"), 2, "invalidate: one refetch");
    assert_eq!(sandbox.requests("slow-1000"), 1, "16 threads, one request");
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1, "cached");
    assert_eq!(sandbox.requests("fault-http-500"), 2, "KY_MAX_RETRIES=1");
    assert_eq!(sandbox.requests("big-token-4096"), 1);

    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    eprintln!("{}", t.run(&client, &[&base], &[("KY_BASE_URL", &base)]));
    // At most one: ky_client_free may cancel every queued call before a fetch starts.
    assert!(
        sandbox.requests("c-async") <= 1,
        "async single-flight: {}",
        sandbox.requests("c-async")
    );
    assert_eq!(sandbox.requests("c-cas"), 2, "one refetch after the drop");

    let dead = dead_base_url();
    t.run(
        &api,
        &["expect", "3", "abc", "refused"],
        &[("KY_BASE_URL", &dead)],
    );
    t.run(
        &api,
        &["expect", "1", "abc", "only https://"],
        &[("KY_BASE_URL", "http://api.kuaiyugo.com")],
    );

    // TLS: trusted through KY_CA_FILE, refused without it.
    let (tls, tls_dir) = https_sandbox(rid, SandboxOptions::default());
    let base = tls.base_url();
    let ca = tls.ca_pem_path().unwrap();
    let ca_arg = if rid.starts_with("win-") {
        windows_path(&ca)
    } else {
        ca.to_str().unwrap().to_owned()
    };
    t.run(
        &api,
        &["expect", "0", SAMPLE_PROGRAM_ID],
        &[("KY_BASE_URL", &base), ("KY_CA_FILE", &ca_arg)],
    );
    t.run(
        &api,
        &["expect", "5", SAMPLE_PROGRAM_ID, "certificate"],
        &[("KY_BASE_URL", &base)],
    );
    assert_eq!(
        tls.requests(SAMPLE_PROGRAM_ID),
        1,
        "none over a refused handshake"
    );
    let _ = std::fs::remove_dir_all(tls_dir);
}

/// `Z:\…` — the path a Windows program under wine sees for a Unix path.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.to_str().unwrap().replace('/', "\\"))
}

/// One `#[test]` per target, each running [`c_programs`] for that target's archive.
macro_rules! c_program_tests {
    ($($test:ident: $rid:literal,)*) => {
        $(
            #[test]
            fn $test() {
                c_programs($rid);
            }
        )*
    };
}

c_program_tests! {
    linux_x64_glibc_2_17_c_programs_natively: "linux-x64",
    linux_arm64_c_programs_under_qemu: "linux-arm64",
    linux_x64_musl_c_programs: "linux-x64-musl",
    win_x64_c_programs_under_wine: "win-x64",
}

#[test]
fn linux_x64_static_library_links_with_its_pkg_config_libs() {
    let t = target("linux-x64");
    let program = t.compile("test_api", true);
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    t.run(&program, &["main"], &[("KY_BASE_URL", &base)]);
    assert_eq!(sandbox.requests("slow-1000"), 1);
}

/// What a Windows user meets: a CA file in a folder with spaces and non-ASCII letters given as a
/// Windows path, a missing CA file, the untrusted-CA message naming the Windows store.
#[test]
fn win_x64_paths_ca_file_and_trust_store_message_under_wine() {
    let t = target("win-x64");
    let api = t.compile("test_api", false);
    let (tls, tls_dir) = https_sandbox("win-paths", SandboxOptions::default());
    let base = tls.base_url();
    let odd = tmp().join("证书 目录 (CA)");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::copy(tls.ca_pem_path().unwrap(), odd.join("根 ca.pem")).unwrap();
    let ca = windows_path(&odd.join("根 ca.pem"));
    t.run(
        &api,
        &["expect", "0", SAMPLE_PROGRAM_ID],
        &[
            ("KY_BASE_URL", &base),
            ("KY_CA_FILE", &ca),
            ("LANG", "C.UTF-8"),
        ],
    );
    // Forward slashes work too on Windows.
    let forward = ca.replace('\\', "/");
    t.run(
        &api,
        &["expect", "0", SAMPLE_PROGRAM_ID],
        &[
            ("KY_BASE_URL", &base),
            ("KY_CA_FILE", &forward),
            ("LANG", "C.UTF-8"),
        ],
    );
    let missing = windows_path(&odd.join("missing.pem"));
    t.run(
        &api,
        &["expect", "1", SAMPLE_PROGRAM_ID, "cannot read CA file"],
        &[
            ("KY_BASE_URL", &base),
            ("KY_CA_FILE", &missing),
            ("LANG", "C.UTF-8"),
        ],
    );
    // Not trusted by the Windows certificate store: refused as TLS by the OS verifier
    // (CertGetCertificateChain). Wine's chain engine reports an untrusted root as a revocation
    // failure (CERT_E_REVOCATION_FAILURE) where Windows says CERT_E_UNTRUSTEDROOT (UnknownIssuer),
    // so the hint naming the Windows store is checked by the unit test
    // fetch::tests::untrusted_ca_hint_names_this_platforms_store, run under wine below.
    let out = t.run(
        &api,
        &["expect", "5", SAMPLE_PROGRAM_ID, "invalid peer certificate"],
        &[("KY_BASE_URL", &base)],
    );
    eprintln!("{out}");
    assert_eq!(
        tls.requests(SAMPLE_PROGRAM_ID),
        2,
        "two trusted fetches, none over a refused handshake"
    );
    let _ = std::fs::remove_dir_all(tls_dir);
}

// ------------------------------------------------------------------ Rust tests per target

/// The crate's unit tests and tests/client.rs (the Rust API against the sandbox) built for
/// `triple` and run through `runner`: the representative Rust set per cross target (the full
/// suite runs natively in `cargo test`).
fn rust_tests(triple: &str, zig: bool, runner: &[String], env: &[(&str, String)], skip: &[&str]) {
    let mut test = if zig {
        let mut c = timed(3600, "cargo-zigbuild");
        c.arg("test");
        c
    } else {
        let mut c = timed(3600, "cargo");
        c.arg("test");
        c
    };
    test.current_dir(root())
        .args(["--locked", "-p", "ky-access-token", "--target", triple])
        .args(["--lib", "--test", "client"]);
    if std::env::var("KY_OFFLINE").is_ok_and(|v| v == "1") {
        test.arg("--offline");
    }
    outside_cargo_test(&mut test);
    if !runner.is_empty() {
        let key = triple
            .split('.')
            .next()
            .unwrap()
            .to_uppercase()
            .replace('-', "_");
        test.env(format!("CARGO_TARGET_{key}_RUNNER"), runner.join(" "));
    }
    for (k, v) in env {
        test.env(k, v);
    }
    if !skip.is_empty() {
        test.arg("--");
        for name in skip {
            test.args(["--skip", name]);
        }
    }
    without_proxies(&mut test);
    let out = output(test);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{triple}: {stdout}\n{stderr}");
    let results: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("test result: ok."))
        .collect();
    assert_eq!(results.len(), 2, "lib + client: {stdout}");
    for line in results {
        // Reported without the "test result" prefix so run-all.sh does not count them twice.
        eprintln!("{triple}: {}", line.trim_start_matches("test result: "));
        assert!(!line.contains(" 0 passed"), "{line}");
    }
}

#[test]
fn rust_tests_for_x86_64_glibc_2_17() {
    rust_tests("x86_64-unknown-linux-gnu.2.17", true, &[], &[], &[]);
}

#[test]
fn rust_tests_for_aarch64_under_qemu() {
    rust_tests(
        "aarch64-unknown-linux-gnu.2.17",
        true,
        &qemu_aarch64(),
        &[],
        &[],
    );
}

/// Under wine: every unit test (the trust-store hint's Windows wording included) and
/// tests/client.rs except `tls_with_a_throwaway_ca` (see below).
#[test]
fn rust_tests_for_windows_under_wine() {
    let standin = bcryptprimitives_standin();
    let mut probe = Command::new("true");
    wine_env(&mut probe);
    let prefix = probe
        .get_envs()
        .find(|(k, _)| *k == "WINEPREFIX")
        .and_then(|(_, v)| v)
        .map(PathBuf::from)
        .unwrap();
    rust_tests(
        "x86_64-pc-windows-gnu",
        false,
        &[wine64()],
        &[
            ("WINEPREFIX", prefix.display().to_string()),
            ("WINEDEBUG", "-all".into()),
            ("WINEDLLOVERRIDES", "mscoree,mshtml=".into()),
            // The TEST-ONLY stand-in's folder on the Windows PATH.
            ("WINEPATH", windows_path(standin.parent().unwrap())),
        ],
        // Its untrusted-CA case expects the UnknownIssuer hint, which Wine's chain engine does
        // not produce (see win_x64_paths_ca_file_and_trust_store_message_under_wine); its
        // trusted-CA case is covered there and by the C programs under wine.
        &["tls_with_a_throwaway_ca"],
    );
}

// ------------------------------------------------------------------ the checker, the archives

#[test]
fn every_archive_holds_the_documented_layout_and_passed_the_checks() {
    let sizes = std::fs::read_to_string(dist().join("SIZES.txt")).unwrap();
    eprintln!("{sizes}");
    for rid in ["linux-x64", "linux-arm64", "linux-x64-musl", "win-x64"] {
        let prefix = unpacked(rid);
        let mut expect = vec![
            "include/ky_access_token.h",
            "lib/pkgconfig/ky_access_token.pc",
            "lib/cmake/ky_access_token/ky_access_tokenConfig.cmake",
            "lib/cmake/ky_access_token/ky_access_tokenConfigVersion.cmake",
            "LICENSE-MIT",
            "LICENSE-APACHE",
            "THIRD-PARTY-LICENSES.txt",
        ];
        if rid.starts_with("win-") {
            expect.extend([
                "bin/ky_access_token.dll",
                "lib/libky_access_token.dll.a",
                "lib/libky_access_token.a",
            ]);
        } else {
            expect.extend([
                "lib/libky_access_token.so",
                "lib/libky_access_token.so.0",
                "lib/libky_access_token.a",
            ]);
        }
        for file in expect {
            assert!(prefix.join(file).is_file(), "{rid}: {file} missing");
        }
        let notices = std::fs::read_to_string(prefix.join("THIRD-PARTY-LICENSES.txt")).unwrap();
        for linked in ["\nring 0.17", "\nrustls 0.23", "\nureq 3"] {
            assert!(
                notices.contains(linked),
                "{rid}: {linked} missing from the notices"
            );
        }
        assert_eq!(
            std::fs::read(prefix.join("include/ky_access_token.h")).unwrap(),
            std::fs::read(root().join("include/ky_access_token.h")).unwrap()
        );
        let manifest =
            std::fs::read_to_string(dist().join(format!("ky_access_token-{VERSION}-{rid}.json")))
                .unwrap();
        assert!(manifest.contains("\"exports\": "), "{manifest}");
        assert!(
            sizes.contains(&format!("ky_access_token-{VERSION}-{rid}.")),
            "{sizes}"
        );
    }
    // Both glibc builds: the highest GLIBC_ version is 2.17, seen with binutils (not the checker).
    for rid in ["linux-x64", "linux-arm64"] {
        let lib = unpacked(rid).join(format!("lib/libky_access_token.so.{VERSION}"));
        let mut readelf = timed(60, "readelf");
        readelf.arg("-V").arg(&lib);
        let text = ok(readelf);
        let max = text
            .split("GLIBC_")
            .skip(1)
            .filter_map(|s| {
                let v: String = s
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
                Some((parts.next()?, parts.next().unwrap_or(0)))
            })
            .max()
            .unwrap();
        assert_eq!(max, (2, 17), "{rid}: {text}");
        assert!(!text.contains("GCC_"), "{rid} needs libgcc_s: {text}");
    }
    // Stripped: no symbol table beyond the dynamic one.
    let mut nm = timed(60, "nm");
    nm.arg(unpacked("linux-x64").join(format!("lib/libky_access_token.so.{VERSION}")));
    let out = output(nm);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no symbols"),
        "{out:?}"
    );
}

/// The checker fails loudly on the plain host build (glibc of this machine, libgcc_s): proof
/// that it can fail.
#[test]
fn checker_rejects_a_library_above_the_glibc_floor() {
    let mut build = common::release_build();
    assert!(build.status().unwrap().success());
    let prefix = tmp().join("host-build/ky_access_token-host");
    let _ = std::fs::remove_dir_all(&prefix);
    let mut install = timed(300, "bash");
    install
        .arg(root().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--no-build");
    ok(install);
    for f in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(root().join(f), prefix.join(f)).unwrap();
    }
    let mut check = timed(300, "python3");
    check
        .arg(root().join("scripts/dist.py"))
        .args([
            "finish",
            "--rid",
            "linux-x64",
            "--triple",
            "x86_64-unknown-linux-gnu",
        ])
        .arg("--prefix")
        .arg(&prefix)
        .arg("--out")
        .arg(prefix.parent().unwrap());
    let out = output(check);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("above the 2.17 floor"), "{stderr}");
    assert!(stderr.contains("libgcc_s.so.1"), "{stderr}");
    assert!(
        !prefix
            .parent()
            .unwrap()
            .join(format!("ky_access_token-{VERSION}-linux-x64.tar.gz"))
            .exists()
    );
}

// ------------------------------------------------------------------ wheels

fn wheel(tag: &str) -> PathBuf {
    dist().join(format!(
        "wheels/ky_access_token-{VERSION}-py3-none-{tag}.whl"
    ))
}

fn auditwheel_show(path: &Path) -> String {
    let mut show = timed(300, "auditwheel");
    show.arg("show").arg(path);
    ok(show).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn manylinux_wheels_are_proven_manylinux_2_17_by_auditwheel() {
    for (tag, arch) in [
        ("manylinux_2_17_x86_64.manylinux2014_x86_64", "x86_64"),
        ("manylinux_2_17_aarch64.manylinux2014_aarch64", "aarch64"),
    ] {
        let text = auditwheel_show(&wheel(tag));
        eprintln!("{text}");
        assert!(
            text.contains(&format!(
                "consistent with the following platform tag: \"manylinux_2_17_{arch}\""
            )),
            "{text}"
        );
    }
}

#[test]
fn windows_wheel_carries_the_dll() {
    let mut list = timed(120, "python3");
    list.args(["-m", "zipfile", "-l"]).arg(wheel("win_amd64"));
    let text = ok(list);
    assert!(
        text.contains("ky_access_token/ky_access_token.dll"),
        "{text}"
    );
    assert!(!text.contains(".so"), "{text}");
}

#[test]
fn x86_64_wheel_installs_in_a_fresh_venv_and_fetches_a_token() {
    let venv = tmp().join("venv");
    let _ = std::fs::remove_dir_all(&venv);
    let mut create = timed(300, "python3");
    create.args(["-m", "venv"]).arg(&venv);
    ok(create);
    let python = venv.join("bin/python");
    let mut install = timed(300, python.to_str().unwrap());
    install
        .args(["-m", "pip", "install", "-q", "--no-index"])
        .arg(wheel("manylinux_2_17_x86_64.manylinux2014_x86_64"));
    ok(install);
    let sandbox = Sandbox::start_default().unwrap();
    let mut call = timed(120, python.to_str().unwrap());
    call.current_dir(tmp())
        .env_remove("KY_ACCESS_TOKEN_LIB")
        .env_remove("PYTHONPATH")
        .env("KY_BASE_URL", sandbox.base_url())
        .args([
            "-c",
            "import ky_access_token as ky, sys; print(ky.library_path); print(ky.get_access_token(sys.argv[1]))",
            SAMPLE_PROGRAM_ID,
        ]);
    let out = ok(call);
    let mut lines = out.lines();
    let library = lines.next().unwrap();
    assert!(library.starts_with(venv.to_str().unwrap()), "{library}");
    assert!(lines.next().unwrap().starts_with("27_"), "{out}");
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1);
}

// ------------------------------------------------------------------ NuGet, Unity

#[test]
fn nuget_runtimes_tree_has_every_desktop_rid() {
    for (rid, file) in [
        ("linux-x64", "libky_access_token.so"),
        ("linux-arm64", "libky_access_token.so"),
        ("linux-musl-x64", "libky_access_token.so"),
        ("win-x64", "ky_access_token.dll"),
    ] {
        let path = dist().join(format!("nuget/runtimes/{rid}/native/{file}"));
        assert!(path.is_file(), "{}", path.display());
    }
}

/// path -> contents of every file in an npm-pack tarball.
fn tarball_files(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = tmp().join(format!(
        "upm-{}",
        path.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut tar = timed(120, "tar");
    tar.arg("-xzf").arg(path).arg("-C").arg(&dir);
    ok(tar);
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.join("package")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir.join("package"))
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

fn guids(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    files
        .iter()
        .filter(|(name, _)| name.ends_with(".meta"))
        .map(|(name, text)| {
            let text = String::from_utf8_lossy(text);
            let guid = text
                .lines()
                .find_map(|l| l.strip_prefix("guid: "))
                .unwrap_or_else(|| panic!("{name} has no guid"))
                .to_owned();
            (name.clone(), guid)
        })
        .collect()
}

#[test]
fn unity_package_has_a_meta_for_every_asset_and_stable_unique_guids() {
    let tarball = dist().join(format!("com.kuaiyu.ky-access-token-{VERSION}.tgz"));
    let files = tarball_files(&tarball);
    assert!(files.contains_key("package.json"));
    assert!(files.contains_key("Runtime/NativeMethods.cs"));
    // Every asset and every folder has its .meta (Unity ignores the rest in an immutable package).
    let mut folders = BTreeSet::new();
    for name in files.keys().filter(|n| !n.ends_with(".meta")) {
        assert!(
            files.contains_key(&format!("{name}.meta")),
            "{name} has no .meta"
        );
        let mut parent = Path::new(name).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            folders.insert(p.to_str().unwrap().to_owned());
            parent = p.parent();
        }
    }
    for folder in &folders {
        assert!(
            files.contains_key(&format!("{folder}.meta")),
            "folder {folder} has no .meta"
        );
    }
    // No stray .meta (for a file that is not there).
    for name in files.keys().filter(|n| n.ends_with(".meta")) {
        let asset = name.trim_end_matches(".meta");
        assert!(
            files.contains_key(asset) || folders.contains(asset),
            "{name} describes nothing"
        );
    }
    let first = guids(&files);
    let unique: BTreeSet<_> = first.values().collect();
    assert_eq!(unique.len(), first.len(), "duplicate GUIDs: {first:?}");
    for guid in first.values() {
        assert!(
            guid.len() == 32 && guid.chars().all(|c| c.is_ascii_hexdigit()),
            "{guid}"
        );
    }
    // Stable: a second build elsewhere gives every asset the same GUID, and the scheme is pinned.
    let again = tmp().join("unity-again");
    let _ = std::fs::remove_dir_all(&again);
    std::fs::create_dir_all(&again).unwrap();
    for entry in std::fs::read_dir(dist()).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("ky_access_token-") {
            std::fs::copy(&p, again.join(&name)).unwrap();
        }
    }
    let mut rebuild = timed(600, "python3");
    rebuild
        .arg(root().join("scripts/dist.py"))
        .args(["unity", "--out"])
        .arg(&again);
    ok(rebuild);
    let second = guids(&tarball_files(
        &again.join(format!("com.kuaiyu.ky-access-token-{VERSION}.tgz")),
    ));
    assert_eq!(first, second);
    assert_eq!(
        first["package.json.meta"], "81f9333cd6d9a023fc195f4eb456db34",
        "the GUID scheme changed: every project using the package would lose its references"
    );
}

#[test]
fn unity_plugins_are_enabled_only_for_their_platform_and_cpu() {
    let files = tarball_files(&dist().join(format!("com.kuaiyu.ky-access-token-{VERSION}.tgz")));
    let expected = [
        (
            "Runtime/Plugins/Linux/x86_64/libky_access_token.so",
            "Linux",
            "Linux64",
            "x86_64",
        ),
        (
            "Runtime/Plugins/Windows/x86_64/ky_access_token.dll",
            "Windows",
            "Win64",
            "x86_64",
        ),
    ];
    let natives: Vec<_> = files
        .keys()
        .filter(|n| {
            n.starts_with("Runtime/Plugins/") && !n.ends_with(".meta") && !n.ends_with(".md")
        })
        .cloned()
        .collect();
    assert_eq!(natives.len(), expected.len(), "{natives:?}");
    for (path, os, standalone, cpu) in expected {
        assert!(files.contains_key(path), "{path} missing");
        let meta = String::from_utf8_lossy(&files[&format!("{path}.meta")]).into_owned();
        assert!(meta.contains("PluginImporter:"), "{meta}");
        // Each platformData entry: "Editor: Editor" / "Standalone: X", then enabled and CPU.
        let entries: Vec<&str> = meta.split("  - first:\n").skip(1).collect();
        let mut enabled = Vec::new();
        for entry in entries {
            let key = entry.lines().next().unwrap().trim().to_owned();
            let on = entry.contains("enabled: 1");
            if on {
                enabled.push(key.clone());
            }
            if key == "Editor: Editor" {
                assert!(
                    on && entry.contains(&format!("OS: {os}"))
                        && entry.contains(&format!("CPU: {cpu}")),
                    "{path}: {entry}"
                );
            } else if key == format!("Standalone: {standalone}") {
                assert!(
                    on && entry.contains(&format!("CPU: {cpu}")),
                    "{path}: {entry}"
                );
            } else if key.starts_with("Standalone:") {
                assert!(!on && entry.contains("CPU: None"), "{path}: {entry}");
            }
            if key == ": Any" {
                assert!(!on, "{path}: enabled for any platform");
                assert!(
                    entry.contains(&format!("Exclude {standalone}: 0")),
                    "{entry}"
                );
            }
        }
        assert_eq!(
            enabled,
            vec![
                "Editor: Editor".to_owned(),
                format!("Standalone: {standalone}")
            ],
            "{path}"
        );
    }
    // No mobile platform anywhere in the package (the token is a server credential).
    for name in files.keys() {
        for mobile in ["Android", "iOS", "WebGL"] {
            assert!(!name.contains(mobile), "{name}");
        }
    }
    assert!(!String::from_utf8_lossy(&files["Runtime/NativeMethods.cs"]).contains("__Internal"));
}

// ------------------------------------------------------------------ the release workflow

#[test]
fn release_workflow_passes_actionlint_and_uses_the_dist_script() {
    let workflow = root().join(".github/workflows/release.yml");
    let mut lint = timed(300, "actionlint");
    lint.current_dir(root()).arg(&workflow);
    let out = output(lint);
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&workflow).unwrap();
    assert!(
        text.contains("bash scripts/dist.sh"),
        "the workflow must build with scripts/dist.sh"
    );
    for retired in ["macos-13", "macos-12", "ubuntu-20.04", "windows-2019"] {
        assert!(!text.contains(retired), "retired runner {retired}");
    }
    for mobile in ["android", "ios", "ndk"] {
        assert!(
            !text.to_lowercase().contains(&format!("{mobile}-")),
            "{mobile} target in release.yml"
        );
    }
}
