// GetAsync: runs on the library's worker threads, never blocks the caller, shares one request.
using System;
using System.Diagnostics;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Ky.Tests
{
    internal static partial class Tests
    {
        private static void GetAsyncDoesNotBlock()
        {
            using (KyClient client = NewClient())
            {
                // Warm up first, so JIT compilation is not what gets timed below.
                string warm = Sandbox.FreshId("cs-warm");
                Assert.Equal("sandbox_" + warm + "_v1", Assert.Await(client.GetAsync(warm), 5000, "warm-up"), "warm-up token");

                var clock = Stopwatch.StartNew();
                Task<string> task = client.GetAsync("slow-500");
                long returnedAfter = clock.ElapsedMilliseconds;
                Assert.True(returnedAfter < 200, "GetAsync returned after " + returnedAfter + " ms");
                Assert.True(!task.IsCompleted, "task still running while the sandbox waits 500 ms");
                Assert.Equal("sandbox_slow-500_v1", Assert.Await(task, 5000, "slow-500"), "token");
                Assert.True(clock.ElapsedMilliseconds >= 450, "the answer really took the sandbox's 500 ms");
            }
        }

        private static void GetAsyncConcurrent()
        {
            string id = Sandbox.FreshId("cs-conc");
            var tasks = new Task<string>[100];
            for (int i = 0; i < tasks.Length; i++) tasks[i] = AccessToken.GetAsync(id);
            Assert.True(Task.WaitAll(tasks, 10000), "all 100 tasks completed");
            foreach (Task<string> t in tasks) Assert.Equal("sandbox_" + id + "_v1", t.Result, "every task's token");
            Assert.Equal(1, Sandbox.Count(id), "upstream requests for 100 concurrent calls");
        }

        private static void GetAsyncFailure()
        {
            using (KyClient client = NewClient())
            {
                // The details are read on the worker thread, inside the callback, where they live.
                Task<string> task = client.GetAsync("fault-api-error");
                var e = Assert.Throws<KyApiException>(() => Assert.Await(task, 5000, "api error"), "async api error");
                Assert.Equal(40013L, e.ApiErr, "api err");
                Assert.Contains(e.Message, "项目不存在", "message");
                Assert.True(task.IsFaulted, "task is faulted");
                Assert.Throws<KyHttpStatusException>(
                    () => Assert.Await(client.GetAsync("fault-http-404"), 5000, "404"), "async 404");
            }
            Assert.Throws<KyApiException>(
                () => Assert.Await(AccessToken.GetAsync("fault-api-error-7"), 5000, "default"), "default client async");
        }

        private static void GetAsyncCancellation()
        {
            using (KyClient client = NewClient())
            {
                int before = Sandbox.Count("slow-1000");
                var cts = new CancellationTokenSource();
                var clock = Stopwatch.StartNew();
                Task<string> task = client.GetAsync("slow-1000", cts.Token);
                cts.CancelAfter(100);
                Assert.Throws<TaskCanceledException>(() => Assert.Await(task, 900, "cancelled"), "await a cancelled get");
                Assert.True(task.IsCanceled, "task state is Canceled");
                Assert.True(clock.ElapsedMilliseconds < 900, "cancelled before the answer");

                // The native fetch ran on and filled the cache; the next get is a hit.
                for (int i = 0; i < 100 && client.GetStats().CachedPrograms == 0; i++) Thread.Sleep(50);
                Assert.Equal(1UL, client.GetStats().CachedPrograms, "the cancelled fetch still cached its token");
                Assert.Equal("sandbox_slow-1000_v1", client.Get("slow-1000"), "token");
                Assert.Equal(before + 1, Sandbox.Count("slow-1000"), "one request in all");

                string id = Sandbox.FreshId("cs-precancel");
                Task<string> pre = client.GetAsync(id, cts.Token);
                Assert.True(pre.IsCanceled, "an already-cancelled token cancels at once");
                Thread.Sleep(200);
                Assert.Equal(0, Sandbox.Count(id), "no request for an already-cancelled call");
            }
        }

        internal const string ExitChildFlag = "--child-exit-after-async";

        /// <summary>
        /// The child side of ProcessExitsAfterAsync: async calls on the shared client and on a
        /// client left undisposed, then Main returns normally.
        /// </summary>
        internal static int ExitChild()
        {
            string id = Sandbox.FreshId("cs-exit");
            Console.WriteLine(AccessToken.GetAsync(id).Result);
            var abandoned = new KyClient(new KyClientOptions { BaseUrl = Environment.GetEnvironmentVariable("KY_BASE_URL") });
            Console.WriteLine(abandoned.GetAsync(id).Result);
            return 0;
        }

        private static void ProcessExitsAfterAsync()
        {
            // Native threads that ran managed code are Mono threads: while they live, Mono's shutdown
            // waits for them forever. GetAsync runs on managed threads and the binding frees its
            // clients at exit, so that cannot happen (tests/domain covers child domains).
            string exe = System.Reflection.Assembly.GetEntryAssembly().Location;
            var clock = Stopwatch.StartNew();
            string stdout, stderr;
            int code = RunMono(exe, ExitChildFlag, out stdout, out stderr);
            Assert.Equal(0, code, "child exit status; stderr: " + stderr);
            Assert.Equal(2, Regex.Matches(stdout, "^sandbox_cs-exit-[0-9a-f]+_v1$", RegexOptions.Multiline).Count,
                "both tokens printed: " + stdout);
            Assert.True(clock.ElapsedMilliseconds < 10000, "child exited after " + clock.ElapsedMilliseconds + " ms");
        }

        private static void GetAsyncRunsOnManagedThreads()
        {
            // The design rule (README, "AppDomains and Unity domain reloads"): GetAsync never has a
            // native library thread call managed code, so the library's async workers never start.
            using (KyClient client = NewClient())
            {
                string id = Sandbox.FreshId("cs-managed");
                Task<string>[] tasks = Enumerable.Range(0, 200).Select(i => client.GetAsync(id)).ToArray();
                string during = ThreadNames();
                Assert.True(Task.WaitAll(tasks, 10000), "all tasks completed");
                foreach (Task<string> t in tasks) Assert.Equal("sandbox_" + id + "_v1", t.Result, "token");
                Assert.Contains(during, "ky-cs-async", "the binding's managed threads ran the calls");
                string after = ThreadNames();
                Assert.True(!during.Split(',').Contains("ky-async") && !after.Split(',').Contains("ky-async"),
                    "no native async worker started: " + during + " / " + after);
            }
        }

        /// <summary>The names of this process's threads (Linux /proc), comma-separated.</summary>
        private static string ThreadNames()
        {
            var names = new System.Collections.Generic.List<string>();
            foreach (string task in System.IO.Directory.GetDirectories("/proc/self/task"))
            {
                try { names.Add(System.IO.File.ReadAllText(task + "/comm").Trim()); }
                catch (System.IO.IOException) { } // ended meanwhile
            }
            return string.Join(",", names);
        }

        private static void DisposeCancelsQueuedAsync()
        {
            KyClient client = NewClient();
            // 4 workers wait on the slow answer; the rest stay queued until Dispose cancels them.
            Task<string>[] tasks = Enumerable.Range(0, 12).Select(i => client.GetAsync("slow-400")).ToArray();
            Thread.Sleep(50);
            client.Dispose();
            Assert.True(tasks.All(t => t.IsCompleted), "Dispose returns only after every callback ran");
            int cancelled = 0;
            foreach (Task<string> t in tasks)
            {
                if (t.IsFaulted)
                {
                    Assert.True(t.Exception.InnerException is KyCancelledException,
                        "queued call fails with KyCancelledException, got " + t.Exception.InnerException);
                    cancelled++;
                }
                else
                {
                    Assert.Equal("sandbox_slow-400_v1", t.Result, "running call finished");
                }
            }
            Assert.True(cancelled > 0, "some queued calls were cancelled");
            Assert.Throws<ObjectDisposedException>(() => client.GetAsync("slow-400"), "GetAsync after Dispose");
        }
    }
}
