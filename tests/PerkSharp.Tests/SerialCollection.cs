namespace PerkSharp.Tests;

/// <summary>
/// Finite-difference checks compare differences of nearly equal float64 losses; they run alone (after the parallel
/// tests) so that no concurrently running test can perturb libtorch's process-wide state or thread pool under them.
/// Also whole-process memory measurements, which parallel tests would inflate, and bit-exact resume comparisons.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (finite differences)";
}
