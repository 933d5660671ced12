// A tiny self-contained test runner (no NUnit offline): runs every test in Tests.All, each on its
// own thread with a deadline, prints PASS/FAIL lines and "csharp: N passed, M failed", and exits 1
// if anything failed or nothing ran.
using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;

namespace Ky.Tests
{
    internal static class Runner
    {
        private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

        private static int Main(string[] args)
        {
            Console.OutputEncoding = new UTF8Encoding(false);
            string baseUrl = Environment.GetEnvironmentVariable("KY_BASE_URL") ?? "";
            // The default client reads KY_BASE_URL: refuse anything that could reach a real server.
            if (!baseUrl.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            {
                Console.Error.WriteLine("KY_BASE_URL must point at the sandbox (http://127.0.0.1:PORT), got '" + baseUrl + "'");
                Console.WriteLine("csharp: 0 passed, 1 failed");
                return 1;
            }
            Sandbox.BaseUrl = baseUrl;
            if (args.Length > 0 && args[0] == Tests.ExitChildFlag) return Tests.ExitChild();

            int passed = 0, failed = 0;
            string only = args.Length > 0 ? args[0] : null;
            foreach (KeyValuePair<string, Action> test in Tests.All())
            {
                if (only != null && test.Key.IndexOf(only, StringComparison.Ordinal) < 0) continue;
                string why = Run(test.Value);
                if (why == null)
                {
                    passed++;
                    Console.WriteLine("PASS " + test.Key);
                }
                else
                {
                    failed++;
                    Console.WriteLine("FAIL " + test.Key + ": " + why);
                }
            }
            Console.WriteLine("csharp: " + passed + " passed, " + failed + " failed");
            Console.Out.Flush();
            // Environment.Exit, not return: a test thread stuck past its deadline must not keep the process alive.
            Environment.Exit(failed > 0 || passed == 0 ? 1 : 0);
            return 1;
        }

        /// <summary>Runs one test; null when it passed, else why it failed.</summary>
        private static string Run(Action test)
        {
            string why = null;
            var thread = new Thread(() =>
            {
                try
                {
                    test();
                }
                catch (Exception e)
                {
                    why = e is AssertionException ? e.Message : e.GetType().Name + ": " + e.Message + "\n" + e.StackTrace;
                }
            });
            thread.IsBackground = true;
            thread.Start();
            if (!thread.Join(Deadline)) return "did not finish within " + Deadline.TotalSeconds + " s";
            return why;
        }
    }

    internal sealed class AssertionException : Exception
    {
        internal AssertionException(string message) : base(message) { }
    }

    internal static class Assert
    {
        internal static void True(bool condition, string what)
        {
            if (!condition) throw new AssertionException(what);
        }

        internal static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionException(what + ": expected <" + expected + ">, got <" + actual + ">");
        }

        internal static void Contains(string haystack, string needle, string what)
        {
            if (haystack == null || haystack.IndexOf(needle, StringComparison.Ordinal) < 0)
                throw new AssertionException(what + ": <" + haystack + "> does not contain <" + needle + ">");
        }

        /// <summary>Runs <paramref name="action"/> and returns the exception, which must be exactly a T.</summary>
        internal static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                if (e.GetType() == typeof(T)) return (T)e;
                throw new AssertionException(what + ": expected " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new AssertionException(what + ": expected " + typeof(T).Name + ", nothing was thrown");
        }

        /// <summary>The task's result, or its (unwrapped) exception rethrown; fails if it takes longer than ms.</summary>
        internal static T Await<T>(System.Threading.Tasks.Task<T> task, int ms, string what)
        {
            try
            {
                if (!task.Wait(ms)) throw new AssertionException(what + ": task not complete after " + ms + " ms");
            }
            catch (AggregateException e)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
            return task.Result;
        }
    }
}
