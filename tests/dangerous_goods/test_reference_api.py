"""The ADR 2025 list in the database and its API: look-up by UN number, search by name, pagination."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dangerous_goods.models import DangerousGoodEntry, search_text
from dangerous_goods.reference import DangerousGood, EntryNotFoundError, all_entries, select_entry
from tests.conftest import Org

BASE = "/v1/dangerous-goods"


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    """A carrier of dangerous goods in the Pearl River Delta."""
    return await make_org("carrier", name="东莞港危险品运输有限公司")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# --- the table, as migration 0006 loaded it -----------------------------------------------------------


async def test_the_table_holds_every_entry_of_the_shipped_list(db: AsyncSession) -> None:
    count = await db.scalar(sa.select(sa.func.count()).select_from(DangerousGoodEntry))
    assert count == len(all_entries()) == 2939


async def test_every_row_equals_its_entry_of_the_shipped_list(db: AsyncSession) -> None:
    rows = (await db.scalars(sa.select(DangerousGoodEntry))).all()
    stored = {}
    for row in rows:
        values = row.model_dump(exclude={"search_text"})
        assert row.search_text == search_text(row.name_en, row.name_de)
        stored[(row.un_number, row.entry_seq)] = DangerousGood(
            **{name: tuple(value) if isinstance(value, list) else value for name, value in values.items()}
        )
    assert stored == {(entry.un_number, entry.entry_seq): entry for entry in all_entries()}


# --- look-up by UN number ------------------------------------------------------------------------------


async def test_motor_spirit_is_class_3_pg_ii_tunnel_d_e_kemler_33(client: Any, carrier: Org) -> None:
    response = await client.get(f"{BASE}/1203", headers=carrier.headers)
    assert response.status_code == 200, response.text
    (entry,) = response.json()
    assert entry == {
        "unNumber": "1203",
        "entrySeq": 1,
        "name": "MOTOR SPIRIT or GASOLINE or PETROL",
        "nameDe": "BENZIN",
        "class": "3",
        "classificationCode": "F1",
        "packingGroup": "II",
        "labels": ["3"],
        "specialProvisions": ["243", "534", "664"],
        "transportCategory": 2,
        "tunnelRestrictionCode": "D/E",
        "hazardIdentificationNumber": "33",
        "limitedQuantity": "1 L",
        "exceptedQuantity": "E2",
        "tankCode": "LGBF",
        "multiplier1136": 3,
        "status": "regulated",
    }


async def test_a_un_prefix_is_accepted(client: Any, carrier: Org) -> None:
    for written in ("UN1203", "un1203", "UN%201203"):
        response = await client.get(f"{BASE}/{written}", headers=carrier.headers)
        assert response.status_code == 200, written
        assert [e["unNumber"] for e in response.json()] == ["1203"]


async def test_toxic_solid_nos_has_an_entry_per_packing_group(client: Any, carrier: Org) -> None:
    response = await client.get(f"{BASE}/2811", headers=carrier.headers)
    assert response.status_code == 200, response.text
    entries = response.json()
    assert [(e["entrySeq"], e["packingGroup"]) for e in entries] == [(1, "I"), (2, "II"), (3, "III")]
    pg_i = entries[0]
    assert pg_i["name"] == "TOXIC SOLID, ORGANIC, N.O.S."
    assert pg_i["class"] == "6.1"
    assert pg_i["transportCategory"] == 1
    assert pg_i["tunnelRestrictionCode"] == "C/E"
    assert pg_i["hazardIdentificationNumber"] == "66"
    assert pg_i["multiplier1136"] == 50
    assert [(e["tunnelRestrictionCode"], e["hazardIdentificationNumber"]) for e in entries[1:]] == [
        ("D/E", "60"),
        ("E", "60"),
    ]


@pytest.mark.parametrize(("un_number", "name"), [("1005", "AMMONIA, ANHYDROUS"), ("1017", "CHLORINE")])
async def test_the_footnote_gases_count_twenty_times(client: Any, carrier: Org, un_number: str, name: str) -> None:
    response = await client.get(f"{BASE}/{un_number}", headers=carrier.headers)
    assert response.status_code == 200, response.text
    (entry,) = response.json()
    assert entry["name"] == name
    assert entry["class"] == "2"
    assert entry["transportCategory"] == 1
    assert entry["multiplier1136"] == 20


async def test_an_unknown_un_number_is_not_found(client: Any, carrier: Org) -> None:
    body = _problem(await client.get(f"{BASE}/9999", headers=carrier.headers), 404)
    assert "9999" in body["detail"]


@pytest.mark.parametrize("malformed", ["123", "12034", "UN12a3", "petrol", "UN-1203"])
async def test_a_malformed_un_number_is_refused(client: Any, carrier: Org, malformed: str) -> None:
    body = _problem(await client.get(f"{BASE}/{malformed}", headers=carrier.headers), 400)
    assert body["errors"][0]["field"] == "unNumber"


async def test_reading_needs_an_api_key(client: Any) -> None:
    _problem(await client.get(f"{BASE}/1203"), 401)
    _problem(await client.get(BASE, params={"q": "chlorine"}), 401)


@pytest.mark.parametrize("role", ["shipper", "carrier", "port", "customs", "regulator"])
async def test_every_role_may_read(client: Any, make_org: Any, role: str) -> None:
    org = await make_org(role)
    response = await client.get(f"{BASE}/1203", headers=org.headers)
    assert response.status_code == 200


# --- search --------------------------------------------------------------------------------------------


async def _search(client: Any, org: Org, **params: Any) -> dict[str, Any]:
    response = await client.get(BASE, params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_search_for_chlorine_finds_un_1017(client: Any, carrier: Org) -> None:
    page = await _search(client, carrier, q="chlorine", limit=200)
    found = {e["unNumber"]: e["name"] for e in page["items"]}
    assert found["1017"] == "CHLORINE"
    assert all("chlorine" in e["name"].casefold() or "chlor" in (e["nameDe"] or "").casefold() for e in page["items"])


async def test_search_ignores_case_and_reads_german_names(client: Any, carrier: Org) -> None:
    upper = await _search(client, carrier, q="CHLORINE", limit=200)
    lower = await _search(client, carrier, q="chlorine", limit=200)
    assert upper == lower
    german = await _search(client, carrier, q="benzin", limit=200)
    assert "1203" in {e["unNumber"] for e in german["items"]}
    umlaut = await _search(client, carrier, q="PATRONEN FÜR WAFFEN", limit=200)
    assert "0005" in {e["unNumber"] for e in umlaut["items"]}


async def test_search_finds_a_un_number(client: Any, carrier: Org) -> None:
    page = await _search(client, carrier, q="UN1017")
    assert [e["unNumber"] for e in page["items"]] == ["1017"]
    prefix = await _search(client, carrier, q="101", limit=200)
    assert {e["unNumber"] for e in prefix["items"]} >= {"1010", "1011", "1017"}
    assert all(e["unNumber"].startswith("101") for e in prefix["items"])


async def test_wildcards_in_the_query_are_plain_characters(client: Any, carrier: Org) -> None:
    page = await _search(client, carrier, q="%_")
    assert page == {"items": [], "nextCursor": None}


async def test_pages_follow_each_other_without_gap_or_repeat(client: Any, carrier: Org) -> None:
    whole = await _search(client, carrier, q="arsenic", limit=200)
    assert whole["nextCursor"] is None
    expected = [(e["unNumber"], e["entrySeq"]) for e in whole["items"]]
    assert len(expected) > 20
    assert expected == sorted(expected)
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "arsenic", "limit": 7}
        if cursor is not None:
            params["cursor"] = cursor
        page = await _search(client, carrier, **params)
        assert len(page["items"]) <= 7
        seen += [(e["unNumber"], e["entrySeq"]) for e in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == expected


async def test_search_refuses_a_short_query_and_a_foreign_cursor(client: Any, carrier: Org) -> None:
    short = _problem(await client.get(BASE, params={"q": "c"}, headers=carrier.headers), 400)
    assert short["errors"][0]["field"] == "q"
    _problem(await client.get(BASE, headers=carrier.headers), 400)
    _problem(await client.get(BASE, params={"q": "chlorine", "cursor": "bm90IG91cnM"}, headers=carrier.headers), 422)
    _problem(await client.get(BASE, params={"q": "chlorine", "limit": 0}, headers=carrier.headers), 400)


# --- choosing one entry (pure, no database) ------------------------------------------------------------


def test_select_entry_by_packing_group() -> None:
    entry = select_entry("2811", "II")
    assert (entry.un_number, entry.entry_seq, entry.packing_group) == ("2811", 2, "II")
    assert entry.tunnel_restriction_code == "D/E"
    assert select_entry("UN 2811", "I").hazard_identification_number == "66"


def test_select_entry_of_a_single_entry_needs_no_packing_group() -> None:
    assert select_entry("1203").name_en == "MOTOR SPIRIT or GASOLINE or PETROL"


def test_select_entry_without_packing_group_names_the_ambiguity() -> None:
    with pytest.raises(EntryNotFoundError, match="several packing groups: give the packing group"):
        select_entry("2811")


def test_select_entry_with_an_absent_packing_group_lists_the_ones_there_are() -> None:
    with pytest.raises(EntryNotFoundError, match=r"UN 1203 has no packing group I \(it has: II\)"):
        select_entry("1203", "I")


def test_select_entry_picks_a_name_variant() -> None:
    entry = select_entry("1040", name="with nitrogen")
    assert (entry.entry_seq, entry.name_en) == (
        2,
        "ETHYLENE OXIDE WITH NITROGEN up to a total pressure of 1 MPa (10 bar) at 50 °C",
    )


def test_select_entry_without_a_name_lists_the_variants() -> None:
    with pytest.raises(
        EntryNotFoundError, match=r"UN 1040 has several entries; name the variant \(1: ETHYLENE OXIDE; 2: "
    ):
        select_entry("1040")


def test_select_entry_of_an_unknown_un_number() -> None:
    with pytest.raises(EntryNotFoundError, match="UN 9999 is not in the ADR 2025"):
        select_entry("9999")
