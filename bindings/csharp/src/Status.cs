namespace Ky
{
    /// <summary>
    /// The C <c>ky_status</c> codes. The numbers are the library's contract and never change; new
    /// codes may be added, so code receiving an unknown value should treat it as a failure.
    /// </summary>
    public enum KyStatus
    {
        /// <summary>KY_OK: success.</summary>
        Ok = 0,
        /// <summary>KY_ERR_INVALID_ARGUMENT: bad program id or configuration value; no I/O was done.</summary>
        InvalidArgument = 1,
        /// <summary>KY_ERR_BUFFER_TOO_SMALL: handled inside the binding (it retries with a bigger buffer).</summary>
        BufferTooSmall = 2,
        /// <summary>KY_ERR_NETWORK: connection refused or reset, DNS or proxy failure.</summary>
        Network = 3,
        /// <summary>KY_ERR_TIMEOUT: the whole-call deadline (retries included) passed.</summary>
        Timeout = 4,
        /// <summary>KY_ERR_TLS: TLS handshake or certificate verification failed.</summary>
        Tls = 5,
        /// <summary>KY_ERR_HTTP_STATUS: a non-2xx answer (3xx included: redirects are not followed).</summary>
        HttpStatus = 6,
        /// <summary>KY_ERR_API: the API answered err != 0; see <see cref="KyException.ApiErr"/>.</summary>
        Api = 7,
        /// <summary>KY_ERR_BAD_RESPONSE: not the documented JSON, or no usable token.</summary>
        BadResponse = 8,
        /// <summary>KY_ERR_INTERNAL: a bug in the native library (a caught panic).</summary>
        Internal = 9,
        /// <summary>KY_ERR_CANCELLED: an async call was dropped because its client was being freed.</summary>
        Cancelled = 10,
        /// <summary>KY_ERR_BUSY: too many async calls queued on one client.</summary>
        Busy = 11,
    }

    /// <summary>The C <c>ky_log_level</c> values for <see cref="KyLog.SetCallback"/>.</summary>
    public enum KyLogLevel
    {
        /// <summary>Background refreshes started.</summary>
        Debug = 0,
        /// <summary>Each upstream request that succeeded, with its timing.</summary>
        Info = 1,
        /// <summary>A failed attempt that will be retried; a stale token served.</summary>
        Warn = 2,
        /// <summary>A fetch that failed for good.</summary>
        Error = 3,
    }
}
