"""The resolver's look-ups in the store: registry (products, parties), issued codes, the trace chain as the
public sees it, and the ledger evidence of each step."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine

from zhuisu import trace
from zhuisu.access.principal import PUBLIC
from zhuisu.codes.issue import IssuedCode
from zhuisu.ledger.checkpoint import Checkpoint
from zhuisu.ledger.note import Signer
from zhuisu.ledger.service import LedgerError
from zhuisu.registry.model import Party, Product
from zhuisu.resolver.dl import CodeRef
from zhuisu.resolver.page import CodeStatus, Measurement, PartyView, ProductView, StepView, region_label
from zhuisu.resolver.service import Lookup
from zhuisu.resolver.vocab import Lang
from zhuisu.store import codes as code_store
from zhuisu.store import ledger as ledger_store
from zhuisu.store import registry
from zhuisu.store.db import writing
from zhuisu.trace.model import Chain, Place, Step

__all__ = ["TRANSACTION_WORDS", "StoreSources"]

# CBV business transaction types (documents) in Chinese and English.
TRANSACTION_WORDS: dict[str, tuple[str, str]] = {
    "bol": ("提单", "Bill of lading"),
    "cert": ("证书", "Certificate"),
    "desadv": ("发货通知", "Despatch advice"),
    "inv": ("发票", "Invoice"),
    "pedigree": ("来源证明", "Pedigree"),
    "po": ("采购订单", "Purchase order"),
    "poc": ("采购订单确认", "Order confirmation"),
    "prodorder": ("生产订单", "Production order"),
    "recadv": ("收货通知", "Receiving advice"),
    "rma": ("退货授权", "Return authorisation"),
    "testprd": ("检验规程", "Test procedure"),
    "testres": ("检验报告", "Test result"),
    "upevt": ("上游事件", "Upstream event"),
}

# Objects named per step on the public page; the rest are counted.
_MAX_LISTED = 3


def _word(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("-", 1)[-1]


class StoreSources:
    """:class:`zhuisu.resolver.service.Sources` on the platform's database."""

    def __init__(self, engine: Engine, signer: Callable[[], Signer]) -> None:
        self._engine = engine
        self._signer = signer

    # -- the look-up -------------------------------------------------------------------------------------------

    def lookup(self, conn: Connection, ref: CodeRef, lang: Lang) -> Lookup | None:
        issued = code_store.lookup_code(conn, ref.key)
        product: Product | None = None
        if issued is not None:
            product = registry.get_product(conn, issued.product_id)
        elif ref.gtin is not None:
            product = registry.find_product_by_gtin(conn, ref.gtin)
        if ref.kind == "platform" and issued is None:
            return None
        chain = self._chain(conn, ref, issued)
        steps = chain.steps if chain is not None else []
        if issued is None and product is None and not steps:
            return None
        status: CodeStatus = "valid"
        if issued is None and not steps and (ref.lot is not None or ref.serial is not None):
            status = "unrecorded"  # the product is registered, this lot / serial was never issued nor recorded
        parties: dict[str, PartyView | None] = {}
        traced = chain.identifier if chain is not None else ref.key
        views = tuple(self._step_view(conn, s, parties, lang, traced) for s in steps)
        views, checkpoint = self._with_evidence(views, lang)
        return Lookup(
            identifier=chain.identifier if chain is not None else ref.key,
            status=status,
            product=self._product_view(conn, product, parties) if product else None,
            steps=views,
            checkpoint=checkpoint,
            lot=issued.lot if issued is not None else ref.lot,
            serial=issued.serial if issued is not None else ref.serial,
        )

    def _chain(self, conn: Connection, ref: CodeRef, issued: IssuedCode | None) -> Chain | None:
        """The public chain: asked by the canonical identifier, then by the label URL of a platform code."""
        candidates = [ref.key]
        if issued is not None:
            candidates += [issued.canonical, issued.code]
        best: Chain | None = None
        for identifier in dict.fromkeys(candidates):
            found = trace.chain(conn, identifier, PUBLIC)
            if found.steps:
                return found
            best = best or found
        return best

    # -- views -------------------------------------------------------------------------------------------------

    def _party(self, conn: Connection, code: str | None, cache: dict[str, PartyView | None]) -> PartyView | None:
        if not code:
            return None
        if code not in cache:
            party: Party | None = registry.get_party(conn, code)
            cache[code] = PartyView(party.party_code, party.name, party.region) if party else None
        return cache[code]

    def _product_view(self, conn: Connection, product: Product, cache: dict[str, PartyView | None]) -> ProductView:
        return ProductView(
            product_id=product.product_id,
            name=product.name,
            gtin=product.gtin,
            spec=product.spec,
            sector=product.sector,
            approval_no=product.approval_no,
            shelf_life_days=product.shelf_life_days,
            producer=self._party(conn, product.party_code, cache),
        )

    def _place(self, place: Place | None, lang: Lang) -> str | None:
        if place is None:
            return None
        name = place.name or place.id
        if place.region:
            return f"{name} · {region_label(place.region, lang)}"
        return name

    def _ends(
        self, conn: Connection, places: list[Place], parties: dict[str, PartyView | None], lang: Lang
    ) -> str | None:
        """Source or destination: party names first (owning / possessing party), else the place."""
        names: list[str] = []
        unknown = [p.id for p in places if not p.party_code]
        owners = registry.parties_for_identifiers(conn, unknown) if unknown else {}
        for place in places:
            party = self._party(conn, place.party_code or owners.get(place.id), parties)
            label = party.name if party else self._place(place, lang)
            if label and label not in names:
                names.append(label)
        return "、".join(names) if names else None

    def _what(self, step: Step, lang: Lang, traced: str) -> str | None:
        """What the step moved or made, leaving out the traced object itself (the page is about it)."""
        zh = lang != "en"

        def items(qs: Iterable[Any]) -> str:
            out = []
            listed = list(qs)
            for q in listed[:_MAX_LISTED]:
                label = _short_id(q.id)
                if q.quantity is not None:
                    label += f" × {q.quantity:g}{(' ' + q.uom) if q.uom else ''}"
                out.append(label)
            more = len(listed) - _MAX_LISTED
            if more > 0:  # a case of 10 boxes names 3 of them; the page is about one product, not the case's list
                out.append(f"等共 {len(listed)} 件" if zh else f"and {more} more")
            return "、".join(out) if zh else ", ".join(out)

        parts = []
        if step.inputs:
            parts.append(("投入 " if zh else "in: ") + items(step.inputs))
        if step.outputs:
            parts.append(("产出 " if zh else "out: ") + items(step.outputs))
        others = [q for q in step.objects if q.id != traced or q.quantity is not None]
        if others:
            parts.append(items(others))
        if step.via:
            parts.append(("随 " if zh else "in ") + _short_id(step.via))
        return "；".join(parts) if parts else None

    def _step_view(
        self, conn: Connection, step: Step, parties: dict[str, PartyView | None], lang: Lang, traced: str
    ) -> StepView:
        who = next((p for p in (self._party(conn, c, parties) for c in step.parties) if p is not None), None)
        if who is None:
            place = step.biz_location or step.read_point
            if place is not None and place.party_code:
                who = self._party(conn, place.party_code, parties)
        zh = lang != "en"
        documents = []
        for bt in step.biz_transactions:
            words = TRANSACTION_WORDS.get(_word(bt.get("type", "") or ""))
            kind = (words[0] if zh else words[1]) if words else (bt.get("type") or ("单据" if zh else "Document"))
            documents.append(f"{kind} {bt.get('bizTransaction') or bt.get('id') or ''}".strip())
        measurements = []
        for reading in step.sensors:
            kind = str(reading.get("type") or "")
            value = reading.get("value")
            if value is None:
                value = reading.get("meanValue", reading.get("minValue"))
            uom = reading.get("uom") or ""
            unit = {"CEL": "°C", "FAH": "°F", "KEL": "K"}.get(str(uom), str(uom))
            text = f"{value:g}{unit}" if isinstance(value, (int, float)) else f"{value or ''}{unit}"
            measurements.append(Measurement(kind=_word(kind) or kind, value=text, time=reading.get("time")))
        certificates = tuple(_cert_text(c) for c in step.certifications)
        offset = (
            step.time[-6:]
            if len(step.time) >= 6 and step.time[-6] in "+-"
            else ("+00:00" if step.time.endswith("Z") else None)
        )
        return StepView(
            when_us=step.time_micros,
            offset=offset,
            biz_step=step.biz_step,
            disposition=step.disposition,
            who=who,
            where=self._place(step.biz_location, lang) or self._place(step.read_point, lang),
            what=self._what(step, lang, traced),
            source=self._ends(conn, step.sources, parties, lang),
            destination=self._ends(conn, step.destinations, parties, lang),
            certificates=certificates,
            measurements=tuple(measurements),
            documents=tuple(documents),
            event_id=step.event_id,
        )

    def _with_evidence(self, steps: tuple[StepView, ...], lang: Lang) -> tuple[tuple[StepView, ...], str | None]:
        """Each step's log position and the signed checkpoint (signing the current size once if needed)."""
        if not steps:
            return steps, None
        signer = self._signer()
        out = []
        checkpoint: str | None = None
        zh = lang != "en"
        with writing(self._engine) as conn:
            for s in steps:
                if s.event_id is None:
                    out.append(s)
                    continue
                try:
                    ev = ledger_store.event_evidence(conn, signer, s.event_id)
                except LedgerError:
                    out.append(s)
                    continue
                note = Checkpoint.parse_text(ev.checkpoint[: ev.checkpoint.rindex("\n\n") + 1])
                checkpoint = (
                    f"{note.origin} · {'树大小' if zh else 'tree size'} {note.size} · "
                    f"{'根哈希' if zh else 'root'} {note.root.hex()[:16]}…"
                )
                text = f"{'日志位置' if zh else 'log position'} {ev.proof.leaf_index}"
                out.append(replace(s, evidence=text))
        return tuple(out), checkpoint


def _short_id(identifier: str) -> str:
    """A readable form of an identifier: the Digital Link path, or the URN / code as is."""
    if identifier.startswith("https://id.gs1.org/"):
        return identifier[len("https://id.gs1.org/") :]
    return identifier


def _cert_text(cert: Any) -> str:
    if isinstance(cert, str):
        return cert
    if isinstance(cert, dict):
        parts = [
            str(cert.get(k))
            for k in (
                "certificationStandard",
                "certificationAgency",
                "certificationValue",
                "certificationIdentification",
            )
            if cert.get(k)
        ]
        return " · ".join(parts) or str(cert)
    return str(cert)


def _offset(iso_time: str) -> str | None:
    """The offset an ISO 8601 time was written with (``+08:00``; ``Z`` is ``+00:00``)."""
    if iso_time.endswith("Z"):
        return "+00:00"
    if len(iso_time) >= 6 and iso_time[-6] in "+-" and iso_time[-3] == ":":
        return iso_time[-6:]
    return None
