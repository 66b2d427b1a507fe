"""The printable e-waybill: a PDF and an HTML page, Chinese by default, with a QR code to verify it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pypdfium2
import pytest
import sqlalchemy as sa
import zxingcpp
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.settings import load_settings
from tests.conftest import Org
from tests.factories import dangerous_waybill_body, waybill_body
from waybill.document import LOCALE_DIR, JourneyStatus, build_document, choose_language
from waybill.models import AccessLogEntry, Waybill
from waybill.schemas import WaybillRead


async def issue(client: Any, shipper: Org) -> str:
    body = waybill_body()
    body["legs"][0]["driver"] = {"name": "李建华", "phone": "+86 138 2888 1234"}
    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def pdf_text(content: bytes) -> str:
    """The text of every page (as PDFium extracts it), whitespace removed so that wrapped lines compare."""
    document = pypdfium2.PdfDocument(content)
    return "".join("".join(page.get_textpage().get_text_bounded().split()) for page in document)


async def test_the_pdf_is_chinese_by_default(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    response = await client.get(f"/v1/waybills/{number}/document.pdf", headers=shipper.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{number}.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "佛山顺德华美电器有限公司" in text  # the consignor, as stored
    for label in ("多式联运电子运单", "发货人", "收货人", "运输分段", "牵引车", "驾驶员", "李建华", "公路", "已签发"):
        assert label in text
    assert number.replace(" ", "") in text


async def test_the_pdf_is_english_with_lang_en(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    response = await client.get(f"/v1/waybills/{number}/document.pdf?lang=en", headers=shipper.headers)

    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    for label in ("MultimodalElectronicWaybill", "Consignor", "Transportlegs", "Tractor", "Inlandwaterway", "Issued"):
        assert label in text
    assert "发货人" not in text
    assert "佛山顺德华美电器有限公司" in text  # data values are shown as stored


async def test_the_qr_code_on_the_page_holds_the_verification_url(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    response = await client.get(f"/v1/waybills/{number}/document.pdf", headers=shipper.headers)

    page = pypdfium2.PdfDocument(response.content)[0]
    image = page.render(scale=150 / 72).to_pil()
    decoded = [
        barcode.text for barcode in zxingcpp.read_barcodes(image) if barcode.format == zxingcpp.BarcodeFormat.QRCode
    ]
    base = load_settings({}).public_base_url
    assert decoded == [f"{base}/v1/waybills/{number}/verify"]
    assert number in decoded[0]


async def test_times_are_printed_in_beijing_time(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    text = pdf_text((await client.get(f"/v1/waybills/{number}/document.pdf", headers=shipper.headers)).content)
    html = (await client.get(f"/v1/waybills/{number}/document", headers=shipper.headers)).text

    # The example's pickup window is 08:00–12:00 +08:00 on 3 December (00:00–04:00 UTC).
    assert "2026-12-0308:00–12:00" in text
    assert "2026-12-03 08:00–12:00" in html
    assert "Asia/Shanghai" in text
    assert "Asia/Shanghai" in html


async def test_the_html_view_is_chinese_by_default_and_english_on_request(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    chinese = await client.get(f"/v1/waybills/{number}/document", headers=shipper.headers)
    english = await client.get(f"/v1/waybills/{number}/document?lang=en", headers=shipper.headers)
    by_header = await client.get(
        f"/v1/waybills/{number}/document", headers={**shipper.headers, "Accept-Language": "en-GB,en;q=0.9"}
    )

    assert chinese.status_code == 200, chinese.text
    assert chinese.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-Hans-CN">' in chinese.text
    assert "多式联运电子运单" in chinese.text
    assert "发货人" in chinese.text
    assert "佛山顺德华美电器有限公司" in chinese.text
    assert "<svg" in chinese.text  # the QR code, inline
    assert '<html lang="en">' in english.text
    assert "Multimodal Electronic Waybill" in english.text
    assert "Consignor" in english.text
    assert "发货人" not in english.text
    assert "Consignor" in by_header.text
    assert by_header.headers["content-language"] == "en"


async def test_a_stranger_gets_404(client: Any, shipper: Org, make_org: Any) -> None:
    number = await issue(client, shipper)
    stranger = await make_org("shipper")

    for path in ("document.pdf", "document"):
        response = await client.get(f"/v1/waybills/{number}/{path}", headers=stranger.headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_an_unknown_language_or_parameter_is_refused(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)

    assert (await client.get(f"/v1/waybills/{number}/document?lang=fr", headers=shipper.headers)).status_code == 400
    assert (await client.get(f"/v1/waybills/{number}/document?lng=en", headers=shipper.headers)).status_code == 400


async def test_a_regulators_print_is_logged(client: Any, shipper: Org, make_org: Any, db: AsyncSession) -> None:
    number = await issue(client, shipper)
    regulator = await make_org("regulator")

    response = await client.get(
        f"/v1/waybills/{number}/document.pdf?access_reason=roadside+inspection", headers=regulator.headers
    )

    assert response.status_code == 200
    entries = (
        await db.execute(
            sa.select(AccessLogEntry.action, AccessLogEntry.reason)
            .join(Waybill, col(Waybill.id) == col(AccessLogEntry.waybill_id))
            .where(col(Waybill.number) == number)
        )
    ).all()
    assert [tuple(entry) for entry in entries] == [("document", "roadside inspection")]


@pytest.mark.parametrize(
    ("lang", "accept_language", "expected"),
    [
        (None, None, "zh"),
        ("en", "zh-CN", "en"),
        ("zh", "en", "zh"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR,en;q=0.5,zh;q=0.8", "zh"),
        (None, "fr-FR", "zh"),
        (None, "en;q=0", "zh"),
    ],
)
def test_the_language_is_chosen_from_lang_then_accept_language(
    lang: str | None, accept_language: str | None, expected: str
) -> None:
    assert choose_language(lang, accept_language) == expected


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_message_is_translated_and_compiled(locale: str) -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as file:
        template = {message.id for message in read_po(file) if message.id}
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalogue = {message.id: message.string for message in read_po(file) if message.id}
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo").open("rb") as file:
        compiled = {message.id: message.string for message in read_mo(file) if message.id}

    assert set(catalogue) == template, "run `make translations`"
    assert all(catalogue.values()), [key for key, value in catalogue.items() if not value]
    assert compiled == catalogue, "the .mo files are stale: run `make translations`"


async def test_the_latest_transport_event_is_shown_in_beijing_time(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    read = msgspec.convert((await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json(), WaybillRead)
    journey = JourneyStatus(
        event_type="departed",
        classifier="actual",
        event_time=datetime(2026, 12, 3, 12, 5, tzinfo=UTC),
        place_name="佛山北滘港集装箱码头",
        leg_sequence=2,
    )

    view = build_document(
        read, language="zh", base_url="https://e.example.cn", journey=journey, printed_at=read.created_at
    )

    assert view.journey == "已出发 (实际) · 2026-12-03 20:05 · 佛山北滘港集装箱码头 · 第 2 段"


async def test_a_dangerous_goods_waybill_prints_its_emergency_contact(client: Any, shipper: Org) -> None:
    created = await client.post("/v1/waybills", json=dangerous_waybill_body(), headers=shipper.headers)
    number = created.json()["number"]

    page = await client.get(f"/v1/waybills/{number}/document?lang=en", headers=shipper.headers)
    pdf = await client.get(f"/v1/waybills/{number}/document.pdf?lang=en", headers=shipper.headers)

    assert "Emergency contact" in page.text
    assert "林国强, +86 750 6638 1190" in page.text
    assert "林国强,+867506638" in pdf_text(pdf.content)
