"""Fill empty msgstr entries of a catalogue from a tab-separated file (msgid<TAB>msgstr), then keep the rest.

Usage: uv run python tools/fill_translations.py locale/zh_Hans_CN/LC_MESSAGES/messages.po FILE.tsv
       uv run python tools/fill_translations.py locale/en/LC_MESSAGES/messages.po --identity
(``--identity``: the English catalogue, whose messages are their own translation.)
Run ``make translations`` afterwards to compile the catalogues.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main(po_path: str, tsv_path: str) -> int:
    """Fill ``po_path`` from ``tsv_path`` (or with the messages themselves); print what is still untranslated."""
    identity = tsv_path == "--identity"
    pairs = (
        {}
        if identity
        else dict(
            line.split("\t", 1) for line in Path(tsv_path).read_text(encoding="utf-8").splitlines() if "\t" in line
        )
    )
    with open(po_path, "rb") as handle:
        catalogue = read_po(handle)
    for message in catalogue:
        if message.id and not message.string and isinstance(message.id, str):
            message.string = message.id if identity else pairs.get(message.id, "")
    with open(po_path, "wb") as handle:
        write_po(handle, catalogue, width=120, omit_header=False, sort_output=True)
    missing = [m.id for m in catalogue if m.id and not m.string]
    for message_id in missing:
        print(f"untranslated: {message_id!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
