// The code blocks of bindings/csharp/README.md: each is a region of this file (tests/readme.rs
// checks the README block equals it), run here against the sandbox like every other test.
using System;
using System.Threading.Tasks;

namespace Ky.Tests
{
    internal static partial class Tests
    {
        private static void ReadmeDefaultClient()
        {
            ReadmeDefaultClientAsync().GetAwaiter().GetResult();
        }

        private static async Task ReadmeDefaultClientAsync()
        {
            int before = Sandbox.Count(Sandbox.SampleId);
            // snippet:begin default-client
            string token = AccessToken.Get("223fc70098ad11e9a5898928ba7882e6");   // blocks ≤ KY_TIMEOUT_MS
            string same  = await AccessToken.GetAsync("223fc70098ad11e9a5898928ba7882e6");

            // WeChat rejected the token (errcode 40001 / 42001): drop it, once, however many requests saw it.
            AccessToken.InvalidateIf("223fc70098ad11e9a5898928ba7882e6", token);
            // snippet:end default-client
            Assert.True(token.StartsWith("27_t3e8", StringComparison.Ordinal), "the sample token");
            Assert.Equal(token, same, "GetAsync answers from the same cache");
            Assert.Equal(token, AccessToken.Get(Sandbox.SampleId), "refetched after InvalidateIf");
            Assert.True(Sandbox.Count(Sandbox.SampleId) > before, "InvalidateIf dropped it: a new request");
        }

        private static void ReadmeOwnClient()
        {
            int before = Sandbox.Count(Sandbox.SampleId);
            // snippet:begin own-client
            using (var client = new KyClient(new KyClientOptions {
                FromEnvironment = true,                    // start from KY_* (KY_BASE_URL: the sandbox)
                Timeout = TimeSpan.FromSeconds(3),         // whole call, retries included
                MaxRetries = 1,
                UserAgentSuffix = "MyGame/1.2",
                Prefetch = { "223fc70098ad11e9a5898928ba7882e6" },   // fetched at creation, kept warm
            }))
            {
                string token = client.Get("223fc70098ad11e9a5898928ba7882e6");
                KyStats stats = client.GetStats();         // hits, misses, upstream requests, failures by status…
                Console.WriteLine("a token of " + token.Length + " characters; " + stats);
            }
            // snippet:end own-client
            // The Get hits the prefetched token or joins its fetch: one request either way.
            Assert.Equal(before + 1, Sandbox.Count(Sandbox.SampleId), "the sandbox saw one request");
        }
    }
}
