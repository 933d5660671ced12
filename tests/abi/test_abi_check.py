"""The bindings match the header, and the checker catches every kind of mismatch it claims to.

Run by tests/bindings_abi.rs (``python3 -m unittest discover -s tests/abi``) with
KY_ACCESS_TOKEN_LIB set to the library that cargo just built and KY_STATS_SIZE to Rust's
``size_of::<ky_stats>()``.
"""

import ctypes
import os
import types
import unittest

import abi_check as a

a.read_python()  # puts bindings/python/src on sys.path and loads the package

HEADER = (a.ROOT / "include" / "ky_access_token.h").read_text(encoding="utf-8")
CSHARP = "\n".join((a.ROOT / "bindings" / "csharp" / "src" / f).read_text(encoding="utf-8")
                   for f in a.CS_FILES)
CPP = (a.ROOT / "examples" / "cpp" / "ky_access_token.hpp").read_text(encoding="utf-8")


def mutated(text, old, new):
    assert text.count(old) >= 1, f"{old!r} not found: the test's input changed"
    return text.replace(old, new, 1)


class RealTree(unittest.TestCase):
    def test_every_binding_matches_the_header(self):
        errors, checked = a.check_all()
        self.assertEqual(errors, [])
        self.assertTrue({"python", "csharp", "cpp"} <= set(checked), checked)

    def test_the_header_is_read_completely(self):
        header = a.read_header()
        exported = set(__import__("re").findall(r"\b(ky_\w+)\s*\(", a._strip_c(HEADER)))
        exported -= set(header.callbacks)
        self.assertEqual(set(header.functions), exported)
        self.assertEqual(len(header.enums["ky_status"]), 12)
        self.assertEqual(header.enums["ky_status"]["KY_ERR_BUSY"], 11)
        self.assertEqual(len(header.structs["ky_stats"]), 11)
        self.assertEqual(set(header.callbacks),
                         {"ky_token_callback", "ky_token_detail_callback", "ky_log_callback"})

    def test_struct_size_from_the_header_equals_rusts(self):
        want = os.environ.get("KY_STATS_SIZE")
        if want is None:
            self.fail("KY_STATS_SIZE is not set (run through cargo test --test bindings_abi)")
        self.assertEqual(a.read_header().struct_sizes["ky_stats"], int(want))


class Mismatches(unittest.TestCase):
    """Each deliberate mismatch is reported, naming the item."""

    def setUp(self):
        self.header = a.read_header_text(HEADER)

    def csharp_errors(self, old, new):
        return a.compare(self.header, a.read_csharp_text(mutated(CSHARP, old, new)), "csharp", True)

    def assertReported(self, errors, *words):
        self.assertTrue(any(all(w in e for w in words) for e in errors), errors)

    # (what the C# source says, what the mutation makes it say, words the report must contain)
    CSHARP_MUTATIONS = [
        ("ky_config_set_max_retries(IntPtr config, uint retries)",
         "ky_config_set_max_retries(IntPtr config, ulong retries)",
         "ky_config_set_max_retries argument 2 is u64", "u32"),
        ("KyStatsNative* outStats, UIntPtr outSize)", "KyStatsNative* outStats, uint outSize)",
         "ky_get_stats argument 2 is u32"),
        ("static extern long ky_last_api_err()", "static extern int ky_last_api_err()",
         "ky_last_api_err returns i32", "i64"),
        ("byte[] pem, UIntPtr len)", "byte[] pem)", "ky_config_set_ca_pem takes 2 arguments"),
        ("IntPtr ky_version()", "IntPtr ky_versio()", "ky_version is not declared"),
        ("out byte outInvalidated)", "bool outInvalidated)", "ky_invalidate_access_token_if argument 4"),
        ("Busy = 11,", "Busy = 12,", "ky_status", "busy", "12"),
        ("Warn = 2,", "Warn = 3,", "ky_log_level", "warn"),
        ("internal ulong cache_hits;\n        internal ulong cache_misses;",
         "internal ulong cache_misses;\n        internal ulong cache_hits;", "ky_stats field 3"),
        ("internal ulong stale_served;", "internal uint stale_served;", "ky_stats field 9"),
        ("internal ulong cached_programs;", "", "sizeof(ky_stats) is 192"),
        ("const int StatusSlots = 16;", "const int StatusSlots = 15;", "KY_STATUS_SLOTS is 15"),
        ("NativeLogCallback(int level, IntPtr line,", "NativeLogCallback(IntPtr line, int level,",
         "callback ky_log_callback"),
    ]

    def test_csharp_mutations(self):
        for old, new, *words in self.CSHARP_MUTATIONS:
            with self.subTest(new=new):
                self.assertReported(self.csharp_errors(old, new), *words)

    def test_header_change_is_caught_against_an_unchanged_binding(self):
        header = a.read_header_text(mutated(
            HEADER, "ky_status ky_config_set_timeout_ms(ky_config *config, uint64_t ms);",
            "ky_status ky_config_set_timeout_ms(ky_config *config, uint32_t ms);"))
        errors = a.compare(header, a.read_csharp_text(CSHARP), "csharp", True)
        self.assertReported(errors, "ky_config_set_timeout_ms argument 2 is u64", "u32")
        header = a.read_header_text(mutated(HEADER, "KY_ERR_BUSY = 11,", "KY_ERR_BUSY = 11,\n  KY_ERR_NEW = 12,"))
        self.assertReported(a.compare(header, a.read_csharp_text(CSHARP), "csharp", True), "'new' is None")

    def test_python_signature_struct_enum_and_callback(self):
        native = __import__("ky_access_token._native", fromlist=["_"])
        errors_mod = __import__("ky_access_token._errors", fromlist=["_"])
        log_mod = __import__("ky_access_token._log", fromlist=["_"])
        enums = {"_errors": errors_mod, "_log": log_mod}
        fake = types.SimpleNamespace(**{k: getattr(native, k) for k in dir(native) if not k.startswith("__")})

        def errors():
            return a.compare(self.header, a.read_python_modules(fake, enums), "python", True)

        self.assertEqual(errors(), [])
        original = list(native._SIGNATURES)
        fake._SIGNATURES = [(n, (ctypes.c_int64,) + args[1:] if n == "ky_status_name" else args, r)
                            for n, args, r in original]
        self.assertReported(errors(), "ky_status_name argument 1 is i64")
        fake._SIGNATURES = [(n, args, ctypes.c_int64 if n == "ky_config_new" else r) for n, args, r in original]
        self.assertReported(errors(), "ky_config_new returns i64")
        fake._SIGNATURES = [s for s in original if s[0] != "ky_client_free"]
        self.assertReported(errors(), "ky_client_free is not declared")
        fake._SIGNATURES = original

        fields = list(native.KyStats._fields_)
        fields[2], fields[3] = fields[3], fields[2]
        fake.KyStats = type("KyStats", (ctypes.Structure,), {"_fields_": fields})
        self.assertReported(errors(), "ky_stats field 3")
        fake.KyStats = type("KyStats", (ctypes.Structure,),
                            {"_fields_": native.KyStats._fields_[:-1]})
        self.assertReported(errors(), "sizeof(ky_stats) is 192")
        fake.KyStats = native.KyStats

        fake.LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_char_p)
        self.assertReported(errors(), "callback ky_log_callback")
        self.assertReported(errors(), "ky_set_log_callback argument 1 is fn:(a CFUNCTYPE not listed")
        fake.LOG_CALLBACK = native.LOG_CALLBACK

        from enum import IntEnum
        enums["_errors"] = types.SimpleNamespace(Status=IntEnum("Status", {"OK": 0, "NETWORK": 4}))
        self.assertReported(errors(), "'network' is 4")
        self.assertReported(errors(), "'busy' is None")

    def test_cpp_wrapper_must_not_declare_the_abi_itself(self):
        self.assertEqual(a.read_cpp_text(CPP).functions, {})
        with self.assertRaisesRegex(ValueError, "declares C ABI items"):
            a.read_cpp_text(CPP + '\nextern "C" int ky_version(void);\n')
        with self.assertRaisesRegex(ValueError, "declares C ABI items"):
            a.read_cpp_text(CPP + "\n#define KY_OK 0\n")
        with self.assertRaisesRegex(ValueError, "does not #include"):
            a.read_cpp_text(CPP.replace('#include "ky_access_token.h"', ""))


