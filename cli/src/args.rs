//! Command-line parsing with lexopt (`--name VALUE`, `--name=VALUE`, `--`, non-UTF-8 arguments
//! rejected cleanly); this module only says what each option means. A parse failure is a usage
//! error (exit code 2).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: ky-token [OPTIONS] PROGRAM_ID
       ky-token sandbox [--addr IP:PORT] [--tls-dir DIR] [--quiet]
       ky-token --help | --version

Prints the Tianmu (天幕) mini-game access token for PROGRAM_ID on stdout, and nothing else.
Configuration comes from the KY_* environment (KY_BASE_URL, KY_TIMEOUT_MS, KY_MAX_RETRIES,
KY_CA_FILE, HTTPS_PROXY, ...; see the library README); options override it.

options:
  --json               print one JSON object on stdout, on success and on failure
  --base-url URL       API base URL (instead of KY_BASE_URL; http:// only for loopback)
  --timeout DURATION   deadline for the whole call, retries included: seconds (2.5 or 2.5s, as
                       the Python binding's CLI) or milliseconds with ms (2500ms, as KY_TIMEOUT_MS)
  --max-retries N      retries after a network error or 5xx (0-10)
  --ca-file PATH       extra trusted root certificates (PEM)
  --invalidate         drop the cached token before fetching (a new process has an empty cache,
                       so this fetches from the API, as every call of ky-token does)

sandbox: runs the bundled loopback API emulator in the foreground until interrupted, on
  127.0.0.1:8787 (--addr 127.0.0.1:0 picks any free port), printing
  KY_BASE_URL=http://127.0.0.1:8787 (and KY_CA_FILE=... with --tls-dir) as its first lines.

exit status: 0 token printed; 1 other failure (output, sandbox); 2 usage;
  10 + the ky_status code on failure: 11 invalid argument or configuration, 13 network,
  14 timeout, 15 TLS, 16 HTTP status, 17 API error (err != 0), 18 bad response, 19 internal.
errors go to stderr as `KY_ERR_NAME: message` (with --json: the JSON object on stdout instead).";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Help,
    Version,
    Token(TokenArgs),
    Sandbox(SandboxArgs),
}

#[derive(Debug, Default, PartialEq)]
pub struct TokenArgs {
    pub program_id: String,
    pub json: bool,
    pub base_url: Option<String>,
    pub timeout: Option<Duration>,
    pub max_retries: Option<u32>,
    pub ca_file: Option<PathBuf>,
    pub invalidate: bool,
}

#[derive(Debug, Default, PartialEq)]
pub struct SandboxArgs {
    pub addr: Option<SocketAddr>,
    pub tls_dir: Option<PathBuf>,
    pub quiet: bool,
}

/// Where `ky-token sandbox` listens unless `--addr` says otherwise: a fixed port, so the address
/// the docs show (`KY_BASE_URL=http://127.0.0.1:8787`) is the one it serves.
pub const DEFAULT_SANDBOX_ADDR: &str = "127.0.0.1:8787";

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    parse_lexopt(lexopt::Parser::from_args(args)).map_err(|e| e.to_string())
}

fn parse_lexopt(mut parser: lexopt::Parser) -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;
    let mut out = TokenArgs::default();
    let mut program_id: Option<String> = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("json") => out.json = true,
            Long("invalidate") => out.invalidate = true,
            Long("base-url") => out.base_url = Some(parser.value()?.string()?),
            Long("timeout") => {
                let value = parser.value()?.string()?;
                out.timeout = Some(parse_duration(&value).map_err(|e| format!("--timeout {e}"))?);
            }
            Long("max-retries") => {
                let value = parser.value()?.string()?;
                let n = value
                    .parse()
                    .map_err(|_| format!("--max-retries {value}: not a number"))?;
                out.max_retries = Some(n);
            }
            Long("ca-file") => out.ca_file = Some(parser.value()?.into()),
            Value(value) if program_id.is_none() => {
                let value = value.string()?;
                if value == "sandbox" && out == TokenArgs::default() {
                    return parse_sandbox(parser).map(Command::Sandbox);
                }
                program_id = Some(value);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    // The library checks the id's characters (exit 11); only its absence is a usage error.
    out.program_id = program_id.ok_or("missing PROGRAM_ID")?;
    Ok(Command::Token(out))
}

