#!/usr/bin/env bash
# Fetch the Tianmu access token in a shell script (a cron job, a deploy step, an ops one-liner)
# with the ky-token command, and act on its exit status.
#
#   KY_BASE_URL=http://127.0.0.1:8787 examples/shell/get-token.sh [PROGRAM_ID]
#
# KY_BASE_URL etc. are read by ky-token itself (unset: the production API). KY_TOKEN names the
# ky-token binary (default: the one on PATH; `cargo build -p ky-token` puts it in target/debug).
# Exit status: 0, or ky-token's (2 usage, 10 + ky_status code).
set -euo pipefail
ky_token=${KY_TOKEN:-ky-token}
program_id=${1:-223fc70098ad11e9a5898928ba7882e6}

# stdout is the token alone, so $(...) captures exactly it; failures explain themselves on stderr.
if token=$("$ky_token" --timeout 3s "$program_id"); then
  # A token is a secret: use it, don't log it. Here we only report its shape.
  echo "got the access token for $program_id (${#token} characters, starts ${token:0:3}...)"
  # e.g.: curl -fsS "https://api.weixin.qq.com/wxa/msg_sec_check?access_token=$token" -d @body.json
  # and if WeChat answers errcode 40001/42001 just run ky-token again later: a new process
  # always asks the API (Tianmu serves its current token).
  exit 0
else
  status=$?
fi
case $status in
  13 | 14 | 16) echo "network, timeout or HTTP error (exit status $status): retry later" >&2 ;;
  17) echo "the API refused program $program_id: check the id (message above)" >&2 ;;
  11) echo "invalid program id or KY_* configuration (message above)" >&2 ;;
  *) echo "ky-token failed with exit status $status" >&2 ;;
esac
exit "$status"
