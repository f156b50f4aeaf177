#!/usr/bin/env bash
# Rebuilds assets/fonts/NotoSansSC-OneMap-subset.otf from the system Noto Sans CJK collection.
# Needs: fonts-noto-cjk (Debian) and Python with fonttools (`pip install fonttools`).
# Usage: tools/subset_font.sh [SOURCE.ttc] ; PYTHON=/path/to/python overrides the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

source_ttc="${1:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}"
python="${PYTHON:-python3}"
# Face 2 of the Debian/Adobe collection is "Noto Sans CJK SC"; the script checks the name.
sc_face_index=2
divisions_csv="${DIVISIONS_CSV:-/work/shared/data/points/zhoucun_divisions_2023.csv}"
out=assets/fonts/NotoSansSC-OneMap-subset.otf

[[ -f "$source_ttc" ]] || { echo "subset_font: $source_ttc not found (apt-get install fonts-noto-cjk)" >&2; exit 1; }
"$python" -c 'import fontTools' 2>/dev/null || { echo "subset_font: $python lacks fonttools (pip install fonttools)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" - "$source_ttc" "$sc_face_index" "$work/sc.otf" <<'PY'
import sys
from fontTools.ttLib import TTCollection
ttc, index, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
face = TTCollection(ttc, lazy=True).fonts[index]
name = face["name"].getDebugName(4)
if name != "Noto Sans CJK SC":
    sys.exit(f"subset_font: face {index} of {ttc} is {name!r}, not Noto Sans CJK SC")
face.save(out)
PY

# The character set: GB 2312 (symbol rows and all 6,763 hanzi), Latin, CJK and full-width
# punctuation, the symbol blocks egui draws, and every character of the district's place names.
"$python" - "$divisions_csv" > "$work/unicodes.txt" <<'PY'
import os, sys
chars = set()
for lead in range(0xA1, 0xF8):
    if 0xAA <= lead <= 0xAF:  # unassigned rows between the symbols and the hanzi
        continue
    for trail in range(0xA1, 0xFF):
        try:
            chars.add(bytes([lead, trail]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x3000, 0x303F), (0xFF00, 0xFFEF),
          (0x2000, 0x206F), (0x2190, 0x21FF), (0x25A0, 0x25FF), (0x2600, 0x26FF)]
for lo, hi in ranges:
    chars.update(chr(c) for c in range(lo, hi + 1))
csv = sys.argv[1]
if os.path.exists(csv):
    with open(csv, encoding="utf-8") as f:
        chars.update(c for c in f.read() if ord(c) > 0x7F)
else:
    print(f"subset_font: warning: {csv} not found, place-name characters not added", file=sys.stderr)
hanzi = sum(1 for c in chars if 0x4E00 <= ord(c) <= 0x9FFF)
print(f"subset_font: {len(chars)} characters, {hanzi} hanzi", file=sys.stderr)
for c in sorted(chars):
    print(f"U+{ord(c):04X}")
PY

"$python" -m fontTools.subset "$work/sc.otf" \
  --unicodes-file="$work/unicodes.txt" \
  --output-file="$out" \
  --layout-features='' \
  --no-hinting \
  --name-IDs='*' \
  --name-languages='*' \
  --notdef-outline \
  --drop-tables+=VORG,vhea,vmtx,BASE,JSTF,DSIG

ls -l "$out"
