"""Recall impact exports: CSV (one row per party) and Excel (parties, objects, holders, locations sheets)."""

from __future__ import annotations

import csv
import io

from zhuisu.trace.model import RecallImpact

PARTY_HEADER = (
    "party 主体",
    "name 名称",
    "region 行政区划",
    "produced 生产",
    "shipped 发出",
    "received 收到",
    "sold/used 销售/使用",
    "in custody 在库",
    "locations 地点",
)
OBJECT_HEADER = (
    "object 对象",
    "relation 关系",
    "holder 持有者",
    "location 地点",
    "last step 最近环节",
    "time 时间",
    "in custody 在库",
)


def _amounts(d: dict[str, float]) -> str:
    return "; ".join(f"{_num(v)} {uom}" for uom, v in sorted(d.items()))


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def party_rows(impact: RecallImpact) -> list[list[str]]:
    return [
        [
            p.party,
            p.name or "",
            p.region or "",
            _amounts(p.produced),
            _amounts(p.shipped),
            _amounts(p.received),
            _amounts(p.sold),
            _amounts(p.in_custody),
            " ".join(p.locations),
        ]
        for p in impact.parties
    ]


def object_rows(impact: RecallImpact) -> list[list[str]]:
    holders = {h.id: h for h in impact.holders}
    rows = []
    for o in impact.objects:
        h = holders.get(o.id)
        rows.append(
            [
                o.id,
                o.relation,
                " ".join(h.parties) if h else "",
                (h.location.id if h and h.location else ""),
                (h.biz_step or "") if h else "",
                h.time if h else "",
                ("yes" if h.in_custody else "no") if h else "",
            ]
        )
    return rows


def recall_csv(impact: RecallImpact) -> str:
    """One row per party (UTF-8 text; the caller adds a BOM for spreadsheet programs if it wants)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PARTY_HEADER)
    writer.writerows(party_rows(impact))
    return out.getvalue()


def recall_xlsx(impact: RecallImpact) -> bytes:
    """An Excel workbook: sheets 主体 parties, 对象 objects, 地点 locations, 概要 summary."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "主体 parties"
    ws.append(list(PARTY_HEADER))
    for row in party_rows(impact):
        ws.append(row)
    objects = wb.create_sheet("对象 objects")
    objects.append(list(OBJECT_HEADER))
    for row in object_rows(impact):
        objects.append(row)
    places = wb.create_sheet("地点 locations")
    places.append(["location 地点", "name 名称", "party 主体", "region 行政区划"])
    for p in impact.locations:
        places.append([p.id, p.name or "", p.party_code or "", p.region or ""])
    summary = wb.create_sheet("概要 summary")
    summary.append(["identifiers 召回对象", " ".join(impact.identifiers)])
    summary.append(["affected objects 受影响对象", len(impact.objects)])
    summary.append(["lots 批次", " ".join(impact.lots)])
    summary.append(["regions 行政区划", " ".join(impact.regions)])
    summary.append(["events 事件", impact.event_count])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
