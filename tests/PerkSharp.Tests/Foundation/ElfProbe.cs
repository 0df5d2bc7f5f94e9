using System.Text;

namespace PerkSharp.Tests.Foundation;

/// <summary>Independent reader of ELF64 version-needs entries (checks the build's patch without sharing its code).</summary>
static class ElfProbe
{
    public static bool IsVersionWeak(byte[] b, string version)
    {
        ulong shoff = BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)shoff + i * shentsize;
            if (BitConverter.ToUInt32(b, sh + 4) != 0x6ffffffe) continue;
            int off = (int)BitConverter.ToUInt64(b, sh + 24);
            int link = (int)BitConverter.ToUInt32(b, sh + 40), count = (int)BitConverter.ToUInt32(b, sh + 44);
            int str = (int)BitConverter.ToUInt64(b, (int)shoff + link * shentsize + 24);
            int vn = off;
            for (int n = 0; n < count; n++)
            {
                int aux = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                for (int a = 0; a < BitConverter.ToUInt16(b, vn + 2); a++)
                {
                    int name = str + (int)BitConverter.ToUInt32(b, aux + 8);
                    int end = Array.IndexOf(b, (byte)0, name);
                    if (Encoding.ASCII.GetString(b, name, end - name) == version)
                        return (BitConverter.ToUInt16(b, aux + 4) & 0x2) != 0;
                    aux += (int)BitConverter.ToUInt32(b, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(b, vn + 12);
            }
        }
        throw new InvalidOperationException(version + " requirement not found");
    }
}
