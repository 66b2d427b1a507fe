"""HTTP routes of the dangerous goods reference data: the ADR 2025 list (Table A), by UN number and by name.

Public reference data, read by any authenticated organisation; China's JT/T 617.3 list has the same
columns as ADR Table A, so its entries apply directly.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import PathParameter, QueryParameter

from api.deps import Caller, DbSession, provide_principal
from api.problems import problem_responses
from core.types import LINE_PATTERN
from dangerous_goods import service
from dangerous_goods.schemas import DangerousGoodPage, DangerousGoodRead

__all__ = ("DangerousGoodController",)

UnNumberParam = Annotated[
    str,
    PathParameter(
        description="UN number: four digits, optionally after `UN` (e.g. `1203`, `UN1203`)",
        pattern=service.UN_NUMBER_PATTERN,
        max_length=7,
    ),
]
SearchQuery = Annotated[
    str,
    QueryParameter(
        description=(
            "Part of the English or German name, in any case (e.g. `chlorine`, `Benzin`); "
            "a UN number or its first digits also finds those UN numbers"
        ),
        min_length=2,
        max_length=100,
        pattern=LINE_PATTERN,
    ),
]
Cursor = Annotated[str | None, QueryParameter(description="`nextCursor` of the previous page", max_length=200)]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]


class DangerousGoodController(Controller):
    """The ADR 2025 dangerous goods list: every entry of a UN number, and search by name."""

    path = "/v1/dangerous-goods"
    tags = ["Dangerous goods"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @get(
        "/{unNumber:str}",
        operation_id="getDangerousGood",
        summary="Entries of a UN number",
        description=(
            "Every ADR 2025 Table A entry of the UN number, in table order: one per packing group or "
            "name variant (`entrySeq`). 404 if the UN number is not in the list."
        ),
        responses=problem_responses(400, 401, 404),
    )
    async def get_dangerous_good(
        self,
        db_session: DbSession,
        principal: Caller,
        unNumber: UnNumberParam,  # noqa: N803  (the path parameter's public name)
    ) -> list[DangerousGoodRead]:
        return await service.get_entries(db_session, un_number=service.normalise_un_number(unNumber))

    @get(
        "/",
        operation_id="searchDangerousGoods",
        summary="Search the list by name or UN number",
        description=(
            "Entries whose English or German name contains `q` (case does not matter), ordered by UN "
            "number and entry; `q` that is a UN number or its first digits (`1017`, `UN 10`) also "
            "finds those UN numbers."
        ),
        responses=problem_responses(400, 401, 422),
    )
    async def search_dangerous_goods(
        self,
        db_session: DbSession,
        principal: Caller,
        q: SearchQuery,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> DangerousGoodPage:
        return await service.search_entries(db_session, query=q, cursor=cursor, limit=limit)
