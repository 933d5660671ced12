namespace Ky
{
    /// <summary>Turns a native status into the matching exception type.</summary>
    internal static class Errors
    {
        /// <summary>
        /// Throws for a failure status. Call it on the thread that made the native call, right
        /// after it: the details (<c>ky_last_error_message</c>, <c>ky_last_api_err</c>) are per thread.
        /// </summary>
        internal static void Check(int status)
        {
            if (status != (int)KyStatus.Ok) throw FromStatus(status);
        }

        /// <summary>The exception for a failure status, with this thread's error details.</summary>
        internal static KyException FromStatus(int status)
        {
            string message = Utf8.FromNative(NativeMethods.ky_last_error_message());
            long apiErr = NativeMethods.ky_last_api_err();
            if (message.Length == 0)
                message = Utf8.FromNative(NativeMethods.ky_status_description(status));
            switch ((KyStatus)status)
            {
                case KyStatus.InvalidArgument: return new KyInvalidArgumentException(message);
                case KyStatus.Network: return new KyNetworkException(message);
                case KyStatus.Timeout: return new KyTimeoutException(message);
                case KyStatus.Tls: return new KyTlsException(message);
                case KyStatus.HttpStatus: return new KyHttpStatusException(message);
                case KyStatus.Api: return new KyApiException(message, apiErr);
                case KyStatus.BadResponse: return new KyBadResponseException(message);
                case KyStatus.Cancelled: return new KyCancelledException(message);
                case KyStatus.Busy: return new KyBusyException(message);
                default: return new KyException((KyStatus)status, message, apiErr);
            }
        }
    }
}
