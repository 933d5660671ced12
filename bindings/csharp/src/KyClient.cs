using System;
using System.Threading;
using System.Threading.Tasks;

namespace Ky
{
    /// <summary>
    /// A client with its own configuration, cache, threads and counters. Thread-safe: share
    /// one per configuration. Dispose it when done: queued async calls then fail with
    /// <see cref="KyCancelledException"/>, running calls finish first (Dispose waits for them, each
    /// bounded by the timeout), and the native client is freed before Dispose returns.
    /// </summary>
    public sealed class KyClient : IDisposable
    {
        private readonly KyClientHandle handle;

        public KyClient(KyClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            IntPtr config;
            Errors.Check(options.FromEnvironment
                ? NativeMethods.ky_config_from_env(out config)
                : NativeMethods.ky_config_new(out config));
            try
            {
                Apply(config, options);
                IntPtr client;
                Errors.Check(NativeMethods.ky_client_new(config, out client));
                handle = new KyClientHandle(client);
                handle.Async = new AsyncCalls(handle);
                try
                {
                    DomainGuard.Current.Track(handle);
                }
                catch
                {
                    handle.CloseAndWait(); // the domain is unloading: free it now
                    throw;
                }
            }
            finally
            {
                // The client keeps its own copy of the configuration.
                NativeMethods.ky_config_free(config);
            }
        }

        /// <summary>The access token for <paramref name="programId"/>; see <see cref="AccessToken.Get"/>.</summary>
        /// <exception cref="ObjectDisposedException">the client was disposed.</exception>
        public string Get(string programId)
        {
            byte[] id = ProgramId.Encode(programId);
            using (var lease = new HandleLease(handle))
            {
                return TokenCalls.Get(lease.Pointer, id);
            }
        }

        /// <summary>
        /// Queues the fetch on this client's threads (at most 4, managed) and returns at once; see
        /// <see cref="AccessToken.GetAsync"/>. Fails with <see cref="KyCancelledException"/> if the
        /// client is disposed before the call runs.
        /// </summary>
        public Task<string> GetAsync(string programId, CancellationToken ct = default(CancellationToken))
        {
            byte[] id = ProgramId.Encode(programId);
            if (handle.IsDisposed) throw new ObjectDisposedException(typeof(KyClient).Name);
            return handle.Async.Submit(id, ct);
        }

        /// <summary>Drops the cached token for <paramref name="programId"/> (no I/O).</summary>
        public void Invalidate(string programId)
        {
            byte[] id = ProgramId.Encode(programId);
            using (var lease = new HandleLease(handle))
            {
                TokenCalls.Invalidate(lease.Pointer, id);
            }
        }

        /// <summary>Drops the cached token only if it is still <paramref name="token"/>; see <see cref="AccessToken.InvalidateIf"/>.</summary>
        public bool InvalidateIf(string programId, string token)
        {
            byte[] id = ProgramId.Encode(programId);
            using (var lease = new HandleLease(handle))
            {
                return TokenCalls.InvalidateIf(lease.Pointer, id, token);
            }
        }

        /// <summary>This client's counters since it was created.</summary>
        public KyStats GetStats()
        {
            using (var lease = new HandleLease(handle))
            {
                return TokenCalls.Stats(lease.Pointer);
            }
        }

        /// <summary>
        /// Refuses new calls, fails queued async calls with <see cref="KyCancelledException"/>, waits
        /// for running calls (each bounded by the timeout) and frees the native client and its
        /// threads. Calling it again does nothing.
        /// </summary>
        public void Dispose()
        {
            handle.CloseAndWait();
        }

        private static void Apply(IntPtr config, KyClientOptions o)
        {
            if (o.BaseUrl != null)
                Errors.Check(NativeMethods.ky_config_set_base_url(config, Utf8.ToNative(o.BaseUrl, "BaseUrl")));
            if (o.Timeout.HasValue)
                Errors.Check(NativeMethods.ky_config_set_timeout_ms(config, Millis(o.Timeout.Value, "Timeout")));
            if (o.ConnectTimeout.HasValue)
                Errors.Check(NativeMethods.ky_config_set_connect_timeout_ms(
                    config, Millis(o.ConnectTimeout.Value, "ConnectTimeout")));
            if (o.MaxRetries.HasValue)
            {
                if (o.MaxRetries.Value < 0)
                    throw new ArgumentOutOfRangeException("MaxRetries", o.MaxRetries.Value, "MaxRetries is negative");
                Errors.Check(NativeMethods.ky_config_set_max_retries(config, (uint)o.MaxRetries.Value));
            }
            if (o.CacheTtl.HasValue)
                Errors.Check(NativeMethods.ky_config_set_cache_ttl_ms(config, Millis(o.CacheTtl.Value, "CacheTtl")));
            if (o.CaFile != null)
                Errors.Check(NativeMethods.ky_config_set_ca_file(config, Utf8.ToNative(o.CaFile, "CaFile")));
            if (o.CaPem != null)
            {
                byte[] pem = System.Text.Encoding.UTF8.GetBytes(o.CaPem);
                Errors.Check(NativeMethods.ky_config_set_ca_pem(config, pem, (UIntPtr)pem.Length));
            }
            if (o.Proxy != null)
                Errors.Check(NativeMethods.ky_config_set_proxy(config, Utf8.ToNative(o.Proxy, "Proxy")));
            if (o.UserAgentSuffix != null)
                Errors.Check(NativeMethods.ky_config_set_user_agent_suffix(
                    config, Utf8.ToNative(o.UserAgentSuffix, "UserAgentSuffix")));
            if (o.RefreshAhead.HasValue)
                Errors.Check(NativeMethods.ky_config_set_refresh_ahead(config, o.RefreshAhead.Value));
            if (o.StaleIfError.HasValue)
                Errors.Check(NativeMethods.ky_config_set_stale_if_error_ms(
                    config, Millis(o.StaleIfError.Value, "StaleIfError")));
            if (o.Prefetch != null)
                foreach (string id in o.Prefetch)
                    Errors.Check(NativeMethods.ky_config_add_prefetch(config, ProgramId.Encode(id)));
            if (o.MaxPrograms.HasValue)
                Errors.Check(NativeMethods.ky_config_set_max_programs(config, o.MaxPrograms.Value));
        }

        private static ulong Millis(TimeSpan value, string name)
        {
            if (value < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(name, value, name + " is negative");
            // Rounded up so a sub-millisecond value is not turned into 0 (which means "off" or is rejected).
            return (ulong)Math.Ceiling(value.TotalMilliseconds);
        }
    }
}
