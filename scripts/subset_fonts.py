"""Make the Chinese fonts vendored in web/fonts/ from Debian's fonts-noto-cjk package.

The printable e-waybill embeds Noto Sans CJK SC so that it prints on a machine with no fonts. The
full collection is 20 MB a weight, so only the Simplified Chinese face is kept, cut down to:

- regular: every hanzi of GBK (21,000; covers Guangdong place names such as 北滘 and 涌 that
  GB2312 lacks) — used for data values (names, addresses, goods);
- bold: the 6,763 hanzi of GB2312 — used for labels and headings, which come from our own
  message catalogues (fpdf2 falls back to the regular face for any character it lacks);

plus ASCII, Latin-1, Latin Extended-A, general punctuation, CJK punctuation and full-width forms.
fpdf2 subsets again per document, so a PDF carries only the glyphs it uses.

Run once after ``apt-get install fonts-noto-cjk`` (or ``apt-get download fonts-noto-cjk`` and
``dpkg-deb -x``, then pass the folder)::

    uv run python scripts/subset_fonts.py [/usr/share/fonts/opentype/noto]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

OUT = Path(__file__).resolve().parent.parent / "web" / "fonts"
COMMON_RANGES = (
    range(0x20, 0x7F),  # ASCII
    range(0xA0, 0x180),  # Latin-1, Latin Extended-A
    range(0x2000, 0x2070),  # general punctuation
    range(0x2190, 0x2200),  # arrows
    range(0x3000, 0x3040),  # CJK symbols and punctuation
    range(0xFF00, 0xFFF0),  # full-width forms
)


def _hanzi(encoding: str) -> set[int]:
    return {cp for cp in range(0x4E00, 0xA000) if _encodes(chr(cp), encoding)}


def _gb2312_symbols() -> set[int]:
    symbols = set()
    for first in range(0xA1, 0xAA):
        for second in range(0xA1, 0xFF):
            try:
                symbols.add(ord(bytes([first, second]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return symbols


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _simplified_face(collection: Path) -> TTFont:
    for font in TTCollection(collection).fonts:
        if font["name"].getDebugName(1) == "Noto Sans CJK SC":
            return font
    raise SystemExit(f"no Noto Sans CJK SC face in {collection}")


def subset_font(collection: Path, target: Path, codepoints: set[int]) -> None:
    """Keep ``codepoints`` of the SC face of ``collection`` and write it to ``target``."""
    font = _simplified_face(collection)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    font.save(target)
    print(f"{target.name}: {len(font.getBestCmap())} characters, {target.stat().st_size:,} bytes")


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto")
    common = {cp for block in COMMON_RANGES for cp in block} | _gb2312_symbols()
    subset_font(source / "NotoSansCJK-Regular.ttc", OUT / "NotoSansCJKsc-Regular-GBK.otf", common | _hanzi("gbk"))
    subset_font(source / "NotoSansCJK-Bold.ttc", OUT / "NotoSansCJKsc-Bold-GB2312.otf", common | _hanzi("gb2312"))


if __name__ == "__main__":
    main()
