namespace PerkSharp.Runtime;

/// <summary>
/// An error caused by the user's input (a file, a flag, a config value). The CLI prints its message as one line and
/// exits non-zero without a stack trace, so the message must name the file/tensor/line and what was expected.
/// </summary>
public class PerkException : Exception
{
    public PerkException(string message) : base(message) { }
    public PerkException(string message, Exception inner) : base(message, inner) { }
}
