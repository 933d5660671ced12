// A host that does what the Unity Editor does to a scripting AppDomain: loads the binding into a
// child domain, uses it hard there, and unloads the domain while native work is in flight
// (`reload N`), or returns from Main while a child domain that was never unloaded holds a
// prefetching client and a log callback (`exit`). run-tests.sh runs both under `timeout`: a crash
// or a hang fails the test. Built as its own executable so nothing else runs in its root domain.
//
//   mono domain_host.exe reload 20 3000  # 20 cycles, slow GetAsync of 3000 ms in flight; prints
//                                        # "reload i/N ok" per cycle, then "reload: N ok"
//   mono domain_host.exe exit            # prints "exit: returning from Main", then must exit at once
// Any failed check prints to stderr and exits 1; run-tests.sh also fails on any stderr output
// (the library never writes there; Mono's crash reports and assertions do).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Ky;

namespace Ky.DomainTests
{
    internal static class DomainHost
    {
        private static int Main(string[] args)
        {
            if (args.Length >= 1 && args[0] == "reload")
            {
                int cycles = args.Length >= 2 ? int.Parse(args[1]) : 20;
                int slowMs = args.Length >= 3 ? int.Parse(args[2]) : 3000;
                return Reload(cycles, slowMs);
            }
            if (args.Length >= 1 && args[0] == "exit") return Exit();
            if (args.Length >= 1 && args[0] == "shutdown") return Shutdown();
            Console.Error.WriteLine("usage: domain_host.exe reload N SLOW_MS | exit | shutdown");
            return 2;
        }

        private static AppDomain NewDomain(string name)
        {
            var setup = new AppDomainSetup { ApplicationBase = AppDomain.CurrentDomain.BaseDirectory };
            return AppDomain.CreateDomain(name, null, setup);
        }

        private static int Reload(int cycles, int slowMs)
        {
            int inFlight = 0;
            for (int i = 1; i <= cycles; i++)
            {
                AppDomain child = NewDomain("reload-" + i);
                child.SetData("cycle", i);
                child.SetData("slow", slowMs);
                child.DoCallBack(Child.Busy);
                string started = (string)child.GetData("started");
                if (started != "yes")
                {
                    Console.Error.WriteLine("cycle " + i + ": the child did not start its work: " + started);
                    return 1;
                }
                inFlight += (int)child.GetData("inflight");
                AppDomain.Unload(child);
                Console.WriteLine("reload " + i + "/" + cycles + " ok");
            }
            // Every client of every unloaded domain was freed with its threads: none is left.
            string left = Gone(LibraryThreads);
            if (left.Length > 0)
            {
                Console.Error.WriteLine("library threads still running after the last unload: " + left);
                return 1;
            }
            // The unloads really raced work: most cycles had the slow calls (at least) still running.
            if (inFlight < cycles)
            {
                Console.Error.WriteLine("only " + inFlight + " calls were in flight at " + cycles + " unloads");
                return 1;
            }
            Console.WriteLine("reload: " + cycles + " ok, " + inFlight + " GetAsync calls in flight at unload in all");
            return 0;
        }

        private static int Shutdown()
        {
            AppDomain child = NewDomain("shutdown");
            child.SetData("cycle", 0);
            child.SetData("slow", 1000);
            child.DoCallBack(Child.Busy);
            if ((string)child.GetData("started") != "yes")
            {
                Console.Error.WriteLine("the child did not start: " + child.GetData("started"));
                return 1;
            }
            child.DoCallBack(Child.ShutdownAndCheck);
            string result = (string)child.GetData("shutdown");
            if (result != "ok")
            {
                Console.Error.WriteLine("AccessToken.Shutdown: " + result);
                return 1;
            }
            AppDomain.Unload(child);
            string left = Gone(LibraryThreads);
            if (left.Length > 0)
            {
                Console.Error.WriteLine("library threads still running after the unload: " + left);
                return 1;
            }
            Console.WriteLine("shutdown: clients freed, log callback removed, new clients refused");
            return 0;
        }

        /// <summary>
        /// Polls <paramref name="probe"/> until it reports no thread, for at most 30 s (a stopped
        /// thread may take a moment to leave /proc); returns what is still there then.
        /// </summary>
        internal static string Gone(Func<string> probe)
        {
            string left = probe();
            for (int i = 0; i < 300 && left.Length > 0; i++)
            {
                Thread.Sleep(100);
                left = probe();
            }
            return left;
        }

