"""The loopback sandbox as the benchmarks use it: start target/*/ky-sandbox (HTTP or TLS) and talk
to its control endpoints."""

import json
import ssl
import subprocess
import urllib.parse
import urllib.request


class Sandbox:
    """`ky-sandbox --quiet --exit-on-stdin-eof`: it exits when we close its stdin, so it never
    outlives the run even if this process is killed."""

    def __init__(self, binary, tls_dir=None):
        cmd = [binary, "--quiet", "--exit-on-stdin-eof"] + (["--tls-dir", tls_dir] if tls_dir else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.base_url = self.ca_file = None
        for _ in range(2 if tls_dir else 1):
            line = self.proc.stdout.readline().strip()
            key, _, value = line.partition("=")
            if key == "KY_BASE_URL":
                self.base_url = value
            elif key == "KY_CA_FILE":
                self.ca_file = value
        if not self.base_url or (tls_dir and not self.ca_file):
            self.close()
            raise RuntimeError(f"{binary} did not start (exit status {self.proc.poll()})")
        self.port = urllib.parse.urlsplit(self.base_url).port
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        handlers = [urllib.request.ProxyHandler({})]  # never a proxy from the environment
        if context:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def control(self, method, path):
        request = urllib.request.Request(self.base_url + path, method=method, data=b"" if method != "GET" else None)
        with self.opener.open(request, timeout=10) as answer:
            return answer.read()

    def stats(self):
        return json.loads(self.control("GET", "/_sandbox/stats"))

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

