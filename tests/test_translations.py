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