        /// <summary>
        /// The names (comm) of this process's threads that <paramref name="wanted"/> accepts,
        /// comma-separated; "" when there is none (Linux /proc).
        /// </summary>
        internal static string ThreadsNamed(Predicate<string> wanted)
        {
            var names = new List<string>();
            foreach (string task in System.IO.Directory.GetDirectories("/proc/self/task"))
            {
                string comm;
                try { comm = System.IO.File.ReadAllText(task + "/comm").Trim(); }
                catch (System.IO.IOException) { continue; } // ended meanwhile
                if (wanted(comm)) names.Add(comm);
            }
            return string.Join(", ", names);
        }

        /// <summary>Names of this process's threads started by the library or the binding.</summary>
        private static string LibraryThreads()
        {
            return ThreadsNamed(comm => comm.StartsWith("ky-", StringComparison.Ordinal));
        }

        private static int Exit()
        {
            AppDomain child = NewDomain("never-unloaded");
            child.DoCallBack(Child.HoldAndReturn);
            string started = (string)child.GetData("started");
            if (started != "yes")
            {
                Console.Error.WriteLine("the child did not start: " + started);
                return 1;
            }
            Console.WriteLine("exit: returning from Main");
            Console.Out.Flush();
            return 0;
        }
    }

    /// <summary>Runs inside the child domains (static state is per domain).</summary>
    internal static class Child
    {
        private static KyClient client;
        private static readonly List<Task<string>> Pending = new List<Task<string>>();
        private static int logLines;
        private static int prefetchLines;

        private static void OnLog(KyLogLevel level, string line)
        {
            Interlocked.Increment(ref logLines);
            // Logged by the client's refresh thread: a native thread running this domain's code.
            if (line.Contains("prefetch")) Interlocked.Increment(ref prefetchLines);
        }

        /// <summary>Waits (bounded) for the refresh thread's first log line, so a native thread has run code here.</summary>
        private static void AwaitPrefetchLine()
        {
            for (int i = 0; i < 600 && Volatile.Read(ref prefetchLines) == 0; i++) Thread.Sleep(50);
            if (Volatile.Read(ref prefetchLines) == 0)
                throw new Exception("no prefetch log line from the refresh thread within 30 s (" + logLines + " lines)");
        }

        private static string BaseUrl
        {
            get { return Environment.GetEnvironmentVariable("KY_BASE_URL"); }
        }

        private static KyClient NewPrefetchingClient(string prefix)
        {
            var options = new KyClientOptions { BaseUrl = BaseUrl, MaxRetries = 0 };
            options.Prefetch.Add(prefix + "-prefetch-a");
            options.Prefetch.Add(prefix + "-prefetch-b");
            return new KyClient(options);
        }

        /// <summary>
        /// The crash scenario: log callback, the static API, a prefetching KyClient, a background
        /// thread blocked in a synchronous Get on a slow id, ~3,000 GetAsync calls (some real
        /// fetches, most cache hits) and one slow GetAsync per client, all in flight when this
        /// returns and the root domain unloads us.
        /// </summary>
        internal static void Busy()
        {
            try
            {
                int cycle = (int)AppDomain.CurrentDomain.GetData("cycle");
                string slow = "slow-" + (int)AppDomain.CurrentDomain.GetData("slow");
                string tag = "c" + cycle + "-" + Guid.NewGuid().ToString("N").Substring(0, 8);
                KyLog.SetCallback(OnLog, KyLogLevel.Debug);
                AccessToken.Get("init");
                client = NewPrefetchingClient(tag);
                client.Get("init");
                AwaitPrefetchLine();

                var blocked = new Thread(() =>
                {
                    try { AccessToken.Get("slow-800"); }
                    catch (Exception) { } // ThreadAbortException when the domain goes
                });
                blocked.IsBackground = true;
                blocked.Start();

                for (int i = 0; i < 1500; i++)
                {
                    string id = tag + "-" + (i % 40);
                    Pending.Add(AccessToken.GetAsync(id));
                    Pending.Add(client.GetAsync(id));
                }
                Pending.Add(AccessToken.GetAsync(slow));
                Pending.Add(client.GetAsync(slow));
                // And a stream that goes on until the domain goes (ObjectDisposedException once the
                // clients are freed, or the unload's ThreadAbortException), so calls are completing
                // at every moment of the unload.
                var stream = new Thread(() =>
                {
                    try
                    {
                        for (int i = 0; ; i++)
                        {
                            string id = tag + "-s" + (i % 40);
                            AccessToken.GetAsync(id);
                            client.GetAsync(id);
                            if (i % 20 == 0) Thread.Sleep(1);
                        }
                    }
                    catch (Exception) { }
                });
                stream.IsBackground = true;
                stream.Start();
                int inFlight = 0;
                foreach (Task<string> t in Pending) if (!t.IsCompleted) inFlight++;
                AppDomain.CurrentDomain.SetData("inflight", inFlight);
                AppDomain.CurrentDomain.SetData("started", "yes");
            }
            catch (Exception e)
            {
                AppDomain.CurrentDomain.SetData("started", e.ToString());
            }
        }

