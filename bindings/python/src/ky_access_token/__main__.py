"""``python -m ky_access_token PROGRAM_ID``: prints the token on stdout (only the token, so it
can be captured by a script). On failure prints ``KY_ERR_NAME: message`` on stderr and exits
with 10 + the status code (11 invalid argument, 13 network, 14 timeout, 17 API error...)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from . import Client, KyError, get_access_token, version
from ._native import status_name

EXIT_STATUS_BASE = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ky_access_token",
        description="Print the Tianmu mini-game access token for PROGRAM_ID. The KY_* environment "
        "variables (KY_BASE_URL, KY_TIMEOUT_MS, ...) configure the client; options override them.",
        epilog="Exit status: 0 on success, 2 on a usage error, 10 + the ky_status code on failure.",
    )
    parser.add_argument("program_id", metavar="PROGRAM_ID")
    parser.add_argument("--json", action="store_true", help='print {"program_id": ..., "access_token": ...}')
    parser.add_argument("--base-url", metavar="URL", help="API base URL (default: KY_BASE_URL or production)")
    parser.add_argument("--timeout", metavar="SECONDS", type=float, help="whole-call deadline in seconds")
    parser.add_argument("--version", action="version", version=f"ky-access-token {version()}")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.base_url is None and args.timeout is None:
            token = get_access_token(args.program_id)
        else:
            with Client(from_env=True, base_url=args.base_url, timeout=args.timeout) as client:
                token = client.get_access_token(args.program_id)
    except KyError as exc:
        print(f"{status_name(exc.status)}: {exc.message}", file=sys.stderr)
        return EXIT_STATUS_BASE + int(exc.status)
    except (TypeError, ValueError) as exc:  # not a KyError: an argument Python rejected itself
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"program_id": args.program_id, "access_token": token}, ensure_ascii=False))
    else:
        print(token)
    return 0


def cli() -> None:
    """Entry point of the ``ky-access-token`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
