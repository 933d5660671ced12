using System.Threading;
using System.Threading.Tasks;

namespace Ky
{
    /// <summary>
    /// A process-wide client configured from the <c>KY_*</c> environment variables at its first
    /// use (KY_BASE_URL, KY_TIMEOUT_MS, KY_MAX_RETRIES, KY_CACHE_TTL_MS, KY_CA_FILE, proxy
    /// variables; later changes are not seen), like the C API's global functions. Use
    /// <see cref="KyClient"/> to configure in code.
    /// </summary>
    /// <remarks>
    /// It is a <see cref="KyClient"/> built with <see cref="KyClientOptions.FromEnvironment"/>
    /// rather than the C library's own default client, because the C default client can never be
    /// freed: its threads, once they have run the log callback, keep Mono's exit and a Unity
    /// domain reload waiting until they end. This one is freed at both (see DomainGuard).
    /// </remarks>
    public static class AccessToken
    {
        private static readonly object Gate = new object();
        private static KyClient shared;

        /// <summary>
        /// The access token for <paramref name="programId"/>: from the cache while fresh, else
        /// fetched (one request however many threads ask). Blocks for at most KY_TIMEOUT_MS.
        /// </summary>
        /// <exception cref="System.ArgumentNullException">programId is null.</exception>
        /// <exception cref="System.ArgumentException">programId is not 1-32 of A-Z a-z 0-9 _ -.</exception>
        /// <exception cref="KyInvalidArgumentException">a KY_* environment variable is malformed.</exception>
        /// <exception cref="KyException">the fetch failed; the subclass says how.</exception>
        public static string Get(string programId)
        {
            ProgramId.Encode(programId); // argument errors first, even if the environment is bad
            return Client.Get(programId);
        }

        /// <summary>
        /// <see cref="Get"/> without blocking: the fetch runs on the client's managed background
        /// threads (at most 4) and the Task completes there (continuations are scheduled
        /// asynchronously, not inline). Cancelling <paramref name="ct"/> cancels the Task at once; a
        /// call not yet started is skipped, a running fetch still finishes and fills the cache.
        /// Argument errors are thrown synchronously.
        /// </summary>
        public static Task<string> GetAsync(string programId, CancellationToken ct = default(CancellationToken))
        {
            ProgramId.Encode(programId);
            return Client.GetAsync(programId, ct);
        }

        /// <summary>
        /// Drops the cached token so the next get fetches afresh (no I/O). Prefer
        /// <see cref="InvalidateIf"/> when many requests saw the same rejected token.
        /// </summary>
        public static void Invalidate(string programId)
        {
            ProgramId.Encode(programId);
            Client.Invalidate(programId);
        }

        /// <summary>
        /// Drops the cached token only if it is still <paramref name="token"/> (the one WeChat just
        /// rejected with errcode 40001/42001); returns whether it was dropped. The first of many
        /// callers holding the same old token drops it; the rest leave the fresh one alone.
        /// </summary>
        public static bool InvalidateIf(string programId, string token)
        {
            ProgramId.Encode(programId);
            if (token == null) throw new System.ArgumentNullException("token");
            return Client.InvalidateIf(programId, token);
        }

        /// <summary>
        /// Removes the log callback this AppDomain installed and disposes every client created in
        /// it (the shared one included), waiting for calls in flight (each bounded by its
        /// timeout); afterwards no library thread runs this domain's code, and new clients and log
        /// callbacks are refused here (<see cref="System.InvalidOperationException"/>). The binding
        /// does this by itself when the domain unloads or the process exits; call it to do it
        /// earlier, e.g. from Unity's <c>AssemblyReloadEvents.beforeAssemblyReload</c> or
        /// <c>EditorApplication.quitting</c>. Calling it again does nothing.
        /// </summary>
        public static void Shutdown()
        {
            DomainGuard.Current.Close();
        }

        /// <summary>The native library's version, e.g. "0.1.0".</summary>
        public static string Version
        {
            get { return Utf8.FromNative(NativeMethods.ky_version()); }
        }

        /// <summary>The shared client's counters.</summary>
        public static KyStats Stats
        {
            get { return Client.GetStats(); }
        }

        private static KyClient Client
        {
            get
            {
                lock (Gate)
                {
                    // A failure (malformed KY_* variable) is not kept: every call reports it again.
                    if (shared == null) shared = new KyClient(new KyClientOptions { FromEnvironment = true });
                    return shared;
                }
            }
        }
    }
}