        /// <summary>
        /// AccessToken.Shutdown with work in flight: afterwards the native refresh threads are gone,
        /// no log line arrives, the clients throw ObjectDisposedException and new ones are refused.
        /// </summary>
        internal static void ShutdownAndCheck()
        {
            string result;
            try
            {
                AccessToken.Shutdown();
                int lines = Volatile.Read(ref logLines);
                // Shutdown waited for the refresh threads to stop; the OS may take a moment to reap them.
                string native = DomainHost.Gone(NativeThreads);
                if (native.Length > 0) result = "native library threads still running: " + native;
                else if (!Throws<ObjectDisposedException>(() => client.Get("init"))) result = "client.Get after Shutdown did not throw ObjectDisposedException";
                else if (!Throws<ObjectDisposedException>(() => AccessToken.Get("init"))) result = "AccessToken.Get after Shutdown did not throw ObjectDisposedException";
                else if (!Throws<InvalidOperationException>(() => new KyClient(new KyClientOptions { BaseUrl = BaseUrl }))) result = "a new KyClient was accepted after Shutdown";
                else if (!Throws<InvalidOperationException>(() => KyLog.SetCallback(OnLog))) result = "a log callback was accepted after Shutdown";
                else if (Pending.Exists(t => !t.IsCompleted)) result = "a GetAsync task is still pending after Shutdown";
                else if (Volatile.Read(ref logLines) != lines) result = "log lines arrived after Shutdown";
                else result = "ok";
                AccessToken.Shutdown(); // again: nothing
            }
            catch (Exception e)
            {
                result = e.ToString();
            }
            AppDomain.CurrentDomain.SetData("shutdown", result);
        }

        private static bool Throws<T>(Action action) where T : Exception
        {
            try
            {
                action();
            }
            catch (T)
            {
                return true;
            }
            catch (Exception)
            {
                return false;
            }
            return false;
        }

        /// <summary>The library's own threads (ky-refresh, ky-async) still running.</summary>
        private static string NativeThreads()
        {
            return DomainHost.ThreadsNamed(comm => comm == "ky-refresh" || comm == "ky-async");
        }

        /// <summary>
        /// The hang scenario: a prefetching client whose refresh thread has run the log callback,
        /// GetAsync calls and a synchronous Get on a background thread in flight, all left in place.
        /// </summary>
        internal static void HoldAndReturn()
        {
            try
            {
                KyLog.SetCallback(OnLog, KyLogLevel.Debug);
                client = NewPrefetchingClient("exit-" + Guid.NewGuid().ToString("N").Substring(0, 8));
                client.Get("init");
                AwaitPrefetchLine();
                Pending.Add(client.GetAsync("slow-300"));
                Pending.Add(AccessToken.GetAsync("slow-300"));
                var blocked = new Thread(() =>
                {
                    try { AccessToken.Get("slow-500"); }
                    catch (Exception) { }
                });
                blocked.IsBackground = true;
                blocked.Start();
                AppDomain.CurrentDomain.SetData("started", "yes");
            }
            catch (Exception e)
            {
                AppDomain.CurrentDomain.SetData("started", e.ToString());
            }
        }
    }
}
