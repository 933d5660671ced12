// Talks to the sandbox's control endpoints (request counters, token rotation) on 127.0.0.1.
using System;
using System.IO;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Ky.Tests
{
    internal static class Sandbox
    {
        internal const string SampleId = "223fc70098ad11e9a5898928ba7882e6";

        internal static string BaseUrl;

        /// <summary>Upstream requests the sandbox has seen for <paramref name="programId"/>.</summary>
        internal static int Count(string programId)
        {
            Match m = Regex.Match(Stats(), "[{,]\"" + Regex.Escape(programId) + "\":(\\d+)");
            return m.Success ? int.Parse(m.Groups[1].Value) : 0;
        }

        /// <summary>Upstream requests the sandbox has seen in all.</summary>
        internal static int Total()
        {
            Match m = Regex.Match(Stats(), "\"total\":(\\d+)");
            if (!m.Success) throw new AssertionException("no total in sandbox stats: " + Stats());
            return int.Parse(m.Groups[1].Value);
        }

        /// <summary>Makes the sandbox serve a new token for <paramref name="programId"/> (Tianmu's hourly refresh).</summary>
        internal static void Rotate(string programId)
        {
            Send("POST", "/_sandbox/rotate/" + programId, "");
        }

        /// <summary>Makes the sandbox answer <paramref name="token"/> for <paramref name="programId"/>.</summary>
        internal static void SetToken(string programId, string token)
        {
            Send("PUT", "/_sandbox/token/" + programId, token);
        }

        /// <summary>A program id no earlier test used: "prefix-" plus random hex, at most 32 characters.</summary>
        internal static string FreshId(string prefix)
        {
            string id = prefix + "-" + Guid.NewGuid().ToString("N");
            return id.Substring(0, Math.Min(id.Length, 32));
        }

        private static string Stats()
        {
            return Send("GET", "/_sandbox/stats", null);
        }

        private static string Send(string method, string path, string body)
        {
            var request = (HttpWebRequest)WebRequest.Create(BaseUrl + path);
            request.Method = method;
            request.Proxy = null; // loopback only, whatever http_proxy says
            request.Timeout = 10000;
            if (body != null)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(body);
                request.ContentLength = bytes.Length;
                using (Stream s = request.GetRequestStream()) s.Write(bytes, 0, bytes.Length);
            }
            using (var response = (HttpWebResponse)request.GetResponse())
            using (var reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
            {
                return reader.ReadToEnd();
            }
        }
    }
}
