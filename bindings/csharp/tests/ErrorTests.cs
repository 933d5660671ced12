// Every failure class surfaces as its own exception type with the library's message.
using System;
using System.Diagnostics;

namespace Ky.Tests
{
    internal static partial class Tests
    {
        private static void ApiError()
        {
            var e = Assert.Throws<KyApiException>(() => AccessToken.Get("fault-api-error"), "default client");
            Assert.Equal(KyStatus.Api, e.Status, "status");
            Assert.Equal(40013L, e.ApiErr, "api err");
            Assert.Contains(e.Message, "项目不存在", "upstream msg survives UTF-8 both ways");
            Assert.Equal("KY_ERR_API", e.StatusName, "status name");
            using (KyClient client = NewClient())
            {
                var e2 = Assert.Throws<KyApiException>(() => client.Get("fault-api-error-40001"), "client");
                Assert.Equal(40001L, e2.ApiErr, "api err from fault-api-error-40001");
                Assert.Contains(e2.Message, "项目不存在", "client message");
            }
        }

        private static void Http404()
        {
            using (KyClient client = NewClient())
            {
                var e = Assert.Throws<KyHttpStatusException>(() => client.Get("fault-http-404"), "404");
                Assert.Equal(KyStatus.HttpStatus, e.Status, "status");
                Assert.Contains(e.Message, "404", "message");
                Assert.Equal(0L, e.ApiErr, "no api err");
                Assert.Throws<KyHttpStatusException>(() => client.Get("fault-http-302"), "redirects are not followed");
            }
        }

        private static void BadResponses()
        {
            using (KyClient client = NewClient())
            {
                foreach (string id in new[] { "fault-malformed", "fault-not-json", "fault-no-token" })
                {
                    var e = Assert.Throws<KyBadResponseException>(() => client.Get(id), id);
                    Assert.Equal(KyStatus.BadResponse, e.Status, id + " status");
                    Assert.True(e.Message.Length > 0, id + " has a message");
                }
            }
        }

        private static void Timeout()
        {
            var options = new KyClientOptions
            {
                BaseUrl = Sandbox.BaseUrl,
                MaxRetries = 0,
                Timeout = TimeSpan.FromMilliseconds(300),
            };
            using (var client = new KyClient(options))
            {
                var clock = Stopwatch.StartNew();
                var e = Assert.Throws<KyTimeoutException>(() => client.Get("fault-slow-headers"), "slow headers");
                Assert.True(clock.ElapsedMilliseconds < 3000, "returned at the deadline, took " + clock.ElapsedMilliseconds + " ms");
                Assert.Equal(KyStatus.Timeout, e.Status, "status");
                Assert.True(e is KyNetworkException, "a timeout is a network failure for catch blocks");
                Assert.Contains(e.Message, "300 ms", "message names the deadline");
            }
        }

        private static void RefusedConnection()
        {
            using (var client = new KyClient(new KyClientOptions { BaseUrl = "http://127.0.0.1:1", MaxRetries = 0 }))
            {
                var e = Assert.Throws<KyNetworkException>(() => client.Get("anything"), "port 1");
                Assert.Equal(KyStatus.Network, e.Status, "status");
                Assert.Contains(e.Message, "refused", "message");
            }
        }

        private static void BadOptions()
        {
            var e = Assert.Throws<KyInvalidArgumentException>(
                () => new KyClient(new KyClientOptions { Timeout = TimeSpan.Zero }), "zero timeout");
            Assert.Contains(e.Message.ToLowerInvariant(), "timeout", "message names the setting");
            // Plain http is only for loopback: a token must never cross a network in clear text.
            Assert.Throws<KyInvalidArgumentException>(
                () => new KyClient(new KyClientOptions { BaseUrl = "http://example.com" }), "http to a remote host");
            Assert.Throws<ArgumentOutOfRangeException>(
                () => new KyClient(new KyClientOptions { MaxRetries = -1 }), "negative retries");
            Assert.Throws<ArgumentOutOfRangeException>(
                () => new KyClient(new KyClientOptions { CacheTtl = TimeSpan.FromSeconds(-1) }), "negative TTL");
            var bad = new KyClientOptions { BaseUrl = Sandbox.BaseUrl };
            bad.Prefetch.Add("not/an/id");
            Assert.Throws<ArgumentException>(() => new KyClient(bad), "bad prefetch id");
            Assert.Throws<ArgumentNullException>(() => new KyClient(null), "null options");
        }
    }
}
