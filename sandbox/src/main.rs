//! `ky-sandbox`: run the loopback access-token emulator from the command line.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ky_sandbox::{Sandbox, SandboxOptions};

const USAGE: &str = "usage: ky-sandbox [--addr 127.0.0.1:0] [--tls-dir DIR] [--token ID=TOKEN]... [--exit-on-stdin-eof] [--quiet]

Emulates GET /api/config/v1/programs/{id}/accesstoken on a loopback address.
Prints `KY_BASE_URL=<url>` (and `KY_CA_FILE=<path>` with --tls-dir) once listening.
Fault modes are chosen by program id; see sandbox/README.md.";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ky-sandbox: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut opts = SandboxOptions {
        log_requests: true,
        ..SandboxOptions::default()
    };
    let mut tokens = Vec::new();
    let mut exit_on_eof = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--addr" => {
                let v = value("--addr")?;
                let addr = v
                    .replace("localhost", "127.0.0.1")
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("--addr {v}: expected IP:PORT"))?;
                opts.addr = Some(addr);
            }
            "--tls-dir" => opts.tls_dir = Some(PathBuf::from(value("--tls-dir")?)),
            "--token" => {
                let v = value("--token")?;
                let (id, token) = v.split_once('=').ok_or("--token expects ID=TOKEN")?;
                tokens.push((id.to_owned(), token.to_owned()));
            }
            "--exit-on-stdin-eof" => exit_on_eof = true,
            "--quiet" => opts.log_requests = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let sandbox = Sandbox::start(opts).map_err(|e| e.to_string())?;
    for (id, token) in &tokens {
        sandbox.set_token(id, token);
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "KY_BASE_URL={}", sandbox.base_url());
    if let Some(ca) = sandbox.ca_pem_path() {
        let _ = writeln!(stdout, "KY_CA_FILE={}", ca.display());
    }
    let _ = stdout.flush();
    drop(stdout);
    if exit_on_eof {
        // Returns when the parent closes our stdin (or dies): never outlive a test harness.
        let _ = std::io::stdin().lock().read_to_end(&mut Vec::new());
    } else {
        loop {
            std::thread::park();
        }
    }
    Ok(())
}
