#!/usr/bin/env bash
# Rebuilds src/PerkSharp/Data/Haystack/Corpus/*.txt.gz from Debian's r-cran-janeaustenr (public-domain Austen novels).
# Reproducible: the .deb is pinned by version and sha256; the reader uses the Python 3 standard library only.
# Needs: apt-get (download only, nothing is installed), dpkg-deb, python3, gzip. Run from anywhere.
set -euo pipefail
VERSION="1.0.0-1"
SHA256="$(cat "$(dirname "$0")/janeaustenr.sha256")"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="$repo/src/PerkSharp/Data/Haystack/Corpus"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download "r-cran-janeaustenr=$VERSION"
deb="r-cran-janeaustenr_${VERSION}_all.deb"
echo "$SHA256  $deb" | sha256sum -c -
dpkg-deb -x "$deb" out
python3 "$here/read_rdata.py" out/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb txt
# Split by book (DATASETS.md §4.4): train = Emma, Mansfield Park, Pride and Prejudice, Sense and Sensibility;
# validation = Northanger Abbey; test = Persuasion. The folder name is the split.
mkdir -p "$dest"/{train,validation,test}
for b in emma mansfieldpark prideprejudice sensesensibility; do gzip -9 -n -c "txt/$b.txt" > "$dest/train/$b.txt.gz"; done
gzip -9 -n -c txt/northangerabbey.txt > "$dest/validation/northangerabbey.txt.gz"
gzip -9 -n -c txt/persuasion.txt > "$dest/test/persuasion.txt.gz"
cp out/usr/share/doc/r-cran-janeaustenr/copyright "$dest/COPYRIGHT.debian"
echo "written to $dest"
