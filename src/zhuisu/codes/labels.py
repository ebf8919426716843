"""Labels for issued trace codes: QR codes (PNG, SVG), GS1 DataMatrix, and A4 PDF sheets of many labels.

What each symbol carries is ``IssuedCode.code`` — the URL on the platform's resolver (a GS1 Digital Link, or
``…/t/<platform code>``) — so any phone camera opens the trace page. The DataMatrix variant of a GS1 code is a
real GS1 DataMatrix (FNC1 first, symbology identifier ``]d2``) of the element string ``(01)…(21)…`` / ``(01)…(10)…``
as pharmacy and hospital scanners expect (zxing-cpp ``create_barcode(…, gs1=True)``); a platform code has no
element string, so its DataMatrix is a plain one of the URL.

QR codes are made with segno (error correction level M, 4-module quiet zone); DataMatrix with zxing-cpp (square
symbols). On the PDF sheet both are drawn as vector rectangles, so they print sharp at any resolution.

Chinese text on the sheet: reportlab embeds TrueType outlines only, and the Noto CJK fonts Debian ships
(``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc``) have PostScript (CFF) outlines, which reportlab
refuses ("postscript outlines are not supported"). So ``cjk_font`` embeds the first TrueType CJK font it finds
(WenQuanYi Zen Hei / Micro Hei, Droid Sans Fallback, or Noto CJK should a TrueType build be installed); failing
that it uses reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1), which is not embedded: the PDF
viewer or printer substitutes its own Chinese font (pdfium, poppler and Acrobat all do). Install
``fonts-wqy-zenhei`` to get an embedded font.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import segno
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from zhuisu.codes.issue import IssuedCode

__all__ = [
    "CJK_FONT_CANDIDATES",
    "SheetLayout",
    "cjk_font",
    "datamatrix_matrix",
    "datamatrix_png",
    "datamatrix_svg",
    "labels_pdf",
    "qr_matrix",
    "qr_png",
    "qr_svg",
]

QR_ERROR = "m"
QR_BORDER = 4

# TrueType CJK fonts reportlab can embed, most preferred first: (path, subfont index in a .ttc).
CJK_FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2 = SC, if ever TrueType-flavoured
)
CID_FALLBACK = "STSong-Light"


@cache
def cjk_font() -> str:
    """Register and name the font for Chinese text (see the module docstring for the choice)."""
    for path, index in CJK_FONT_CANDIDATES:
        if not Path(path).exists():
            continue
        try:
            pdfmetrics.registerFont(TTFont("ZhuisuCJK", path, subfontIndex=index))
        except TTFError:  # e.g. CFF outlines
            continue
        return "ZhuisuCJK"
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK


def _content(code: IssuedCode | str) -> str:
    return code.code if isinstance(code, IssuedCode) else code


# --- QR code ----------------------------------------------------------------------------------------------


def _qr(content: str) -> segno.QRCode:
    return segno.make_qr(content, error=QR_ERROR, boost_error=False)


def qr_png(code: IssuedCode | str, *, scale: int = 8, border: int = QR_BORDER) -> bytes:
    """PNG of the code's QR symbol, ``scale`` pixels per module."""
    out = io.BytesIO()
    _qr(_content(code)).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(code: IssuedCode | str, *, scale: int = 4, border: int = QR_BORDER) -> str:
    """SVG document of the code's QR symbol."""
    out = io.BytesIO()
    _qr(_content(code)).save(out, kind="svg", scale=scale, border=border, xmldecl=True, svgns=True, unit="mm")
    return out.getvalue().decode()


def qr_matrix(code: IssuedCode | str) -> list[list[bool]]:
    """Modules of the QR symbol, True = dark, without quiet zone."""
    return [[bool(v) for v in row] for row in _qr(_content(code)).matrix]


# --- DataMatrix -------------------------------------------------------------------------------------------


def _datamatrix(code: IssuedCode | str) -> zxingcpp.Barcode:
    if isinstance(code, IssuedCode) and code.element_string is not None:
        return zxingcpp.create_barcode(
            code.element_string, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, forceSquare=True
        )
    return zxingcpp.create_barcode(_content(code), zxingcpp.BarcodeFormat.DataMatrix, forceSquare=True)


def _image(barcode: zxingcpp.Barcode, scale: int, quiet_zone: bool = True) -> Image.Image:
    img = zxingcpp.write_barcode_to_image(barcode, scale=scale, add_quiet_zones=quiet_zone)
    height, width = img.shape
    return Image.frombytes("L", (width, height), memoryview(img).tobytes())  # type: ignore[arg-type]