class KoffiReader(unittest.TestCase):
    """The hook for bindings/node: koffi prototype strings read like the header."""

    GOOD = """
        const cb = koffi.proto('void ky_token_callback(ky_status status, const char *token, size_t len, void *ud)');
        const stats = koffi.struct('ky_stats', {
          version: 'uint32_t', size: 'uint32_t', cache_hits: 'uint64_t', cache_misses: 'uint64_t',
          upstream_requests: 'uint64_t', upstream_failures: 'uint64_t',
          upstream_failures_by_status: koffi.array('uint64_t', KY_STATUS_SLOTS),
          coalesced_waiters: 'uint64_t', stale_served: 'uint64_t', refresh_ahead_runs: 'uint64_t',
          cached_programs: 'uint64_t',
        });
        const get = lib.func('ky_status ky_get_access_token(const char *program_id, _Out_ char *out_buf, size_t len)');
        const stats_fn = lib.func('ky_status ky_client_stats(const ky_client *client, _Out_ ky_stats *out, size_t out_size)');
        const asyncGet = lib.func('ky_status ky_get_access_token_async(const char *, ky_token_callback *, void *)');
    """

    def errors(self, text):
        header = a.read_header_text(HEADER)
        return a.compare(header, a.read_koffi_text(text, header), "node", False)

    def test_good_declarations_pass(self):
        abi = a.read_koffi_text(self.GOOD, a.read_header_text(HEADER))
        self.assertEqual(len(abi.functions), 3)
        self.assertEqual(abi.struct_sizes["ky_stats"], 200)
        self.assertEqual(self.errors(self.GOOD), [])

    def test_mismatches_fail(self):
        bad = mutated(self.GOOD, "size_t len)')", "uint32_t len)')")
        self.assertTrue(any("ky_get_access_token argument 3" in e for e in self.errors(bad)))
        bad = mutated(self.GOOD, "stale_served: 'uint64_t'", "stale_served: 'uint32_t'")
        self.assertTrue(any("ky_stats field 9" in e for e in self.errors(bad)))
        bad = mutated(self.GOOD, "cached_programs: 'uint64_t',", "")
        self.assertTrue(any("sizeof(ky_stats) is 192" in e for e in self.errors(bad)))
        bad = mutated(self.GOOD, "ky_status status, const char *token", "const char *token, ky_status status")
        self.assertTrue(any("callback ky_token_callback" in e for e in self.errors(bad)))


if __name__ == "__main__":
    unittest.main()
