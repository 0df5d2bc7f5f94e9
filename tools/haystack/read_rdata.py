#!/usr/bin/env python3
"""Reads janeaustenr's data/Rdata.rdb (R lazy-load DB) with the Python standard library only and writes one cleaned
text file per novel: paragraphs on single lines, separated by blank lines.

Format (see DATASETS.md §4.2): 6 consecutive blocks, one per novel in alphabetical order of object name; each block is
a 4-byte big-endian uncompressed length + a zlib stream holding R XDR serialisation of a character vector (one printed
line of the book per element; "" = paragraph break).
Usage: read_rdata.py Rdata.rdb OUTDIR
"""
import re, struct, sys, zlib, os

NAMES = ["emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice", "sensesensibility"]
TITLES = ["EMMA", "MANSFIELD PARK", "NORTHANGER ABBEY", "PERSUASION", "PRIDE AND PREJUDICE", "SENSE AND SENSIBILITY"]
HEADING = re.compile(r"^(VOLUME|CHAPTER|Chapter)\s+[IVXLC\d]+\.?$", re.I)


def read_blocks(data):
    pos, out = 0, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        d = zlib.decompressobj()
        payload = d.decompress(data[pos + 4:])
        if len(payload) != n:
            raise SystemExit(f"block at {pos}: expected {n} bytes, got {len(payload)}")
        pos = len(data) - len(d.unused_data)
        out.append(payload)
    return out


def read_strsxp(p):
    if p[:2] != b"X\n":
        raise SystemExit("not XDR serialisation")
    i = 2
    version, _, _ = struct.unpack(">iii", p[i:i + 12]); i += 12
    if version == 3:
        (l,) = struct.unpack(">i", p[i:i + 4]); i += 4 + l
    flags, n = struct.unpack(">ii", p[i:i + 8]); i += 8
    if flags & 0xFF != 16:
        raise SystemExit(f"expected STRSXP, flags {flags:#x}")
    lines = []
    for _ in range(n):
        _, l = struct.unpack(">ii", p[i:i + 8]); i += 8
        if l < 0:
            lines.append("")
        else:
            lines.append(p[i:i + l].decode("utf-8")); i += l
    return lines


def clean(lines, title):
    if lines[0].strip().upper() != title:
        raise SystemExit(f"first line {lines[0]!r} is not the title {title!r}")
    paras, cur = [], []
    for line in lines + [""]:
        s = line.strip()
        if s:
            cur.append(s)
            continue
        if cur:
            paras.append(" ".join(cur)); cur = []
    out = []
    for p in paras:
        if HEADING.match(p) or p.upper() == p:   # headings, the title block, "THE END", all-caps lines
            continue
        out.append(re.sub(r"\s+", " ", p.replace("_", "")).strip())
    while out and len(out[0].split()) < 6:      # what is left of the title block ("by", "Jane Austen (1803)")
        out.pop(0)
    return out


def main():
    rdb, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    blocks = read_blocks(open(rdb, "rb").read())
    if len(blocks) != len(NAMES):
        raise SystemExit(f"expected {len(NAMES)} blocks, found {len(blocks)}")
    for name, title, block in zip(NAMES, TITLES, blocks):
        paras = clean(read_strsxp(block), title)
        with open(os.path.join(outdir, name + ".txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n\n".join(paras) + "\n")
        print(f"{name}: {len(paras)} paragraphs, {sum(len(p) for p in paras)} chars")


if __name__ == "__main__":
    main()
