// Cached hit from C# (Mono): ns per ky_get_access_token call through a plain DllImport with a
// byte[] buffer, the cheapest marshalling a game server would write. LD_LIBRARY_PATH must hold
// libky_access_token.so and KY_BASE_URL name the sandbox.
//
//   mono Hit.exe DURATION_MS REPEATS
//
// One JSON line per repeat.
using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

static class Hit
{
    [DllImport("ky_access_token", CallingConvention = CallingConvention.Cdecl)]
    static extern int ky_get_access_token(byte[] programId, byte[] outBuf, UIntPtr len);

    static int Main(string[] args)
    {
        long durationMs = long.Parse(args[0]);
        int repeats = int.Parse(args[1]);
        byte[] id = Encoding.ASCII.GetBytes("223fc70098ad11e9a5898928ba7882e6\0");
        byte[] buf = new byte[1024];
        UIntPtr len = new UIntPtr((uint)buf.Length);
        if (ky_get_access_token(id, buf, len) != 0)
        {
            Console.Error.WriteLine("bench: warming the cache failed");
            return 1;
        }
        for (int r = 0; r < repeats; r++)
        {
            long calls = 0, failures = 0;
            var watch = Stopwatch.StartNew();
            while (watch.ElapsedMilliseconds < durationMs)
            {
                for (int i = 0; i < 1000; i++) failures += ky_get_access_token(id, buf, len) != 0 ? 1 : 0;
                calls += 1000;
            }
            double ns = watch.Elapsed.TotalMilliseconds * 1e6 / calls;
            if (failures != 0)
            {
                Console.Error.WriteLine("bench: a cached get failed");
                return 1;
            }
            Console.WriteLine("{\"bench\":\"binding\",\"binding\":\"csharp-mono\",\"repeat\":" + r
                + ",\"calls\":" + calls + ",\"ns_per_call\":"
                + ns.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + "}");
        }
        return 0;
    }
}
