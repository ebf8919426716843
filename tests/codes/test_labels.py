"""Labels: every symbol we draw is read back with a real decoder (zxing-cpp) and compared with what was issued."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageChops
from sqlalchemy import Engine

from zhuisu.access.principal import SYSTEM
from zhuisu.codes import labels
from zhuisu.codes.gs1 import gs1_check_digit
from zhuisu.codes.issue import IssuedCode, generate_codes
from zhuisu.codes.parse import parse_code
from zhuisu.store import codes as store

BASE = "http://127.0.0.1:8000"
PARTY = "N3713020000001X"
GTIN = "0692222200001" + str(gs1_check_digit("0692222200001"))


@dataclass(frozen=True)
class Prod:
    product_id: str
    party_code: str
    gtin: str | None
    name: str


PORK = Prod(f"urn:zhuisu:class:{PARTY}.1", PARTY, None, "临沂黑猪肉 五花肉 500克")
DRUG = Prod(GTIN, PARTY, GTIN, "阿莫西林胶囊 0.25g×24粒")


def _read(png: bytes) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


def _read_pdf(data: bytes, dpi: int = 200) -> tuple[list[zxingcpp.Barcode], list[str], list[Image.Image]]:
    pdf = pdfium.PdfDocument(data)
    found: list[zxingcpp.Barcode] = []
    texts: list[str] = []
    pages: list[Image.Image] = []
    for i in range(len(pdf)):
        page = pdf[i]
        img = page.render(scale=dpi / 72, grayscale=True).to_pil()
        pages.append(img)
        found += zxingcpp.read_barcodes(img)
        texts.append(page.get_textpage().get_text_range())
    return found, texts, pages


@pytest.mark.parametrize("product", [PORK, DRUG], ids=["platform", "gs1"])
def test_qr_png_decodes_to_the_issued_code(product: Prod) -> None:
    code = generate_codes(product, "serial", 1, resolver_base=BASE)[0]
    (read,) = _read(labels.qr_png(code))
    assert read.format == zxingcpp.BarcodeFormat.QRCode
    assert read.text == code.code


def test_datamatrix_of_a_gs1_code_is_gs1_datamatrix_of_the_element_string() -> None:
    code = generate_codes(DRUG, "serial", 1, resolver_base=BASE, lot="B7")[0]
    (read,) = _read(labels.datamatrix_png(code))
    assert read.format == zxingcpp.BarcodeFormat.DataMatrix
    assert read.symbology_identifier == "]d2"  # FNC1 in first position: GS1 DataMatrix
    assert read.content_type == zxingcpp.ContentType.GS1
    assert read.text == f"(01){GTIN}(21){code.serial}" == code.human_readable
    assert read.bytes.decode() == f"01{GTIN}21{code.serial}"


def test_datamatrix_of_a_platform_code_is_plain_and_carries_the_url() -> None:
    code = generate_codes(PORK, "lot", 1, resolver_base=BASE)[0]
    (read,) = _read(labels.datamatrix_png(code))
    assert read.symbology_identifier == "]d1" and read.text == code.code


def test_svg_symbols_decode_after_rendering_in_a_browser() -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    gs1 = generate_codes(DRUG, "serial", 1, resolver_base=BASE)[0]
    plain = generate_codes(PORK, "serial", 1, resolver_base=BASE)[0]
    svgs = [
        (labels.qr_svg(plain), plain.code),
        (labels.qr_svg(gs1), gs1.code),
        (labels.datamatrix_svg(gs1), gs1.human_readable),
    ]
    for svg, _ in svgs:
        assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    try:
        pw = playwright.sync_playwright().start()
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
    except Exception as exc:  # no browser on this machine: the PNG tests above still decode every symbol
        pytest.skip(f"chromium not available to render SVG: {exc}")
    try:
        page = browser.new_page()
        for svg, expected in svgs:
            body = svg.split("?>", 1)[-1]
            page.set_content(
                f"<html><body style='margin:20px;background:#fff'><div style='width:300px'>{body}</div></body></html>"
            )
            page.eval_on_selector("svg", "e => { e.setAttribute('width', '300'); e.setAttribute('height', '300'); }")
            shot = page.screenshot()
            texts = [b.text for b in _read(shot)]
            assert texts == [expected]
    finally:
        browser.close()
        pw.stop()


@pytest.mark.parametrize(("product", "symbology"), [(PORK, "qr"), (DRUG, "qr"), (DRUG, "datamatrix")])
def test_pdf_sheet_round_trip(product: Prod, symbology: str) -> None:
    codes = generate_codes(product, "serial", 30, resolver_base=BASE)
    out = io.BytesIO()
    n = labels.labels_pdf(iter(codes), out, product_name=product.name, title="批次 7", symbology=symbology)
    assert n == 30
    found, texts, _ = _read_pdf(out.getvalue())
    assert len(texts) == 2  # 21 labels per A4 page
    expected = sorted(c.code if symbology == "qr" or c.element_string is None else c.human_readable for c in codes)
    assert sorted(b.text for b in found) == expected
    text = "".join(texts)
    for c in codes:
        assert c.human_readable in text
    assert text.count(product.name) == 30  # the Chinese name under every label, as text a reader can copy


def test_chinese_product_name_is_drawn_under_each_label() -> None:
    codes = generate_codes(PORK, "serial", 3, resolver_base=BASE)
    with_name, without = io.BytesIO(), io.BytesIO()
    labels.labels_pdf(codes, with_name, product_name=PORK.name)
    labels.labels_pdf(codes, without, product_name="")
    _, _, (a,) = _read_pdf(with_name.getvalue(), dpi=100)[0:3]
    _, _, (b,) = _read_pdf(without.getvalue(), dpi=100)[0:3]
    # The only difference between the pages is the name line: it must put ink on the page (glyphs, not nothing).
    diff = ImageChops.difference(a, b).point(lambda v: 255 if v else 0)
    assert diff.histogram()[255] > 300
    assert labels.cjk_font() in ("ZhuisuCJK", labels.CID_FALLBACK)


def test_empty_sheet_says_so() -> None:
    out = io.BytesIO()
    assert labels.labels_pdf([], out) == 0
    _, texts, _ = _read_pdf(out.getvalue(), dpi=72)
    assert "没有追溯码" in texts[0]


def test_bad_symbology_is_refused() -> None:
    with pytest.raises(ValueError, match="symbology"):
        labels.labels_pdf([], io.BytesIO(), symbology="aztec")


def test_issue_print_decode_look_up_round_trip(engine: Engine) -> None:
    """The acceptance round trip: issue codes in the store, print a PDF sheet, decode every label, find each."""
    batch = store.issue_codes(engine, SYSTEM, PORK, "serial", 45, resolver_base=BASE)
    issued = list(store.iter_batch_codes(engine, batch.batch_id))
    out = io.BytesIO()
    labels.labels_pdf(store.iter_batch_codes(engine, batch.batch_id), out, product_name=PORK.name)
    found, texts, _ = _read_pdf(out.getvalue())
    assert len(texts) == 3
    decoded = sorted(b.text for b in found)
    assert decoded == sorted(c.code for c in issued)
    with engine.connect() as conn:
        looked_up: list[IssuedCode | None] = [store.lookup_code(conn, t) for t in decoded]
    assert sorted(c.code for c in looked_up if c is not None) == decoded
    assert all(c is not None and c.batch_id == batch.batch_id for c in looked_up)


def test_cli_issues_and_prints_a_sheet(engine: Engine, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from zhuisu.cli import app
    from zhuisu.store.db import writing
    from zhuisu.store.registry import create_party, create_product

    with writing(engine) as conn:
        party = create_party(
            conn,
            SYSTEM,
            {
                "kind": "enterprise",
                "name": "临沂金锣肉制品有限公司",
                "uscc": "9144030071526726XG",
                "types": ["slaughterhouse"],
                "sectors": ["meat"],
                "region": "371302",
                "address": "山东省临沂市",
                "status": "approved",
            },
        )
        product = create_product(conn, SYSTEM, {"party_code": party.party_code, "name": "冷鲜猪肉", "sector": "meat"})
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    r = runner.invoke(
        app, ["codes", "issue", "--product", product.product_id, "--kind", "serial", "--count", "7", "--db", url]
    )
    assert r.exit_code == 0, r.output
    printed = r.stdout.split()
    assert len(printed) == 7 and all(parse_code(c).scheme == "zhuisu" and parse_code(c).ok for c in printed)
    pdf_path = tmp_path / "labels.pdf"
    r = runner.invoke(app, ["codes", "labels", "1", "--pdf", str(pdf_path), "--db", url])
    assert r.exit_code == 0, r.output
    found, texts, _ = _read_pdf(pdf_path.read_bytes())
    assert sorted(b.text for b in found) == sorted(printed) and "冷鲜猪肉" in texts[0]
    r = runner.invoke(app, ["codes", "labels", "1", "--png", str(tmp_path / "png"), "--db", url])
    assert r.exit_code == 0
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert [_read(p.read_bytes())[0].text for p in pngs] == printed
    r = runner.invoke(app, ["codes", "issue", "--product", "nope", "--kind", "serial", "--db", url])
    assert r.exit_code == 1 and r.stderr.strip() == "error: no registered product 'nope'"
    r = runner.invoke(
        app, ["codes", "issue", "--product", product.product_id, "--kind", "serial", "--count", "0", "--db", url]
    )
    assert r.exit_code == 1 and "count must be at least 1" in r.stderr
