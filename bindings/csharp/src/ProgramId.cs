using System;

namespace Ky
{
    /// <summary>
    /// Checks program ids on the C# side, with the native library's rule and wording (1-32 bytes
    /// of A-Z a-z 0-9 _ -), so a bad id surfaces as the idiomatic ArgumentException before any
    /// native call, and an embedded NUL cannot silently shorten the id the library sees.
    /// </summary>
    internal static class ProgramId
    {
        internal const int MaxLength = 32;

        /// <summary>Returns the NUL-terminated bytes of a valid id; throws Argument(Null)Exception otherwise.</summary>
        internal static byte[] Encode(string programId)
        {
            const string param = "programId";
            if (programId == null) throw new ArgumentNullException(param, "program id is null");
            if (programId.Length == 0) throw new ArgumentException("program id is empty", param);
            // Valid ids are ASCII, so their UTF-8 bytes are their chars; anything else is
            // reported by UTF-8 byte and position exactly as the library would.
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(programId);
            if (bytes.Length > MaxLength)
                throw new ArgumentException("program id is longer than " + MaxLength + " bytes", param);
            for (int i = 0; i < bytes.Length; i++)
            {
                byte b = bytes[i];
                if (IsIdByte(b)) continue;
                string shown = (b >= 0x21 && b <= 0x7e) || b == (byte)' '
                    ? "'" + (char)b + "'"
                    : "byte 0x" + b.ToString("x2");
                throw new ArgumentException(
                    "program id has " + shown + " at position " + i + "; only A-Z a-z 0-9 _ - are allowed", param);
            }
            var result = new byte[bytes.Length + 1];
            Buffer.BlockCopy(bytes, 0, result, 0, bytes.Length);
            return result;
        }

        private static bool IsIdByte(byte b)
        {
            return (b >= (byte)'a' && b <= (byte)'z') || (b >= (byte)'A' && b <= (byte)'Z')
                || (b >= (byte)'0' && b <= (byte)'9') || b == (byte)'_' || b == (byte)'-';
        }
    }
}
