#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/<target>/ (committed; rerun after changing a seed).

Seeds: the documented sample answer, every body the sandbox's fault modes send
(sandbox/src/faults.rs), truncated JSON, huge numbers, NUL/control bytes, UTF-8 edge cases, the
regression inputs of bugs found by fuzzing, program ids of length 0/1/32/33, `../x`, `%2e` and
non-ASCII, and C-ABI operation sequences in the format checks/c_entry_points.rs reads.
"""
import json
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
SAMPLE_ID = "223fc70098ad11e9a5898928ba7882e6"
SAMPLE_TOKEN = ("27_t3e8Pqc7RzC1V8UB3r-SC9GdryVrB0LcOxi3D4e614Rg5d_3sUkLbHZX8sk-LCecrIpjOfQ4YY_AUHn6"
                "XogMHFd1Lt4W85aSrfIOcr3bpZvKP798hLHuJd7NNt5i96m9526EZk8SafcTKoKIJUaAGASTE")


def compact(value):
    # serde_json::json!(…).to_string(): no spaces, UTF-8 kept.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def write(target, seeds):
    folder = ROOT / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)


def big_token(n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return ("27_" + "".join(alphabet[(i * 7) % 64] for i in range(n - 3)))[:n]


def response_seeds():
    ok = lambda token: compact({"err": 0, "msg": "请求成功", "data": {"accessToken": token}})
    fault = lambda err: compact({"err": err, "msg": "sandbox fault", "data": None})
    data = lambda value: compact({"err": 0, "msg": "ok", "data": value})
    sample = ok(SAMPLE_TOKEN)
    seeds = {
        "doc-sample": f'{{"err": 0, "msg": "请求成功", "data": {{"accessToken": "{SAMPLE_TOKEN}"}}}}'.encode(),
        "sandbox-ok": sample,
        "sandbox-default-token": ok("sandbox_abc_v1"),
        "sandbox-rotated": ok("27_sandbox_rotated_v3"),
        "sandbox-big-token-3000": ok(big_token(3000)),
        "fault-api-error": compact({"err": 40013, "msg": "项目不存在", "data": None}),
        "fault-api-error-40001": compact({"err": 40001, "msg": "项目不存在", "data": None}),
        "fault-api-error-negative": compact({"err": -1, "msg": "项目不存在", "data": None}),
        "fault-http-503": fault(503),
        "fault-404-route": compact({"err": 404, "msg": "not found", "data": None}),
        "fault-405": compact({"err": 405, "msg": "method not allowed", "data": None}),
        "fault-outage": compact({"err": 503, "msg": "sandbox outage", "data": None}),
        "fault-malformed": b'{"err":0,"data":{"accessToken":',
        "fault-not-json": b"<html>gateway</html>",
        "fault-no-token": data({}),
        "fault-empty-token": data({"accessToken": ""}),
        "fault-number-token": data({"accessToken": 12345}),
        "fault-null-data": data(None),
        "fault-control-token": data({"accessToken": "abc\u0001def"}),
        "fault-err-string": compact({"err": "0", "data": {"accessToken": "sandbox_x_v1"}}),
        "fault-err-float": compact({"err": 0.5, "data": {"accessToken": "sandbox_x_v1"}}),
        "fault-huge-body-prefix": b" " * 4096,
        "empty": b"",
        "whitespace-object": b' \r\n\t{ "err" : 0 , "data" : { "accessToken" : "x_y" } } \n',
        "err-big-positive": b'{"err":9223372036854775807,"msg":"m"}',
        "err-big-negative": b'{"err":-9223372036854775808,"msg":"m"}',
        "err-u64": b'{"err":18446744073709551615,"msg":"m"}',
        "err-over-u64": b'{"err":18446744073709551616,"msg":"m"}',
        "err-1e400": b'{"err":1e400,"data":{"accessToken":"x"}}',
        "err-minus-zero": b'{"err":-0,"data":{"accessToken":"x"}}',
        "err-0e0": b'{"err":0e0,"data":{"accessToken":"x"}}',
        "err-null": b'{"err":null,"data":{"accessToken":"x"}}',
        "err-true": b'{"err":true,"data":{"accessToken":"x"}}',
        "duplicate-err": b'{"err":1,"err":0,"data":{"accessToken":"x"}}',
        "duplicate-token": b'{"err":0,"data":{"accessToken":"a","accessToken":"b"}}',
        "token-nul-escaped": b'{"err":0,"data":{"accessToken":"ab\\u0000cd"}}',
        "token-nul-raw": b'{"err":0,"data":{"accessToken":"ab\x00cd"}}',
        "token-del": b'{"err":0,"data":{"accessToken":"ab\x7fcd"}}',
        "token-c1": '{"err":0,"data":{"accessToken":"ab\u0085cd"}}'.encode(),
        "token-newline": b'{"err":0,"data":{"accessToken":"ab\\ncd"}}',
        "token-lone-surrogate": b'{"err":0,"data":{"accessToken":"\\ud800"}}',
        "token-surrogate-pair": b'{"err":0,"data":{"accessToken":"\\ud83d\\ude00"}}',
        "token-bom-zwsp": '{"err":0,"data":{"accessToken":"\ufeffa\u200bb"}}'.encode(),
        "token-line-separator": '{"err":0,"data":{"accessToken":"a\u2028b"}}'.encode(),
        "token-4-byte": '{"err":0,"data":{"accessToken":"𝄞_😀"}}'.encode(),
        "token-noncharacter": '{"err":0,"data":{"accessToken":"a\uffffb"}}'.encode(),
        "utf8-overlong": b'{"err":0,"data":{"accessToken":"\xc0\xaf"}}',
        "utf8-truncated": b'{"err":0,"data":{"accessToken":"\xe9\xa1"}}',
        "utf8-surrogate-raw": b'{"err":0,"data":{"accessToken":"\xed\xa0\x80"}}',
        "invalid-utf8-prefix": b"\xff\xfe{",
        "msg-control": b'{"err":5,"msg":"a\\u0000b\\u001bc","data":null}',
        "msg-long": compact({"err": 7, "msg": "项" * 300, "data": None}),
        "msg-not-string": b'{"err":5,"msg":{"a":1},"data":null}',
        # Each control character is escaped: a 200-character msg can quote as ~1200 characters.
        "msg-control-escapes": b'{"err":5,"msg":"' + b"\x7f" * 250 + b'"}',
        "deep-nesting": b'{"err":0,"data":' + b'[' * 200 + b']' * 200 + b'}',
        "top-level-array-empty": b"[]",
        "top-level-null": b"null",
        "top-level-number": b"0",
        "trailing-garbage": sample + b"garbage",
        "two-objects": sample + sample,
        # Regression inputs of the two bugs this target found (see fuzz/README.md, "Findings").
        "regression-array-envelope-min": b"[4,4,4]",
        "regression-array-envelope-token": b'[0,null,{"accessToken":"27_array_form"}]',
        "regression-array-envelope-found": b" [4,40044044.444444444444444444,4644400000.4360\n \n]",
        "regression-quoted-body-min": b'"!!!_!!!!"',
        "regression-quoted-body-token": b'"27_SECRET_token_as_a_json_string"',
    }
    for cut in (1, 2, 8, 9, 17, 30, 40, len(sample) - 2, len(sample) - 1):
        seeds[f"truncated-{cut}"] = sample[:cut]
    return seeds


def program_id_seeds():
    seeds = {
        "len0": b"", "len1": b"a", "len32": b"x" * 32, "len33": b"x" * 33, "sample": SAMPLE_ID.encode(),
        "all-classes": b"A-z_0-9", "dot-dot-slash-x": b"../x", "pct-2e": b"%2e", "pct-2E2E": b"%2E%2E",
        "slash": b"a/b", "query": b"a?b", "fragment": b"a#b", "space": b"a b", "tab": b"a\tb",
        "nul": b"\x00", "nul-inside": b"abc\x00def", "del": b"a\x7f", "chinese": "项目".encode(),
        "e-acute": "é".encode(), "invalid-utf8": b"ab\xff\xfe", "fullwidth-a": "ａ".encode(),
        "len32-last-bad": b"x" * 31 + b".", "len33-valid-chars": b"0123456789abcdef0123456789abcdef0",
    }
    return seeds


class Ops:
    """Encodes operations the way checks/c_entry_points.rs decodes them."""

    GET, ALLOC, INVALIDATE, INVALIDATE_IF, ASYNC, STATUS, CONFIG, SETTER, CLIENT, STATS, LOG, VERSION = range(12)

    def __init__(self):
        self.b = bytearray()

    def byte(self, v):
        self.b.append(v & 0xFF)
        return self

    def le(self, v, n):
        self.b += (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")
        return self

    def number(self, v):
        n = 1 if v < 1 << 8 else 2 if v < 1 << 16 else 4 if v < 1 << 32 else 8
        return self.byte({1: 0, 2: 1, 4: 2, 8: 3}[n]).le(v, n)

    def cstr(self, data, mode=0, long_len=0):
        """mode 0 NUL-terminated, 1 NULL, 2 unterminated up to the read limit, 3 repeated to long_len."""
        self.byte(mode).byte(len(data)).b.extend(data)
        if mode == 3:
            self.le(long_len, 2)
        return self

    def out(self, length=None, null=False):
        if null:
            return self.byte(3).byte(length or 0) if length else self.byte(2)
        return self.byte(0).byte(length) if length < 48 else self.byte(1).le(length, 2)

    def op(self, code):
        return self.byte(code)


def c_seeds():
    sid = SAMPLE_ID.encode()
    s = {}
    o = Ops()
    s["get-sample"] = bytes(o.op(Ops.GET).cstr(sid).out(1024).b)
    for name, ident in {"len0": b"", "len1": b"a", "len32": b"x" * 32, "len33": b"x" * 33,
                        "dotdot": b"../x", "pct": b"%2e", "chinese": "项目".encode()}.items():
        o = Ops()
        o.op(Ops.GET).cstr(ident).out(64).op(Ops.INVALIDATE).cstr(ident).op(Ops.ALLOC).cstr(ident)
        o.op(Ops.ASYNC).cstr(ident).byte(1)
        s[f"id-{name}"] = bytes(o.b)
    s["id-unterminated-33"] = bytes(Ops().op(Ops.GET).cstr(b"a", mode=2).out(64).b)
    s["id-unterminated-valid-prefix"] = bytes(Ops().op(Ops.INVALIDATE).cstr(b"abc\x00", mode=2).b)
    s["id-null"] = bytes(Ops().op(Ops.GET).cstr(b"", mode=1).out(8).op(Ops.INVALIDATE).cstr(b"", mode=1).b)
    s["id-long-repeated"] = bytes(Ops().op(Ops.GET).cstr(b"ab", mode=3, long_len=40).out(8).b)
    s["out-null-len8"] = bytes(Ops().op(Ops.GET).cstr(sid).out(8, null=True).b)
    s["out-size-query"] = bytes(Ops().op(Ops.GET).cstr(sid).out(null=True).b)
    s["out-len0-1-2"] = bytes(Ops().op(Ops.GET).cstr(sid).out(0).op(Ops.GET).cstr(sid).out(1).op(Ops.GET).cstr(b"q").out(2).b)
    o = Ops().op(Ops.INVALIDATE_IF).cstr(sid).byte(1).byte(8).b
    o += b"27_token"
    o.append(1)
    s["invalidate-if"] = bytes(o)
    s["invalidate-if-null-token"] = bytes(Ops().op(Ops.INVALIDATE_IF).cstr(sid).byte(0).byte(4).b + b"abcd" + b"\x00")
    s["async-valid"] = bytes(Ops().op(Ops.ASYNC).cstr(sid).byte(1).op(Ops.ASYNC).cstr(b"x").byte(0).b)
    o = Ops()
    for code in (-1, 0, 1, 4, 9, 11, 12, 2**31 - 1, -2**31):
        o.op(Ops.STATUS).le(code, 4)
    s["status-codes"] = bytes(o.op(Ops.VERSION).b)
    o = Ops()
    for size in (0, 7, 8, 100, 208, 300):
        o.op(Ops.STATS).byte(1).byte(size & 0xFF).byte(size >> 8)
    s["stats-sizes"] = bytes(o.op(Ops.STATS).byte(0).byte(208).byte(0).b)
    o = Ops()
    for level in (0, 3, 4, -1):
        o.op(Ops.LOG).le(level, 4).byte(1)
    o.op(Ops.GET).cstr(b"logged").out(64).op(Ops.LOG).le(0, 4).byte(0)
    s["log-levels"] = bytes(o.b)

    def setters(o):
        o.op(Ops.SETTER).byte(1).byte(0).cstr(b"https://api.kuaiyugo.com")
        o.op(Ops.SETTER).byte(1).byte(0).cstr(b"http://example.com")
        o.op(Ops.SETTER).byte(1).byte(0).cstr(b"", mode=1)
        for which, values in ((1, (0, 1, 600000, 600001, 2**64 - 1)), (2, (0, 1, 600001)),
                              (3, (10, 11, 2**32 + 1)), (4, (0, 300001, 2**64 - 1)), (10, (300000, 300001))):
            for v in values:
                o.op(Ops.SETTER).byte(1).byte(which).number(v)
        o.op(Ops.SETTER).byte(1).byte(5).cstr(b"/nonexistent/ca.pem")
        o.op(Ops.SETTER).byte(1).byte(5).cstr(b"p", mode=2)
        o.op(Ops.SETTER).byte(1).byte(6).byte(1).byte(27).b.extend(b"-----BEGIN CERTIFICATE-----")
        for proxy in (b"none", b"env", b"", b"http://127.0.0.1:9", b"socks5://x", b"http://[::1"):
            o.op(Ops.SETTER).byte(1).byte(7).cstr(proxy)
        for suffix in (b"game/1.0", b"x" * 64, b"x" * 65, b"tab\there", "é".encode()):
            o.op(Ops.SETTER).byte(1).byte(8).cstr(suffix)
        for bits in (0.0, 0.8, 1.0, 1.5, -0.0, float("nan"), float("inf")):
            o.op(Ops.SETTER).byte(1).byte(9).le(struct.unpack("<Q", struct.pack("<d", bits))[0], 8)
        o.op(Ops.SETTER).byte(1).byte(11).cstr(b"prefetched")
        o.op(Ops.SETTER).byte(1).byte(11).cstr(b"../x")
        o.op(Ops.SETTER).byte(0).byte(3).number(1)  # NULL configuration
        return o

    s["config-setters"] = bytes(setters(Ops().op(Ops.CONFIG).byte(0)).b)
    o = Ops().op(Ops.CONFIG).byte(1)
    o.op(Ops.SETTER).byte(1).byte(11).cstr(b"warm")
    o.op(Ops.CLIENT).byte(1).byte(5)
    o.byte(0).cstr(b"cli").out(128)
    o.byte(3).cstr(b"cli").byte(1).byte(3).b.extend(b"abc")
    o.byte(1)
    o.byte(4).cstr(b"cli").byte(1)
    o.byte(4).cstr(b"cli2").byte(1)
    o.byte(5).byte(1).byte(208).byte(0)
    s["client-from-env"] = bytes(o.b)
    o = Ops().op(Ops.CONFIG).byte(0)
    o.op(Ops.SETTER).byte(1).byte(6).byte(1).byte(40).b.extend(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----")
    o.op(Ops.CLIENT).byte(1).byte(0)
    s["client-bad-pem"] = bytes(o.b)
    s["client-null"] = bytes(Ops().op(Ops.CLIENT).cstr(b"x").op(Ops.CONFIG).byte(2).op(Ops.CONFIG).byte(3).b)
    o = Ops().op(Ops.CONFIG).byte(0).op(Ops.CLIENT).byte(1).byte(5)
    for _ in range(5):
        o.byte(4).cstr(b"burst").byte(1)
    s["client-free-with-pending-async"] = bytes(o.b)
    return s


if __name__ == "__main__":
    write("response_parser", response_seeds())
    write("program_id", program_id_seeds())
    write("c_entry_points", c_seeds())
    for target in ("response_parser", "program_id", "c_entry_points"):
        print(target, len(list((ROOT / target).iterdir())), "seeds")
