"""The same loopback-TLS fetch from Python, the way a Python game tool would do it without this
library: `requests` (a new connection per fetch, or a Session that keeps it) and the standard
library's `urllib` (a new connection per fetch; it has no keep-alive).

    python3 py_fetch.py requests-fresh|requests-session|urllib N REPEATS BASE_URL CA_FILE

One JSON line per repeat, like the C drivers."""

import json
import ssl
import statistics
import sys
import time
import urllib.request

ID = "223fc70098ad11e9a5898928ba7882e6"


def fetcher(mode, url, ca):
    if mode == "urllib":
        context = ssl.create_default_context(cafile=ca)
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )

        def get():
            with opener.open(url, timeout=5) as answer:
                return answer.read()

        return get
    import requests  # only this peer needs it: the others run without it

    if mode == "requests-fresh":
        def get():
            with requests.Session() as session:
                session.trust_env = False  # no proxy from the environment: loopback only
                return session.get(url, verify=ca, timeout=5).content

        return get
    if mode == "requests-session":
        session = requests.Session()
        session.trust_env = False
        return lambda: session.get(url, verify=ca, timeout=5).content
    raise SystemExit(f"unknown mode {mode}")


def main():
    mode, n, repeats, base, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    url = f"{base}/api/config/v1/programs/{ID}/accesstoken"
    get = fetcher(mode, url, ca)
    if not json.loads(get())["data"]["accessToken"]:  # warm-up, and a check the answer is right
        raise SystemExit("no token in the answer")
    for r in range(repeats):
        times = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            body = get()
            token = json.loads(body)["data"]["accessToken"]
            times.append(time.perf_counter_ns() - t0)
            if not token:
                raise SystemExit("no token in the answer")
        print(json.dumps({"bench": "fetch", "peer": "python", "mode": mode, "repeat": r, "n": n,
                          "p50_us": round(statistics.median(times) / 1e3, 1),
                          "mean_us": round(statistics.fmean(times) / 1e3, 1)}), flush=True)


if __name__ == "__main__":
    main()
