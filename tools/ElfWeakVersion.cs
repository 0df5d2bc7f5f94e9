// MSBuild task (compiled by RoslynCodeTaskFactory): marks the GLIBCXX_3.4.32 version requirement of an ELF64 shared
// library as weak (VER_FLG_WEAK), so TorchSharp 0.107.0 loads on Debian 12's libstdc++ (GLIBCXX_3.4.30).
// Layout per the ELF gABI: section headers -> SHT_GNU_verneed (0x6ffffffe) -> Elf64_Verneed -> Elf64_Vernaux.
// Idempotent; every read is bounds-checked; the file is rewritten through a temp file so that a hard link into a
// package cache is never modified in place.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class MarkGlibcxxWeak : Task
{
    [Required] public ITaskItem[] Files { get; set; }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;
    const string Target = "GLIBCXX_3.4.32";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            try
            {
                string result = Patch(path);
                Log.LogMessage(MessageImportance.Normal, "MarkGlibcxxWeak: " + path + ": " + result);
            }
            catch (Exception e)
            {
                Log.LogError("MarkGlibcxxWeak: cannot patch " + path + ": " + e.Message);
                return false;
            }
        }
        return true;
    }

    static string Patch(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (b[4] != 2 || b[5] != 1) throw new InvalidDataException("not ELF64 little-endian");

        ulong shoff = U64(b, 0x28);
        int shentsize = U16(b, 0x3A), shnum = U16(b, 0x3C);
        if (shentsize < 64) throw new InvalidDataException("bad e_shentsize");
        for (int i = 0; i < shnum; i++)
        {
            long sh = Check(b, (long)shoff + (long)i * shentsize, 64);
            if (U32(b, sh + 4) != ShtGnuVerneed) continue;
            long secOff = (long)U64(b, sh + 24);
            uint link = U32(b, sh + 40), count = U32(b, sh + 44);
            long strSh = Check(b, (long)shoff + (long)link * shentsize, 64);
            long strOff = (long)U64(b, strSh + 24);

            long vn = secOff;
            for (uint n = 0; n < count; n++)
            {
                Check(b, vn, 16);
                int cnt = U16(b, vn + 2);
                long aux = vn + U32(b, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    Check(b, aux, 16);
                    ushort flags = (ushort)U16(b, aux + 4);
                    string name = CString(b, strOff + U32(b, aux + 8));
                    if (name == Target)
                    {
                        if ((flags & VerFlgWeak) != 0) return "already weak";
                        flags |= VerFlgWeak;
                        b[aux + 4] = (byte)(flags & 0xff);
                        b[aux + 5] = (byte)(flags >> 8);
                        string tmp = path + ".patching";
                        File.WriteAllBytes(tmp, b);
                        File.Delete(path);
                        File.Move(tmp, path);
                        return "marked " + Target + " weak";
                    }
                    aux += U32(b, aux + 12);
                }
                vn += U32(b, vn + 12);
            }
            return "no " + Target + " requirement";
        }
        return "no version-needs section";
    }

    static long Check(byte[] b, long off, long len)
    {
        if (off < 0 || off + len > b.Length) throw new InvalidDataException("offset out of bounds: " + off);
        return off;
    }
    static int U16(byte[] b, long o) { Check(b, o, 2); return b[o] | (b[o + 1] << 8); }
    static uint U32(byte[] b, long o) { Check(b, o, 4); return BitConverter.ToUInt32(b, (int)o); }
    static ulong U64(byte[] b, long o) { Check(b, o, 8); return BitConverter.ToUInt64(b, (int)o); }
    static string CString(byte[] b, long o)
    {
        long e = o;
        while (Check(b, e, 1) >= 0 && b[e] != 0) e++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(e - o));
    }
}
