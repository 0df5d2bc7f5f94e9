using Bogus;
using Bogus.DataSets;

namespace PerkSharp.Data;

/// <summary>One student record; all values are written as strings (docs/DATA.md).</summary>
public sealed record StudentRecord(string Id, string Name, string Year, string School, string Major, int Grade)
{
    /// <summary>The context element of the inner loop.</summary>
    public string Render() => StudentRecordsReader.Render(Id, Name, Year, School, Major, Grade.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>
/// The per-split pool of distinct students (docs/DATA.md–5.3). Ids are 7-digit numbers with
/// Id mod 3 = split number (train 0, validation 1, test 2), so pools of different splits never share an Id.
/// Names use Bogus' en first/last-name lists driven by <see cref="PerkRandom"/> (not System.Random).
/// </summary>
public static class StudentPool
{
    public const int DefaultSize = 1000;

    public static readonly string[] Years = { "Freshman", "Sophomore", "Junior", "Senior" };

    /// <summary>Major → school (18 majors, uniform; the school follows from the major).</summary>
    public static readonly (string Major, string School)[] Majors =
    {
        ("Art History; Criticism & Conservation", ArtsSchool), ("Classics & Classical Literatures", ArtsSchool), ("Comparative Literature", ArtsSchool),
        ("Drama & Theatre Arts", ArtsSchool), ("Economics", ArtsSchool), ("Film Cinema Studies", ArtsSchool), ("History", ArtsSchool),
        ("Psychology", ArtsSchool), ("Religious Studies", ArtsSchool), ("Spanish Language & Literature", ArtsSchool),
        ("Biomedical Engineering", EngSchool), ("Civil Engineering", EngSchool), ("Electrical & Electronics Engineering", EngSchool),
        ("Engineering & Industrial Management", EngSchool), ("Environmental engineering", EngSchool), ("Space Engineering", EngSchool),
        ("Computer Science", CsSchool), ("Cybersecurity", CsSchool),
    };

    const string ArtsSchool = "School of Arts and Humanities";
    const string EngSchool = "School of Engineering";
    const string CsSchool = "School of Computer Information and Data Sciences";

    static readonly string[] FemalePrefixes = { "Mrs.", "Ms.", "Miss", "Dr." };
    static readonly string[] MalePrefixes = { "Mr.", "Dr." };
    static readonly string[] FemaleSuffixes = { "MD", "DDS", "PhD", "DVM" };
    static readonly string[] MaleSuffixes = { "Jr.", "Sr.", "I", "II", "III", "IV", "V", "MD", "DDS", "PhD", "DVM" };

    public static int SplitNumber(string split) => split switch
    {
        "train" => 0, "validation" => 1, "test" => 2,
        _ => throw new Runtime.PerkException($"split '{split}': expected train, validation or test"),
    };

    /// <summary>The pool of <paramref name="size"/> distinct students of a split.</summary>
    public static List<StudentRecord> Build(ulong seed, string split, int size = DefaultSize)
    {
        int residue = SplitNumber(split);
        var rng = PerkRandom.ForSample(seed, "student_records/pool", "", split, 0);
        var names = new Name("en") { Random = new PortableRandomizer(rng) };
        var ids = new HashSet<string>();
        var pool = new List<StudentRecord>(size);
        while (pool.Count < size)
        {
            string id = (1_000_000 + 3 * rng.Next(3_000_000) + residue).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!ids.Add(id)) continue;
            var (major, school) = rng.Pick(Majors);
            pool.Add(new StudentRecord(id, StudentName(rng, names), rng.Pick(Years), school, major, rng.Next(101)));
        }
        return pool;
    }

    // Faker en_US style: gender uniform, format uniform over {First Last, Prefix First Last, First Last Suffix,
    // Prefix First Last Suffix}; prefixes/suffixes from gendered lists (Bogus' own ignore gender).
    static string StudentName(PerkRandom rng, Name names)
    {
        bool female = rng.Coin();
        string first = names.FirstName(female ? Name.Gender.Female : Name.Gender.Male), last = names.LastName();
        int format = rng.Next(4);
        string prefix = rng.Pick(female ? FemalePrefixes : MalePrefixes), suffix = rng.Pick(female ? FemaleSuffixes : MaleSuffixes);
        return format switch
        {
            0 => $"{first} {last}",
            1 => $"{prefix} {first} {last}",
            2 => $"{first} {last} {suffix}",
            _ => $"{prefix} {first} {last} {suffix}",
        };
    }

    /// <summary>Bogus randomizer whose source is a <see cref="PerkRandom"/> stream (portable across .NET versions).</summary>
    sealed class PortableRandomizer : Randomizer
    {
        public PortableRandomizer(PerkRandom rng) { localSeed = new PerkSystemRandom(rng); }
    }

    /// <summary>System.Random facade over PerkRandom, so Bogus draws come from the portable stream.</summary>
    sealed class PerkSystemRandom(PerkRandom rng) : Random
    {
        public override int Next() => (int)(rng.NextU64() >> 33);
        public override int Next(int maxValue) => maxValue <= 1 ? 0 : rng.Next(maxValue);
        public override int Next(int minValue, int maxValue) => maxValue - minValue <= 1 ? minValue : (int)(minValue + (long)rng.Next((int)Math.Min(int.MaxValue, (long)maxValue - minValue)));
        public override long NextInt64() => (long)(rng.NextU64() >> 1);
        public override double NextDouble() => rng.NextDouble();
        protected override double Sample() => rng.NextDouble();
        public override void NextBytes(byte[] buffer) { for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)rng.NextU64(); }
        public override void NextBytes(Span<byte> buffer) { for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)rng.NextU64(); }
    }
}
