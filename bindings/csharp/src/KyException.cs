using System;

namespace Ky
{
    /// <summary>
    /// A failure reported by the native library: <see cref="Status"/> is the <c>ky_status</c> code
    /// and <see cref="Exception.Message"/> is <c>ky_last_error_message()</c> verbatim (the upstream
    /// <c>msg</c>, e.g. 项目不存在, included). Catch a subclass to handle one kind of failure.
    /// </summary>
    public class KyException : Exception
    {
        public KyException(KyStatus status, string message, long apiErr = 0)
            : base(message)
        {
            Status = status;
            ApiErr = apiErr;
        }

        /// <summary>The native status code.</summary>
        public KyStatus Status { get; private set; }

        /// <summary>The upstream <c>err</c> for <see cref="KyStatus.Api"/> failures, else 0.</summary>
        public long ApiErr { get; private set; }

        /// <summary>The C name of <see cref="Status"/>, e.g. "KY_ERR_TIMEOUT".</summary>
        public string StatusName
        {
            get { return Utf8.FromNative(NativeMethods.ky_status_name((int)Status)); }
        }
    }

    /// <summary>
    /// KY_ERR_INVALID_ARGUMENT from the library: a rejected configuration value (a
    /// <see cref="KyClientOptions"/> setting or a malformed <c>KY_*</c> environment variable).
    /// Invalid program ids are rejected earlier, as <see cref="ArgumentException"/>.
    /// </summary>
    public class KyInvalidArgumentException : KyException
    {
        public KyInvalidArgumentException(string message) : base(KyStatus.InvalidArgument, message) { }
    }

    /// <summary>
    /// The API could not be reached: connection refused/reset, DNS, proxy (KY_ERR_NETWORK), and
    /// the subclasses for deadline and TLS failures. Usually transient: retry later.
    /// </summary>
    public class KyNetworkException : KyException
    {
        public KyNetworkException(string message) : base(KyStatus.Network, message) { }

        protected KyNetworkException(KyStatus status, string message) : base(status, message) { }
    }

    /// <summary>KY_ERR_TIMEOUT: the whole-call deadline (connection, retries and backoff included) passed.</summary>
    public class KyTimeoutException : KyNetworkException
    {
        public KyTimeoutException(string message) : base(KyStatus.Timeout, message) { }
    }

    /// <summary>KY_ERR_TLS: the handshake failed or the certificate is not trusted (see CaFile/CaPem).</summary>
    public class KyTlsException : KyNetworkException
    {
        public KyTlsException(string message) : base(KyStatus.Tls, message) { }
    }

    /// <summary>KY_ERR_HTTP_STATUS: the server answered a non-2xx status (3xx included).</summary>
    public class KyHttpStatusException : KyException
    {
        public KyHttpStatusException(string message) : base(KyStatus.HttpStatus, message) { }
    }

    /// <summary>KY_ERR_API: the API answered <c>err != 0</c>; <see cref="KyException.ApiErr"/> has it.</summary>
    public class KyApiException : KyException
    {
        public KyApiException(string message, long apiErr) : base(KyStatus.Api, message, apiErr) { }
    }

    /// <summary>KY_ERR_BAD_RESPONSE: the answer was not the documented JSON or had no usable token.</summary>
    public class KyBadResponseException : KyException
    {
        public KyBadResponseException(string message) : base(KyStatus.BadResponse, message) { }
    }

    /// <summary>
    /// KY_ERR_CANCELLED: an async call was dropped because its <see cref="KyClient"/> was disposed
    /// before it ran. (Cancelling a CancellationToken cancels the Task instead.)
    /// </summary>
    public class KyCancelledException : KyException
    {
        public KyCancelledException(string message) : base(KyStatus.Cancelled, message) { }
    }

    /// <summary>KY_ERR_BUSY: too many async calls are queued on the client; nothing was queued.</summary>
    public class KyBusyException : KyException
    {
        public KyBusyException(string message) : base(KyStatus.Busy, message) { }
    }
}
