"""The message catalogues hold every message the sources mark (tests/api/test_documents.py checks
that each is translated and compiled)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def test_the_template_holds_every_message_of_the_sources(tmp_path: Path) -> None:
    from babel.messages.frontend import CommandLineInterface

    extracted = tmp_path / "messages.pot"
    root = LOCALE.parent
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(LOCALE / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "_",
            "--no-location",
            "-o",
            str(extracted),
            str(root),
        ]
    )
    with extracted.open("rb") as fresh, (LOCALE / "messages.pot").open("rb") as kept:
        assert {m.id for m in read_po(fresh) if m.id} == {m.id for m in read_po(kept) if m.id}


def test_every_character_the_pages_use_is_in_the_shipped_font() -> None:
    """No tofu: the templates and the translations use only characters the vendored CJK font draws.

    ✓ is the one exception: every browser draws it from its own symbol fonts, and the PDFs don't use it.
    """
    from fontTools.ttLib import TTFont

    root = LOCALE.parent
    drawn = set(TTFont(root / "web" / "fonts" / "NotoSansCJKsc-Regular-GBK.otf").getBestCmap())
    used: dict[str, str] = {}
    for template in sorted((root / "web" / "templates").rglob("*.html")):
        used.update(dict.fromkeys(template.read_text(encoding="utf-8"), template.name))
    for catalogue in sorted(LOCALE.glob("*/LC_MESSAGES/messages.po")):
        with catalogue.open("rb") as handle:
            for message in read_po(handle):
                text = "".join(message.string) if isinstance(message.string, tuple | list) else message.string
                used.update(dict.fromkeys(text or "", str(catalogue.parent.parent.name)))
    missing = {char: where for char, where in used.items() if ord(char) > 127 and ord(char) not in drawn}
    assert missing.keys() <= {"✓"}, missing