def datamatrix_png(code: IssuedCode | str, *, scale: int = 8) -> bytes:
    """PNG of the code's DataMatrix: GS1 DataMatrix of the element string for GS1 codes, plain otherwise."""
    out = io.BytesIO()
    _image(_datamatrix(code), scale).save(out, format="PNG")
    return out.getvalue()


def datamatrix_svg(code: IssuedCode | str, *, scale: int = 4) -> str:
    return str(zxingcpp.write_barcode_to_svg(_datamatrix(code), scale=scale))


def datamatrix_matrix(code: IssuedCode | str) -> list[list[bool]]:
    """Modules of the DataMatrix symbol, True = dark, without quiet zone."""
    img = _image(_datamatrix(code), 1, quiet_zone=False)
    width, height = img.size
    data = img.tobytes()
    return [[data[y * width + x] < 128 for x in range(width)] for y in range(height)]


# --- A4 sheets --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """A grid of labels on an A4 page (points; 1 mm = 2.835 pt)."""

    columns: int = 3
    rows: int = 7
    margin: float = 10 * mm
    symbol: float = 25 * mm  # side of the QR / DataMatrix (without quiet zone)
    outline: bool = True  # thin grey cutting guides

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


def _draw_modules(c: Canvas, matrix: Sequence[Sequence[bool]], x: float, y_top: float, side: float) -> None:
    """Draw dark modules as filled rectangles, merging runs along each row (far smaller PDFs)."""
    n_rows = len(matrix)
    n_cols = len(matrix[0]) if n_rows else 0
    module = side / max(n_rows, n_cols)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        y = y_top - (r + 1) * module
        start = -1
        for col in range(n_cols + 1):
            dark = col < n_cols and row[col]
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                path.rect(x + start * module, y, (col - start) * module, module)
                start = -1
    c.drawPath(path, stroke=0, fill=1)


def _fit(c: Canvas, text: str, font: str, size: float, width: float, min_size: float = 4.5) -> float:
    while size > min_size and c.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def labels_pdf(
    codes: Iterable[IssuedCode],
    out: BinaryIO,
    *,
    product_name: str = "",
    title: str = "",
    symbology: str = "qr",
    layout: SheetLayout | None = None,
) -> int:
    """Write an A4 PDF of labels to ``out``: per label the symbol, the human-readable code and the product name
    (Chinese rendered with ``cjk_font``). ``symbology`` is ``qr`` or ``datamatrix``. Returns the number of labels.

    reportlab keeps the pages in memory until the end: callers print large batches in slices (offset, limit)."""
    if symbology not in ("qr", "datamatrix"):
        raise ValueError(f"symbology must be qr or datamatrix, got {symbology!r}")
    lay = layout or SheetLayout()
    font = cjk_font()
    page_w, page_h = A4
    cell_w = (page_w - 2 * lay.margin) / lay.columns
    cell_h = (page_h - 2 * lay.margin) / lay.rows
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(title or "追溯码标签 trace code labels")
    c.setCreator("zhuisu")
    matrix_of = qr_matrix if symbology == "qr" else datamatrix_matrix
    count = 0
    page = 0
    for i, code in enumerate(codes):
        slot = i % lay.per_page
        if slot == 0:
            if i:
                c.showPage()
            page += 1
            footer = f"{title}  第 {page} 页 page {page}".strip()
            c.setFont(font, 7)
            c.setFillGray(0.4)
            c.drawCentredString(page_w / 2, lay.margin / 2, footer)
        col, row = slot % lay.columns, slot // lay.columns
        x0 = lay.margin + col * cell_w
        y_top = page_h - lay.margin - row * cell_h
        if lay.outline:
            c.setStrokeGray(0.85)
            c.setLineWidth(0.3)
            c.rect(x0, y_top - cell_h, cell_w, cell_h, stroke=1, fill=0)
        c.setFillGray(0)
        matrix = matrix_of(code)
        side = lay.symbol
        _draw_modules(c, matrix, x0 + (cell_w - side) / 2, y_top - 3 * mm, side)
        text_w = cell_w - 3 * mm
        hri = code.human_readable
        size = _fit(c, hri, "Helvetica", 7.0, text_w)
        c.setFont("Helvetica", size)
        c.drawCentredString(x0 + cell_w / 2, y_top - 3 * mm - side - 4 * mm, hri)
        if product_name:
            size = _fit(c, product_name, font, 7.5, text_w)
            c.setFont(font, size)
            c.drawCentredString(x0 + cell_w / 2, y_top - 3 * mm - side - 8 * mm, product_name)
        count += 1
    if count == 0:
        c.setFont(font, 10)
        c.drawString(lay.margin, page_h - lay.margin - 10, "没有追溯码 (no codes)")
    c.save()
    return count
