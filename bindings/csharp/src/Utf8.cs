using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Ky
{
    /// <summary>
    /// Explicit UTF-8 conversions at the native boundary. The runtimes disagree on the default
    /// string marshalling (ANSI code page on .NET Framework/Windows, UTF-8 elsewhere), and the
    /// upstream messages are Chinese, so nothing is left to the marshaller.
    /// </summary>
    internal static class Utf8
    {
        // Throws on unpaired surrogates instead of silently sending U+FFFD to the library.
        private static readonly Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>NUL-terminated UTF-8 bytes of <paramref name="s"/>, or null for null.</summary>
        internal static byte[] ToNative(string s, string paramName)
        {
            if (s == null) return null;
            // An embedded NUL would silently cut the string short on the C side.
            if (s.IndexOf('\0') >= 0)
                throw new ArgumentException(paramName + " contains a NUL character", paramName);
            byte[] bytes;
            try
            {
                bytes = Strict.GetBytes(s);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException(paramName + " is not valid UTF-16 text", paramName, e);
            }
            var result = new byte[bytes.Length + 1];
            Buffer.BlockCopy(bytes, 0, result, 0, bytes.Length);
            return result;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string owned by the library ("" for NULL).</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return string.Empty;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            return FromNative(p, len);
        }

        /// <summary>Decodes <paramref name="len"/> bytes of UTF-8 at <paramref name="p"/>.</summary>
        internal static string FromNative(IntPtr p, int len)
        {
            if (p == IntPtr.Zero || len == 0) return string.Empty;
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            try
            {
                return Encoding.UTF8.GetString(bytes);
            }
            finally
            {
                // The bytes may be a token: do not leave a copy for the GC to keep around.
                Array.Clear(bytes, 0, bytes.Length);
            }
        }

        /// <summary>Decodes the NUL-terminated UTF-8 string at the start of <paramref name="buf"/>.</summary>
        internal static string FromBuffer(byte[] buf)
        {
            int len = Array.IndexOf(buf, (byte)0);
            if (len < 0) len = buf.Length;
            return Encoding.UTF8.GetString(buf, 0, len);
        }
    }
}
