// KyClient lifetime, invalidation, counters, prefetch and the log callback.
using System;
using System.Collections.Generic;
using System.Threading;

namespace Ky.Tests
{
    internal static partial class Tests
    {
        private static void DisposeTwiceAndUseAfter()
        {
            KyClient client = NewClient();
            string id = Sandbox.FreshId("cs-dispose");
            Assert.Equal("sandbox_" + id + "_v1", client.Get(id), "token before Dispose");
            client.Dispose();
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.Get(id), "Get");
            Assert.Throws<ObjectDisposedException>(() => client.GetAsync(id), "GetAsync");
            Assert.Throws<ObjectDisposedException>(() => client.Invalidate(id), "Invalidate");
            Assert.Throws<ObjectDisposedException>(() => client.InvalidateIf(id, "t"), "InvalidateIf");
            Assert.Throws<ObjectDisposedException>(() => client.GetStats(), "GetStats");
        }

        private static void DisposeRacingGets()
        {
            KyClient client = NewClient();
            string id = Sandbox.FreshId("cs-race");
            string expected = client.Get(id);
            var unexpected = new List<string>();
            int tokens = 0, disposed = 0;
            var threads = new Thread[8];
            // Dispose only once every thread is calling in a loop, so it lands in the middle of calls.
            var running = new CountdownEvent(threads.Length);
            for (int i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(() =>
                {
                    var deadline = DateTime.UtcNow.AddSeconds(20);
                    for (int n = 0; DateTime.UtcNow < deadline; n++)
                    {
                        try
                        {
                            string token = client.Get(id);
                            if (token != expected) lock (unexpected) unexpected.Add("token " + token);
                            Interlocked.Increment(ref tokens);
                            if (n == 0) running.Signal();
                        }
                        catch (ObjectDisposedException)
                        {
                            Interlocked.Increment(ref disposed);
                            return;
                        }
                        catch (Exception e)
                        {
                            lock (unexpected) unexpected.Add(e.GetType().Name + ": " + e.Message);
                            return;
                        }
                    }
                    lock (unexpected) unexpected.Add("no ObjectDisposedException within 20 s");
                });
                threads[i].Start();
            }
            Assert.True(running.Wait(10000), "all threads are calling");
            client.Dispose();
            foreach (Thread t in threads) t.Join();
            Assert.Equal(0, unexpected.Count, "only tokens or ObjectDisposedException: " + string.Join("; ", unexpected));
            Assert.True(tokens >= threads.Length, "calls succeeded before Dispose");
            Assert.Equal(threads.Length, disposed, "every thread saw ObjectDisposedException");
            Assert.Equal(1, Sandbox.Count(id), "all calls were served by one request");
        }

        private static void Invalidate()
        {
            using (KyClient client = NewClient())
            {
                string id = Sandbox.FreshId("cs-inval");
                client.Get(id);
                client.Invalidate(id);
                Assert.Equal("sandbox_" + id + "_v1", client.Get(id), "refetched token");
                Assert.Equal(2, Sandbox.Count(id), "requests after invalidate + get");
            }
            string defaultId = Sandbox.FreshId("cs-dinval");
            AccessToken.Get(defaultId);
            AccessToken.Invalidate(defaultId);
            AccessToken.Get(defaultId);
            Assert.Equal(2, Sandbox.Count(defaultId), "default client requests after invalidate + get");
        }

        private static void InvalidateIf()
        {
            using (KyClient client = NewClient())
            {
                string id = Sandbox.FreshId("cs-cas");
                string old = client.Get(id);
                Assert.Equal("sandbox_" + id + "_v1", old, "first token");
                Sandbox.Rotate(id);
                Assert.True(client.InvalidateIf(id, old), "the first caller with the rejected token drops it");
                string fresh = client.Get(id);
                Assert.Equal("sandbox_" + id + "_v2", fresh, "new token after the rotation");
                Assert.True(!client.InvalidateIf(id, old), "a second caller with the same old token drops nothing");
                Assert.Equal(fresh, client.Get(id), "the fresh token is still served");
                Assert.Equal(2, Sandbox.Count(id), "requests: one per token");
                Assert.True(!client.InvalidateIf(Sandbox.FreshId("cs-none"), old), "nothing cached: nothing dropped");
            }
        }

        private static void DefaultInvalidateIf()
        {
            string id = Sandbox.FreshId("cs-dcas");
            string old = AccessToken.Get(id);
            Sandbox.Rotate(id);
            Assert.True(AccessToken.InvalidateIf(id, old), "first call drops it");
            Assert.True(!AccessToken.InvalidateIf(id, old), "second call with the same old token: already gone");
            Assert.Equal("sandbox_" + id + "_v2", AccessToken.Get(id), "fresh token");
            Assert.True(!AccessToken.InvalidateIf(id, old), "old token no longer cached");
            Assert.Equal(2, Sandbox.Count(id), "requests");
        }

