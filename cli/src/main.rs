//! `ky-token`: the access token from a shell. `ky-token PROGRAM_ID` prints the token and nothing
//! else on stdout; failures print `KY_ERR_NAME: message` on stderr and exit with 10 + the status
//! code (see `ky-token --help`). `ky-token sandbox` runs the bundled loopback sandbox.
//!
//! It is a thin shell over the Rust API: `Config::from_env()` (the same KY_* variables as every
//! binding), command-line overrides, one `Client`, one call.

mod args;

use std::io::Write;
use std::process::ExitCode;

use ky_access_token::{AccessToken, Client, Config, Error};
use ky_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

use args::{Command, SandboxArgs, TokenArgs, USAGE};

/// Exit codes besides `10 + status`: documented in USAGE and docs/use-it-from.md.
const EXIT_OTHER: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_STATUS_BASE: u8 = 10;

fn main() -> ExitCode {
    match args::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("ky-token {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Token(args)) => token(&args),
        Ok(Command::Sandbox(args)) => sandbox(&args),
        Err(message) => {
            let synopsis: Vec<&str> = USAGE.lines().take(3).collect();
            eprintln!(
                "ky-token: {message}\n{}\nTry 'ky-token --help' for more.",
                synopsis.join("\n")
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn token(args: &TokenArgs) -> ExitCode {
    let result = fetch(args);
    let mut stdout = std::io::stdout().lock();
    let written = match (&result, args.json) {
        // The token is the program's output (stdout only); it never goes to stderr.
        (Ok(token), false) => writeln!(stdout, "{}", token.as_str()),
        (Ok(token), true) => writeln!(
            stdout,
            "{}",
            json!({ "program_id": args.program_id, "access_token": token.as_str() })
        ),
        (Err(e), false) => {
            eprintln!("{e}");
            Ok(())
        }
        (Err(e), true) => writeln!(
            stdout,
            "{}",
            json!({
                "program_id": args.program_id,
                "status": e.status().name(),
                "code": e.status().code(),
                "message": e.message(),
                "api_err": e.api_err(),
            })
        ),
    };
    if written.and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(EXIT_OTHER); // e.g. a closed pipe; nothing useful left to say
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => exit_code(&e),
    }
}

/// 10 + the ky_status code, so no failure collides with 0, 1 or 2.
fn exit_code(error: &Error) -> ExitCode {
    let code = u8::try_from(error.status().code()).unwrap_or(u8::MAX - EXIT_STATUS_BASE);
    ExitCode::from(EXIT_STATUS_BASE + code)
}

/// The token (an `AccessToken`, zeroed when dropped): the environment's configuration, then the
/// options over it, one client, one call.
fn fetch(args: &TokenArgs) -> Result<AccessToken, Error> {
    let mut config = Config::from_env()?;
    if let Some(url) = &args.base_url {
        config = config.base_url(url.as_str());
    }
    if let Some(timeout) = args.timeout {
        config = config.timeout(timeout);
    }
    if let Some(retries) = args.max_retries {
        config = config.max_retries(retries);
    }
    if let Some(path) = &args.ca_file {
        config = config.ca_file(path.as_path());
    }
    let client = Client::new(config)?;
    if args.invalidate {
        // A fresh process has nothing cached; kept so scripts can state the intent after WeChat
        // rejected a token (errcode 40001/42001), and so a bad id fails the same way.
        client.invalidate(&args.program_id)?;
    }
    client.get_access_token(&args.program_id)
}

/// Runs the bundled sandbox until the process is interrupted.
fn sandbox(args: &SandboxArgs) -> ExitCode {
    let options = SandboxOptions {
        addr: args.addr,
        tls_dir: args.tls_dir.clone(),
        log_requests: !args.quiet,
        ..SandboxOptions::default()
    };
    let sandbox = match Sandbox::start(options) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (is a sandbox already running? --addr 127.0.0.1:0 picks any free port)"
            } else {
                ""
            };
            eprintln!("ky-token sandbox: {e}{hint}");
            return ExitCode::from(EXIT_OTHER);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let mut lines = format!("KY_BASE_URL={}\n", sandbox.base_url());
    if let Some(ca) = sandbox.ca_pem_path() {
        lines.push_str(&format!("KY_CA_FILE={}\n", ca.display()));
    }
    if stdout
        .write_all(lines.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(EXIT_OTHER);
    }
    drop(stdout);
    if !args.quiet {
        eprintln!(
            "ky-token sandbox: serving on {} until interrupted (Ctrl-C); try\n  \
             KY_BASE_URL={} ky-token 223fc70098ad11e9a5898928ba7882e6",
            sandbox.addr(),
            sandbox.base_url()
        );
    }
    loop {
        std::thread::park();
    }
}
