// examples/csharp/GetToken.cs, run as a separate process exactly as its header says.
using System;
using System.Diagnostics;
using System.Text;

namespace Ky.Tests
{
    internal static partial class Tests
    {
        private static void ExamplePrintsToken()
        {
            string exe = Environment.GetEnvironmentVariable("KY_CS_EXAMPLE");
            Assert.True(!string.IsNullOrEmpty(exe), "KY_CS_EXAMPLE names the compiled example (run-tests.sh sets it)");

            string stdout, stderr;
            Assert.Equal(0, RunExample(exe, Sandbox.SampleId, out stdout, out stderr), "exit status; stderr: " + stderr);
            Assert.True(stdout.StartsWith("27_t3e8", StringComparison.Ordinal), "prints the sample token");
            Assert.Equal(1, stdout.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).Length, "one line");

            string id = Sandbox.FreshId("cs-example");
            Assert.Equal(0, RunExample(exe, id, out stdout, out stderr), "exit status for a fresh id");
            Assert.Equal("sandbox_" + id + "_v1\n", stdout, "stdout is the token");
            Assert.Equal(1, Sandbox.Count(id), "one request");

            Assert.Equal(7, RunExample(exe, "fault-api-error", out stdout, out stderr), "exit status = KY_ERR_API");
            Assert.Equal("", stdout, "nothing on stdout");
            Assert.True(stderr.StartsWith("KY_ERR_API: ", StringComparison.Ordinal), "stderr starts with the status name: " + stderr);
            Assert.Contains(stderr, "项目不存在", "upstream msg in UTF-8 even under LANG=C");

            Assert.Equal(1, RunExample(exe, "a b", out stdout, out stderr), "exit status for an invalid id");
            Assert.Equal("KY_ERR_INVALID_ARGUMENT: program id has ' ' at position 1; only A-Z a-z 0-9 _ - are allowed\n",
                stderr, "stderr for an invalid id");
        }

        private static int RunExample(string exe, string programId, out string stdout, out string stderr)
        {
            return RunMono(exe, programId, out stdout, out stderr);
        }

        /// <summary>Runs a program under mono with the test's environment and LANG=C; returns its exit status.</summary>
        private static int RunMono(string exe, string arg, out string stdout, out string stderr)
        {
            var info = new ProcessStartInfo("mono", "\"" + exe + "\" \"" + arg + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            info.EnvironmentVariables["LANG"] = "C";
            info.EnvironmentVariables.Remove("LC_ALL");
            using (Process p = Process.Start(info))
            {
                var output = p.StandardOutput.ReadToEndAsync();
                var errors = p.StandardError.ReadToEndAsync();
                if (!p.WaitForExit(20000))
                {
                    // Never leave a hung child behind (it would also hold the pipes open).
                    p.Kill();
                    p.WaitForExit();
                    throw new AssertionException(exe + " " + arg + " still running after 20 s");
                }
                stdout = output.Result;
                stderr = errors.Result;
                return p.ExitCode;
            }
        }
    }
}
