// get_token: print the access token for a program id, through the C# binding (Ky.AccessToken).
//
//   mcs -unsafe -target:library -out:Ky.AccessToken.dll bindings/csharp/src/*.cs
//   mcs -r:Ky.AccessToken.dll -out:get_token.exe examples/csharp/GetToken.cs
//   KY_BASE_URL=http://127.0.0.1:8787 LD_LIBRARY_PATH=target/debug mono get_token.exe PROGRAM_ID
//
// The default client reads KY_BASE_URL (and KY_TIMEOUT_MS, ...) from the environment: point it at
// the sandbox (`cargo run -p ky-sandbox` prints the URL) unless you mean the production API.
// Exit status: 0 and the token on stdout, or the ky_status code and "STATUS_NAME: message" on stderr.
using System;
using System.Text;
using Ky;

internal static class GetToken
{
    private const string SampleProgramId = "223fc70098ad11e9a5898928ba7882e6";

    private static int Main(string[] args)
    {
        // UTF-8 whatever the locale: upstream messages are Chinese (e.g. 项目不存在).
        Console.OutputEncoding = new UTF8Encoding(false);
        string programId = args.Length > 0 ? args[0] : SampleProgramId;
        try
        {
            Console.WriteLine(AccessToken.Get(programId));
            return 0;
        }
        catch (KyException e)
        {
            // For KY_ERR_API the message already carries the upstream err and msg.
            Console.Error.WriteLine(e.StatusName + ": " + e.Message);
            return (int)e.Status;
        }
        catch (ArgumentException e)
        {
            // The binding checks program ids before calling the library; same status as the C API.
            // Its Message ends with the parameter name on a line of its own on .NET Framework/Mono.
            Console.Error.WriteLine("KY_ERR_INVALID_ARGUMENT: " + e.Message.Split('\n')[0].TrimEnd());
            return (int)KyStatus.InvalidArgument;
        }
    }
}