fn parse_sandbox(mut parser: lexopt::Parser) -> Result<SandboxArgs, lexopt::Error> {
    use lexopt::prelude::*;
    let mut out = SandboxArgs {
        addr: Some(DEFAULT_SANDBOX_ADDR.parse().expect("a valid address")),
        ..SandboxArgs::default()
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("addr") => {
                let value = parser.value()?.string()?;
                let addr = value.replace("localhost", "127.0.0.1");
                out.addr = Some(
                    addr.parse()
                        .map_err(|_| format!("--addr {value}: expected IP:PORT"))?,
                );
            }
            Long("tls-dir") => out.tls_dir = Some(parser.value()?.into()),
            Long("quiet") => out.quiet = true,
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(out)
}

/// `2.5` and `2.5s` are seconds (like `curl --max-time` and `python -m ky_access_token
/// --timeout`), `2500ms` milliseconds (like KY_TIMEOUT_MS).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text}: expected seconds (2.5, 2.5s) or milliseconds (2500ms)");
    let (number, scale) = match text.strip_suffix("ms") {
        Some(ms) => (ms, 1e-3),
        None => (text.strip_suffix('s').unwrap_or(text), 1.0),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let seconds = value * scale;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 86_400.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn token_options_in_both_forms() {
        let Command::Token(t) = parse_strs(&[
            "--json",
            "--base-url=http://127.0.0.1:9",
            "--timeout",
            "1.5s",
            "--max-retries=0",
            "abc",
            "--invalidate",
        ])
        .unwrap() else {
            panic!("not a token command")
        };
        assert_eq!(t.program_id, "abc");
        assert!(t.json && t.invalidate);
        assert_eq!(t.base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(t.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(t.max_retries, Some(0));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0.25").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        for bad in ["", "0", "0ms", "-5", "abc", "1h", "NaNs", "inf", "1e9"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usage_errors() {
        assert_eq!(parse_strs(&[]).unwrap_err(), "missing PROGRAM_ID");
        assert!(
            parse_strs(&["--bogus", "x"])
                .unwrap_err()
                .contains("--bogus")
        );
        assert!(parse_strs(&["a", "b"]).unwrap_err().contains("unexpected"));
        assert!(
            parse_strs(&["--timeout"])
                .unwrap_err()
                .contains("missing argument for option '--timeout'")
        );
        assert_eq!(
            parse_strs(&["--timeout", "soon", "x"]).unwrap_err(),
            "--timeout soon: expected seconds (2.5, 2.5s) or milliseconds (2500ms)"
        );
        assert!(
            parse_strs(&["--max-retries=x", "a"])
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse_strs(&["sandbox", "--addr", "nope"]).is_err());
        assert!(parse_strs(&["sandbox", "extra"]).is_err());
        assert_eq!(parse_strs(&["x", "--help"]).unwrap(), Command::Help);
    }

    #[test]
    fn sandbox_command() {
        let Command::Sandbox(s) =
            parse_strs(&["sandbox", "--addr=localhost:0", "--quiet"]).unwrap()
        else {
            panic!("not a sandbox command")
        };
        assert_eq!(s.addr, Some("127.0.0.1:0".parse().unwrap()));
        assert!(s.quiet && s.tls_dir.is_none());
        let Command::Sandbox(s) = parse_strs(&["sandbox"]).unwrap() else {
            panic!("not a sandbox command")
        };
        assert_eq!(s.addr, Some(DEFAULT_SANDBOX_ADDR.parse().unwrap()));
        // A program id after `--` may be anything, even "sandbox" or an option-like text.
        let Command::Token(t) = parse_strs(&["--json", "--", "-x"]).unwrap() else {
            panic!("not a token command")
        };
        assert_eq!(t.program_id, "-x");
    }
}
