using PerkSharp.Evaluation;
using PerkSharp.Runtime;

namespace PerkSharp.Tests.Evaluation;

public class WilsonTests
{
    // Hand-computed with z = 1.96: center = (p + z²/2n) / (1 + z²/n), half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²).
    [Theory]
    [InlineData(27, 30, 0.74378559, 0.96540074)]   // p = 0.9: center 0.854593, half 0.110808
    [InlineData(0, 30, 0.0, 0.11351709)]           // k = 0: lo exactly 0, hi = (z²/n) / (1 + z²/n)
    [InlineData(100, 100, 0.96300519, 1.0)]        // k = n: hi exactly 1, lo = 1 / (1 + z²/n)
    [InlineData(50, 100, 0.40382983, 0.59617017)]  // symmetric about 0.5
    [InlineData(3, 5, 0.23071993, 0.88238177)]
    public void IntervalMatchesHandComputedValues(int k, int n, double lo, double hi)
    {
        var ci = Wilson.Interval(k, n);
        Assert.True(Math.Abs(ci.Lo - lo) < 1e-7, $"lo {ci.Lo} vs {lo}");
        Assert.True(Math.Abs(ci.Hi - hi) < 1e-7, $"hi {ci.Hi} vs {hi}");
    }

    [Fact]
    public void EndsAreExactAtZeroAndAllSuccesses()
    {
        Assert.Equal(0.0, Wilson.Interval(0, 30).Lo);
        Assert.Equal(1.0, Wilson.Interval(30, 30).Hi);
        Assert.Equal(0.0, Wilson.Interval(0, 1).Lo);
        Assert.Equal(1.0, Wilson.Interval(1, 1).Hi);
    }

    [Fact]
    public void MeanOfZeroOneScoresGivesTheSameIntervalAsItsCount()
    {
        Assert.Equal(Wilson.Interval(27, 30), Wilson.OfMean(0.9, 30));
        Assert.Equal(Wilson.Interval(1, 3), Wilson.OfMean(1.0 / 3, 3));
        Assert.Equal((0.0, 1.0), Wilson.Interval(0, 0));                       // no data: no information
    }

    [Fact]
    public void ImpossibleCountsAreOneLineErrors()
    {
        var e = Assert.Throws<PerkException>(() => Wilson.Interval(31, 30));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<PerkException>(() => Wilson.Interval(-1, 30));
    }
}
