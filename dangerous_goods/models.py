"""The table of the ADR 2025 dangerous goods list (Table A), loaded from the shipped CSV by migration 0006.

One row per Table A entry (:class:`dangerous_goods.reference.DangerousGood`), keyed by UN number and
the entry's position among those of its UN number. The data changes only with a new ADR edition,
which comes as a new migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import JSONDocument

__all__ = ("DangerousGoodEntry", "search_text")


def search_text(name_en: str | None, name_de: str | None) -> str:
    """The names as searched: case-folded (``ß`` → ``ss``, ``Ü`` → ``ü``), one per line.

    Case-folding in Python gives the same result on both backends; SQLite's ``lower()`` knows only ASCII.
    """
    return "\n".join(name for name in (name_en, name_de) if name).casefold()


class DangerousGoodEntry(SQLModel, table=True):
    """One ADR 2025 Table A entry; empty columns are ``NULL``, lists are JSON arrays of codes.

    The primary key leads with ``un_number``, so it serves look-ups by UN number. Name search is a
    substring match on ``search_text``: no B-tree index helps ``LIKE '%...%'``, and scanning 2,939
    short rows takes well under a millisecond.
    """

    __tablename__ = "dangerous_good"

    un_number: str = Field(sa_column=sa.Column(sa.String(4), primary_key=True))
    """Four digits, e.g. ``"1203"``."""
    entry_seq: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    """1-based position among the entries of the UN number, in Table A order."""
    name_en: str | None = Field(default=None, sa_type=sa.String(500))
    name_de: str | None = Field(default=None, sa_type=sa.String(500))
    search_text: str = Field(sa_type=sa.String(1000))
    """Both names, case-folded (:func:`search_text`)."""
    hazard_class: str = Field(sa_type=sa.String(4))
    classification_code: str | None = Field(default=None, sa_type=sa.String(16))
    packing_group: str | None = Field(default=None, sa_type=sa.String(3))
    labels: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    special_provisions: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    limited_quantity: str | None = Field(default=None, sa_type=sa.String(32))
    excepted_quantity: str | None = Field(default=None, sa_type=sa.String(16))
    tank_code: str | None = Field(default=None, sa_type=sa.String(32))
    tank_vehicle: str | None = Field(default=None, sa_type=sa.String(8))
    transport_category: int | None = None
    tunnel_restriction_code: str | None = Field(default=None, sa_type=sa.String(8))
    multiplier_1136: int | None = None
    hazard_identification_number: str | None = Field(default=None, sa_type=sa.String(8))
    sp_carriage_packages: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    sp_carriage_loading_handling: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    sp_carriage_operation: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    status: str = Field(sa_type=sa.String(32))
