// One call from C# through the binding in bindings/csharp (Mono, .NET, Unity).
using System;
using Ky;

internal static class Hello
{
    private static int Main()
    {
        try
        {
            Console.WriteLine(AccessToken.Get("223fc70098ad11e9a5898928ba7882e6"));
            return 0;
        }
        catch (KyException e)
        {
            Console.Error.WriteLine(e.StatusName + ": " + e.Message);
            return 1;
        }
    }
}
