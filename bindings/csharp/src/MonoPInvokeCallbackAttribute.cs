using System;

namespace Ky
{
    /// <summary>
    /// Marks a static method that native code calls back. IL2CPP (Unity's AOT compiler) generates
    /// a reverse P/Invoke wrapper only for methods carrying an attribute of this name, whatever its
    /// namespace, so the binding defines its own instead of depending on Unity's assemblies.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type delegateType)
        {
            DelegateType = delegateType;
        }

        public Type DelegateType { get; private set; }
    }
}
