using System;
using System.Collections.Generic;

namespace Ky
{
    /// <summary>
    /// Settings for a <see cref="KyClient"/>. A null (unset) property keeps the library default,
    /// or the environment's value with <see cref="FromEnvironment"/>. Values are checked by the
    /// library when the client is built; a rejected one throws <see cref="KyInvalidArgumentException"/>
    /// naming it.
    /// </summary>
    public sealed class KyClientOptions
    {
        public KyClientOptions()
        {
            Prefetch = new List<string>();
        }

        /// <summary>Start from the KY_* environment variables (as the default client does) instead of the defaults.</summary>
        public bool FromEnvironment { get; set; }

        /// <summary>API base URL; default https://api.kuaiyugo.com. http:// only for loopback (a sandbox).</summary>
        public string BaseUrl { get; set; }

        /// <summary>One deadline for the whole call, retries included (1 ms to 10 min; default 5 s).</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>Deadline for opening a connection (TCP + TLS); by default only <see cref="Timeout"/> applies.</summary>
        public TimeSpan? ConnectTimeout { get; set; }

        /// <summary>Retries after network errors and 5xx answers (0 to 10; default 2).</summary>
        public int? MaxRetries { get; set; }

        /// <summary>How long a token is served from cache (default 60 s, capped at 5 min; zero disables the cache).</summary>
        public TimeSpan? CacheTtl { get; set; }

        /// <summary>A PEM file of extra root certificates, trusted on top of the system store.</summary>
        public string CaFile { get; set; }

        /// <summary>PEM text of extra root certificates (e.g. shipped inside the game).</summary>
        public string CaPem { get; set; }

        /// <summary>"http://[user:password@]host:port", "none" (direct) or "env" (HTTPS_PROXY/ALL_PROXY/NO_PROXY).</summary>
        public string Proxy { get; set; }

        /// <summary>Appended to the User-Agent, e.g. "MyGame/1.2" (printable ASCII, at most 64 characters).</summary>
        public string UserAgentSuffix { get; set; }

        /// <summary>Refresh-ahead point as a fraction of the TTL (default 0.8; 0 or 1 turns it off).</summary>
        public double? RefreshAhead { get; set; }

        /// <summary>How long the last good token is served while refreshing fails (default and maximum 5 min; zero turns it off).</summary>
        public TimeSpan? StaleIfError { get; set; }

        /// <summary>Program ids fetched at creation and kept warm in the background (at most 1024).</summary>
        public IList<string> Prefetch { get; set; }

        /// <summary>Most program ids cached at once (default 10000; the least recently used are evicted beyond it).</summary>
        public ulong? MaxPrograms { get; set; }
    }
}
