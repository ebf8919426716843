"""Round trip as a new user meets it: issue codes, print the PDF label sheet, decode every label on it, open
each decoded code on the resolver, and find the product and its complete chain."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
import zxingcpp
from fastapi.testclient import TestClient
from resolver_support import HTML, build_world, capture_chain, path_of, text_of
from sqlalchemy import Engine

from zhuisu.codes.labels import labels_pdf


def decode_pdf(pdf: bytes, kind: str) -> list[str]:
    """The text of every symbol of ``kind`` (a zxing-cpp format name) on every page, rendered at 300 dpi."""
    texts: list[str] = []
    doc = pdfium.PdfDocument(pdf)
    for page in doc:
        image = page.render(scale=300 / 72).to_pil().convert("L")
        texts += [b.text for b in zxingcpp.read_barcodes(image) if b.format.name == kind]
    doc.close()
    return texts


def test_every_printed_label_opens_its_products_page_with_its_chain(engine: Engine, client: TestClient) -> None:
    world = build_world(engine, codes=4)  # issue_codes: 4 GS1 Digital Links and 4 platform codes
    codes = world.pork_codes + world.egg_codes
    assert len({c.code for c in codes}) == 8
    for code in codes:
        capture_chain(engine, world, code.code)  # what a scanner at the farm reads off the label

    out = io.BytesIO()
    assert labels_pdf(codes, out, product_name="追溯标签") == len(codes)
    decoded = decode_pdf(out.getvalue(), "QRCode")
    assert sorted(decoded) == sorted(c.code for c in codes)  # every label, and nothing else

    names = {world.pork.product_id: world.pork.name, world.eggs.product_id: world.eggs.name}
    by_text = {c.code: c for c in codes}
    for text in decoded:
        issued = by_text[text]
        r = client.get(path_of(text), headers=HTML)
        assert r.status_code == 200, (text, r.status_code)
        page = text_of(r.text)
        assert names[issued.product_id] in page
        assert "追溯码有效" in page and world.farm.name in page and world.market.name in page
        assert "共 4 个环节" in page  # its own four steps, none of its siblings'
        steps = re.findall(r" (赋码/生产|检验|发货|收货) ", page)
        assert steps == ["赋码/生产", "检验", "发货", "收货"]


def test_datamatrix_labels_typed_into_the_home_page_reach_the_same_page(engine: Engine, client: TestClient) -> None:
    world = build_world(engine, codes=3)
    out = io.BytesIO()
    labels_pdf(world.pork_codes, out, symbology="datamatrix")
    decoded = decode_pdf(out.getvalue(), "DataMatrix")
    assert len(decoded) == len(world.pork_codes)
    for text in decoded:  # the GS1 element string, FNC1 as GS (0x1D)
        r = client.get("/", params={"code": text.replace("\x1d", "")}, headers=HTML)
        assert r.status_code == 200, (text, r.status_code)
        page = text_of(r.text)
        assert world.pork.name in page
        assert any(c.serial is not None and c.serial in page for c in world.pork_codes)
