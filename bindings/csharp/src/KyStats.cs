using System;
using System.Runtime.InteropServices;

namespace Ky
{
    /// <summary>
    /// The C <c>ky_stats</c> struct, field for field (version 1: 200 bytes). The library writes
    /// min(sizeof, its own size) bytes, so a newer library with appended fields stays compatible.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct KyStatsNative
    {
        internal const int StatusSlots = 16;

        internal uint version;
        internal uint size;
        internal ulong cache_hits;
        internal ulong cache_misses;
        internal ulong upstream_requests;
        internal ulong upstream_failures;
        internal fixed ulong upstream_failures_by_status[StatusSlots];
        internal ulong coalesced_waiters;
        internal ulong stale_served;
        internal ulong refresh_ahead_runs;
        internal ulong cached_programs;
    }

    /// <summary>
    /// A client's counters since it was created. Counters are read one by one, not as an atomic
    /// snapshot, so they may be a call apart.
    /// </summary>
    public sealed class KyStats
    {
        private readonly ulong[] failuresByStatus = new ulong[KyStatsNative.StatusSlots];

        internal unsafe KyStats(ref KyStatsNative raw)
        {
            Version = raw.version;
            Size = raw.size;
            CacheHits = raw.cache_hits;
            CacheMisses = raw.cache_misses;
            UpstreamRequests = raw.upstream_requests;
            UpstreamFailures = raw.upstream_failures;
            fixed (ulong* slots = raw.upstream_failures_by_status)
            {
                for (int i = 0; i < KyStatsNative.StatusSlots; i++) failuresByStatus[i] = slots[i];
            }
            CoalescedWaiters = raw.coalesced_waiters;
            StaleServed = raw.stale_served;
            RefreshAheadRuns = raw.refresh_ahead_runs;
            CachedPrograms = raw.cached_programs;
        }

        /// <summary>KY_STATS_VERSION of the library that filled the counters.</summary>
        public uint Version { get; private set; }
        /// <summary>Bytes of the C struct the library wrote (200 for version 1).</summary>
        public uint Size { get; private set; }
        /// <summary>Calls answered from the cache with a fresh token.</summary>
        public ulong CacheHits { get; private set; }
        /// <summary>Calls that found no fresh token and fetched it or waited for a fetch.</summary>
        public ulong CacheMisses { get; private set; }
        /// <summary>HTTP requests sent upstream (retries and background refreshes included).</summary>
        public ulong UpstreamRequests { get; private set; }
        /// <summary>Upstream requests that failed.</summary>
        public ulong UpstreamFailures { get; private set; }
        /// <summary>Calls that waited for another caller's fetch instead of sending their own.</summary>
        public ulong CoalescedWaiters { get; private set; }
        /// <summary>Calls answered with the last good token past its TTL because refreshing failed.</summary>
        public ulong StaleServed { get; private set; }
        /// <summary>Background refreshes (refresh-ahead and prefetch).</summary>
        public ulong RefreshAheadRuns { get; private set; }
        /// <summary>Program ids with a token in the cache now.</summary>
        public ulong CachedPrograms { get; private set; }

        /// <summary>Upstream failures that ended with <paramref name="status"/> (e.g. Timeout).</summary>
        public ulong UpstreamFailuresFor(KyStatus status)
        {
            int i = (int)status;
            return i >= 0 && i < failuresByStatus.Length ? failuresByStatus[i] : 0;
        }

        public override string ToString()
        {
            return "hits=" + CacheHits + " misses=" + CacheMisses + " upstream=" + UpstreamRequests
                + " failures=" + UpstreamFailures + " coalesced=" + CoalescedWaiters
                + " stale=" + StaleServed + " refreshes=" + RefreshAheadRuns + " cached=" + CachedPrograms;
        }
    }
}
