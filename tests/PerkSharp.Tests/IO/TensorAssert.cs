using static TorchSharp.torch;

namespace PerkSharp.Tests.IO;

/// <summary>Bitwise tensor comparison (dtype, shape and every byte of the logical contents).</summary>
internal static class TensorAssert
{
    public static bool Bitwise(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var ca = a.detach().cpu().contiguous();
        using var cb = b.detach().cpu().contiguous();
        return ca.NumberOfElements == 0 || ca.bytes.SequenceEqual(cb.bytes);
    }
}
