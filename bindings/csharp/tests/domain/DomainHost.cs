// A host that does what the Unity Editor does to a scripting AppDomain: loads the binding into a
// child domain, uses it hard there, and unloads the domain while native work is in flight
// (`reload N`), or returns from Main while a child domain that was never unloaded holds a
// prefetching client and a log callback (`exit`). run-tests.sh runs both under `timeout`: a crash
// or a hang fails the test. Built as its own executable so nothing else runs in its root domain.
//
//   mono domain_host.exe reload 20     # prints "reload i/N ok" per cycle, then "reload: N ok"
//   mono domain_host.exe exit          # prints "exit: returning from Main", then must exit at once
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
                return Reload(cycles);
            }
            if (args.Length >= 1 && args[0] == "exit") return Exit();
            Console.Error.WriteLine("usage: domain_host.exe reload N | exit");
            return 2;
        }

        private static AppDomain NewDomain(string name)
        {
            var setup = new AppDomainSetup { ApplicationBase = AppDomain.CurrentDomain.BaseDirectory };
            return AppDomain.CreateDomain(name, null, setup);
        }

        private static int Reload(int cycles)
        {
            for (int i = 1; i <= cycles; i++)
            {
                AppDomain child = NewDomain("reload-" + i);
                child.SetData("cycle", i);
                child.DoCallBack(Child.Busy);
                string started = (string)child.GetData("started");
                if (started != "yes")
                {
                    Console.Error.WriteLine("cycle " + i + ": the child did not start its work: " + started);
                    return 1;
                }
                AppDomain.Unload(child);
                Console.WriteLine("reload " + i + "/" + cycles + " ok");
            }
            Console.WriteLine("reload: " + cycles + " ok");
            return 0;
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
                string tag = "c" + cycle + "-" + Guid.NewGuid().ToString("N").Substring(0, 8);
                KyLog.SetCallback((level, line) => Interlocked.Increment(ref logLines), KyLogLevel.Debug);
                AccessToken.Get("init");
                client = NewPrefetchingClient(tag);
                client.Get("init");

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
                Pending.Add(AccessToken.GetAsync("slow-3000"));
                Pending.Add(client.GetAsync("slow-3000"));
                AppDomain.CurrentDomain.SetData("started", "yes");
            }
            catch (Exception e)
            {
                AppDomain.CurrentDomain.SetData("started", e.ToString());
            }
        }

        /// <summary>The hang scenario: a prefetching client and a log callback, left in place.</summary>
        internal static void HoldAndReturn()
        {
            try
            {
                KyLog.SetCallback((level, line) => Interlocked.Increment(ref logLines), KyLogLevel.Debug);
                client = NewPrefetchingClient("exit-" + Guid.NewGuid().ToString("N").Substring(0, 8));
                client.Get("init");
                Pending.Add(client.GetAsync("slow-300"));
                AppDomain.CurrentDomain.SetData("started", "yes");
            }
            catch (Exception e)
            {
                AppDomain.CurrentDomain.SetData("started", e.ToString());
            }
        }
    }
}
