using PerkSharp.Runtime;

namespace PerkSharp.Data;

/// <summary>How a length name maps to a token budget (docs/DATA.md).</summary>
public enum BudgetRule
{
    /// <summary>B(Nk) = N×1024 GPT-2 tokens (fits the PERK samples; default).</summary>
    Perk,
    /// <summary>B(Nk) = N×1000 − 300 (BABILong's create_tasks.py, 300 reserved for the prompt).</summary>
    Babilong,
}

/// <summary>Length names ("0k", "1k", …, "128k") and their context budgets in GPT-2 tokens.</summary>
public static class LengthBudget
{
    public static readonly string[] Names = { "0k", "1k", "2k", "4k", "8k", "16k", "32k", "64k", "128k" };

    /// <summary>N of a name "Nk" (e.g. 8 for "8k").</summary>
    public static int Thousands(string name)
    {
        string s = name.Trim().ToLowerInvariant();
        if (s.EndsWith('k') && int.TryParse(s[..^1], out int n) && n >= 0 && n <= 10000) return n;
        throw new PerkException($"length '{name}' is not a length name like 0k, 1k, 8k or 128k");
    }

    /// <summary>Context budget (haystack + plain facts) in GPT-2 tokens; 0 for "0k" (facts only).</summary>
    public static int Tokens(string name, BudgetRule rule = BudgetRule.Perk)
    {
        int n = Thousands(name);
        if (n == 0) return 0;
        return rule == BudgetRule.Perk ? n * 1024 : n * 1000 - 300;
    }

    /// <summary>The bucket recorded in <see cref="PerkExample.Length"/>: N×1024.</summary>
    public static int Bucket(string name) => Thousands(name) * 1024;
}
