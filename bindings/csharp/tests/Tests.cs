// The C# binding's tests: every one runs against the real library and the real sandbox
// (KY_BASE_URL, set by run-tests.sh) and asserts real values, including what the sandbox saw.
using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace Ky.Tests
{
    internal static partial class Tests
    {
        internal static IEnumerable<KeyValuePair<string, Action>> All()
        {
            var all = new List<KeyValuePair<string, Action>>();
            Action<string, Action> add = (name, test) => all.Add(new KeyValuePair<string, Action>(name, test));
            add("version_and_status_names_match_the_library", VersionAndStatusNames);
            add("sample_id_returns_the_documented_token", SampleIdReturnsDocumentedToken);
            add("first_get_sends_one_request_second_is_cached", FirstGetOneRequestSecondCached);
            add("token_of_3000_chars_is_returned_whole", BigToken);
            add("invalid_ids_throw_argument_exceptions_without_a_request", InvalidIds);
            add("api_error_has_err_and_chinese_message", ApiError);
            add("http_404_is_http_status_exception", Http404);
            add("bad_responses_are_bad_response_exceptions", BadResponses);
            add("slow_server_times_out_with_timeout_exception", Timeout);
            add("refused_connection_is_network_exception", RefusedConnection);
            add("bad_options_are_rejected_with_their_name", BadOptions);
            add("get_async_returns_before_a_slow_answer", GetAsyncDoesNotBlock);
            add("get_async_100_concurrent_share_one_request", GetAsyncConcurrent);
            add("get_async_failure_carries_the_details", GetAsyncFailure);
            add("get_async_cancellation_cancels_the_task_only", GetAsyncCancellation);
            add("get_async_runs_on_managed_threads_not_native_workers", GetAsyncRunsOnManagedThreads);
            add("process_exits_after_async_calls", ProcessExitsAfterAsync);
            add("dispose_twice_is_fine_use_after_is_object_disposed", DisposeTwiceAndUseAfter);
            add("dispose_racing_gets_never_frees_under_a_call", DisposeRacingGets);
            add("dispose_cancels_queued_async_calls", DisposeCancelsQueuedAsync);
            add("invalidate_refetches", Invalidate);
            add("invalidate_if_drops_the_old_token_once", InvalidateIf);
            add("default_client_invalidate_if_drops_the_old_token_once", DefaultInvalidateIf);
            add("stats_count_what_the_sandbox_saw", StatsMatchSandbox);
            add("prefetch_makes_the_first_get_a_cache_hit", Prefetch);
            add("max_programs_caps_the_cache", MaxProgramsCapsTheCache);
            add("log_callback_gets_request_lines_without_the_token", LogCallback);
            add("example_prints_the_token_or_status_and_message", ExamplePrintsToken);
            add("readme_default_client_block_runs", ReadmeDefaultClient);
            add("readme_own_client_block_runs", ReadmeOwnClient);
            return all;
        }

        /// <summary>A client on the sandbox with no retries, so request counts are exact.</summary>
        private static KyClient NewClient()
        {
            return new KyClient(new KyClientOptions { BaseUrl = Sandbox.BaseUrl, MaxRetries = 0 });
        }

        private static void VersionAndStatusNames()
        {
            Assert.True(Regex.IsMatch(AccessToken.Version, "^\\d+\\.\\d+\\.\\d+"), "version " + AccessToken.Version);
            // The enum mirrors ky_status: each member's C name, e.g. HttpStatus -> KY_ERR_HTTP_STATUS.
            foreach (KyStatus status in Enum.GetValues(typeof(KyStatus)))
            {
                string snake = Regex.Replace(status.ToString(), "(?<=[a-z])(?=[A-Z])", "_").ToUpperInvariant();
                string expected = status == KyStatus.Ok ? "KY_OK" : "KY_ERR_" + snake;
                Assert.Equal(expected, new KyException(status, "").StatusName, "name of " + (int)status);
            }
            Assert.Equal(12, Enum.GetValues(typeof(KyStatus)).Length, "status codes 0..11");
        }

        private static void SampleIdReturnsDocumentedToken()
        {
            string token = AccessToken.Get(Sandbox.SampleId);
            Assert.True(token.StartsWith("27_t3e8", StringComparison.Ordinal), "sample token prefix: " + token.Substring(0, 7));
            using (KyClient client = NewClient())
            {
                int before = Sandbox.Count(Sandbox.SampleId);
                Assert.Equal(token, client.Get(Sandbox.SampleId), "a client gets the same token");
                Assert.Equal(before + 1, Sandbox.Count(Sandbox.SampleId), "a new client has its own cache");
            }
        }

        private static void FirstGetOneRequestSecondCached()
        {
            string id = Sandbox.FreshId("cs-first");
            Assert.Equal(0, Sandbox.Count(id), "requests before");
            Assert.Equal("sandbox_" + id + "_v1", AccessToken.Get(id), "token");
            Assert.Equal(1, Sandbox.Count(id), "requests after the first get");
            Assert.Equal("sandbox_" + id + "_v1", AccessToken.Get(id), "cached token");
            Assert.Equal(1, Sandbox.Count(id), "requests after the second get");
        }

        private static void BigToken()
        {
            // Longer than the 1024-byte first buffer: the binding retries with the size asked for.
            string token = AccessToken.Get("big-token-3000");
            Assert.Equal(3000, token.Length, "default client token length");
            Assert.True(token.StartsWith("27_", StringComparison.Ordinal), "token prefix");
            using (KyClient client = NewClient())
            {
                int before = Sandbox.Count("big-token-3000");
                Assert.Equal(token, client.Get("big-token-3000"), "client token");
                Assert.Equal(before + 1, Sandbox.Count("big-token-3000"), "one request for the client's get (retry served from cache)");
                Assert.Equal(token, Assert.Await(client.GetAsync("big-token-3000"), 5000, "async"), "async token");
            }
        }

        private static void InvalidIds()
        {
            int total = Sandbox.Total();
            using (KyClient client = NewClient())
            {
                Assert.Throws<ArgumentNullException>(() => AccessToken.Get(null), "Get(null)");
                Assert.Throws<ArgumentNullException>(() => AccessToken.GetAsync(null), "GetAsync(null)");
                Assert.Throws<ArgumentNullException>(() => client.Get(null), "client.Get(null)");
                Assert.Throws<ArgumentNullException>(() => client.Invalidate(null), "client.Invalidate(null)");
                Assert.Throws<ArgumentNullException>(() => AccessToken.InvalidateIf("ok", null), "InvalidateIf(id, null)");
                var cases = new[]
                {
                    new[] { "", "program id is empty" },
                    new[] { "a b", "' ' at position 1" },
                    new[] { new string('x', 33), "longer than 32" },
                    new[] { "项目", "byte 0xe9 at position 0" },
                    new[] { "a/b", "'/' at position 1" },
                    new[] { "ab\0cd", "byte 0x00 at position 2" },
                };
                foreach (string[] c in cases)
                {
                    string id = c[0];
                    string what = "id \"" + id.Replace("\0", "\\0") + "\"";
                    var e = Assert.Throws<ArgumentException>(() => AccessToken.Get(id), what);
                    Assert.Contains(e.Message, c[1], what);
                    Assert.Equal("programId", e.ParamName, what + " param");
                    Assert.Throws<ArgumentException>(() => AccessToken.GetAsync(id), what + " async");
                    Assert.Throws<ArgumentException>(() => AccessToken.Invalidate(id), what + " invalidate");
                    Assert.Throws<ArgumentException>(() => client.Get(id), what + " client");
                    Assert.Throws<ArgumentException>(() => client.GetAsync(id), what + " client async");
                    Assert.Throws<ArgumentException>(() => client.InvalidateIf(id, "t"), what + " client invalidate-if");
                }
            }
            Assert.Equal(total, Sandbox.Total(), "requests sent for invalid ids");
        }
    }
}