        private static void StatsMatchSandbox()
        {
            using (KyClient client = NewClient())
            {
                string a = Sandbox.FreshId("cs-stats-a"), b = Sandbox.FreshId("cs-stats-b");
                int before404 = Sandbox.Count("fault-http-404");
                client.Get(a);
                client.Get(a);
                client.Get(b);
                Assert.Throws<KyHttpStatusException>(() => client.Get("fault-http-404"), "404");
                KyStats s = client.GetStats();
                int seen = Sandbox.Count(a) + Sandbox.Count(b) + Sandbox.Count("fault-http-404") - before404;
                Assert.Equal(1U, s.Version, "stats version");
                Assert.Equal(200U, s.Size, "bytes written = sizeof(ky_stats) version 1");
                Assert.Equal(3, seen, "sandbox requests");
                Assert.Equal((ulong)seen, s.UpstreamRequests, "upstream requests = what the sandbox saw");
                Assert.Equal(1UL, s.CacheHits, "hits");
                Assert.Equal(3UL, s.CacheMisses, "misses");
                Assert.Equal(1UL, s.UpstreamFailures, "failures");
                Assert.Equal(1UL, s.UpstreamFailuresFor(KyStatus.HttpStatus), "failures by status: HTTP");
                Assert.Equal(0UL, s.UpstreamFailuresFor(KyStatus.Network), "failures by status: network");
                Assert.Equal(2UL, s.CachedPrograms, "cached programs");
            }
            // The default client: tests run one at a time, so only these calls move its counters.
            KyStats before = AccessToken.Stats;
            string c = Sandbox.FreshId("cs-stats-c");
            AccessToken.Get(c);
            AccessToken.Get(c);
            KyStats after = AccessToken.Stats;
            Assert.Equal(1U, after.Version, "default client stats version");
            Assert.Equal(before.CacheHits + 1, after.CacheHits, "default client hits");
            Assert.Equal(before.CacheMisses + 1, after.CacheMisses, "default client misses");
            Assert.Equal(before.UpstreamRequests + 1, after.UpstreamRequests, "default client upstream requests");
            Assert.Equal(1, Sandbox.Count(c), "sandbox requests for the default client's id");
        }

        private static void Prefetch()
        {
            string id = Sandbox.FreshId("cs-prefetch");
            var options = new KyClientOptions { BaseUrl = Sandbox.BaseUrl, MaxRetries = 0 };
            options.Prefetch.Add(id);
            using (var client = new KyClient(options))
            {
                for (int i = 0; i < 100 && client.GetStats().CachedPrograms == 0; i++) Thread.Sleep(50);
                Assert.Equal("sandbox_" + id + "_v1", client.Get(id), "token");
                KyStats s = client.GetStats();
                Assert.Equal(1UL, s.CacheHits, "the first get is a hit");
                Assert.Equal(0UL, s.CacheMisses, "no miss");
                Assert.Equal(1, Sandbox.Count(id), "one background request");
            }
        }

        private static void MaxProgramsCapsTheCache()
        {
            using (var client = new KyClient(new KyClientOptions { BaseUrl = Sandbox.BaseUrl, MaxPrograms = 2 }))
            {
                for (int i = 0; i < 5; i++)
                {
                    string id = Sandbox.FreshId("cs-max" + i);
                    Assert.Equal("sandbox_" + id + "_v1", client.Get(id), "token " + i);
                }
                Assert.True(client.GetStats().CachedPrograms <= 2UL, "at most 2 cached");
            }
            Assert.Throws<KyInvalidArgumentException>(
                () => new KyClient(new KyClientOptions { BaseUrl = Sandbox.BaseUrl, MaxPrograms = 0 }), "0 programs");
        }

        private static void LogCallback()
        {
            string id = Sandbox.FreshId("cs-log");
            const string secret = "27_SECRET_TOKEN_FOR_THE_LOG_TEST";
            Sandbox.SetToken(id, secret);
            var lines = new List<string>();
            try
            {
                KyLog.SetCallback((level, line) => { lock (lines) lines.Add(level + " " + line); }, KyLogLevel.Debug);
                using (KyClient client = NewClient())
                {
                    Assert.Equal(secret, client.Get(id), "token");
                    Assert.Throws<KyApiException>(() => client.Get("fault-api-error"), "a failure logs too");
                }
                // A throwing callback is contained: it cannot crash the native caller.
                KyLog.SetCallback((level, line) => { throw new InvalidOperationException("from the callback"); });
                string other = Sandbox.FreshId("cs-logthrow");
                Assert.Equal("sandbox_" + other + "_v1", AccessToken.Get(other), "get with a throwing callback");
            }
            finally
            {
                KyLog.SetCallback(null);
            }
            string after = Sandbox.FreshId("cs-nolog");
            AccessToken.Get(after);
            lock (lines)
            {
                string all = string.Join("\n", lines);
                Assert.True(lines.Exists(l => l.StartsWith("Info ", StringComparison.Ordinal) && l.Contains(id)),
                    "an Info line names the program id:\n" + all);
                Assert.True(lines.Exists(l => l.Contains("fault-api-error")), "the failure is logged:\n" + all);
                Assert.True(!all.Contains(secret), "no line contains the token");
                Assert.True(!all.Contains(after), "no line after the callback was removed");
            }
        }
    }
}
