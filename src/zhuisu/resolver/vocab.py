"""People-facing words of the trace page: CBV business steps and dispositions in Chinese and English.

CBV 2.0 (GS1 Core Business Vocabulary) defines the English terms; the Chinese words are the ones Chinese
traceability documents use for the same step (赋码, 检验, 发货, 收货 …). A term outside the CBV (an
enterprise's own URI) is shown as its last path segment, unchanged.
"""

from __future__ import annotations

from typing import Literal

from zhuisu.epcis import cbv

Lang = Literal["zh", "en"]

__all__ = ["BIZ_STEP_WORDS", "DISPOSITION_WORDS", "biz_step_label", "disposition_label"]

# word: (中文, English)
BIZ_STEP_WORDS: dict[str, tuple[str, str]] = {
    "accepting": ("验收", "Accepting"),
    "arriving": ("到达", "Arriving"),
    "assembling": ("组装", "Assembling"),
    "collecting": ("回收", "Collecting"),
    "commissioning": ("赋码/生产", "Commissioning"),
    "consigning": ("托运", "Consigning"),
    "creating_class_instance": ("生产批次", "Creating a lot"),
    "cycle_counting": ("循环盘点", "Cycle counting"),
    "decommissioning": ("注销", "Decommissioning"),
    "departing": ("离场", "Departing"),
    "destroying": ("销毁", "Destroying"),
    "disassembling": ("拆解", "Disassembling"),
    "dispensing": ("调剂发放", "Dispensing"),
    "encoding": ("编码", "Encoding"),
    "entering_exiting": ("出入", "Entering or exiting"),
    "holding": ("暂扣", "Holding"),
    "inspecting": ("检验", "Inspecting"),
    "installing": ("安装", "Installing"),
    "killing": ("屠宰", "Slaughtering"),
    "loading": ("装车", "Loading"),
    "other": ("其他", "Other"),
    "packing": ("包装", "Packing"),
    "picking": ("拣货", "Picking"),
    "receiving": ("收货", "Receiving"),
    "removing": ("移除", "Removing"),
    "repackaging": ("重新包装", "Repackaging"),
    "repairing": ("维修", "Repairing"),
    "replacing": ("更换", "Replacing"),
    "reserving": ("预留", "Reserving"),
    "retail_selling": ("零售", "Retail selling"),
    "sampling": ("抽样", "Sampling"),
    "sensor_reporting": ("传感器记录", "Sensor reporting"),
    "shipping": ("发货", "Shipping"),
    "staging_outbound": ("出库备货", "Staging outbound"),
    "stock_taking": ("盘点", "Stock taking"),
    "stocking": ("上架", "Stocking"),
    "storing": ("仓储", "Storing"),
    "transporting": ("运输", "Transporting"),
    "unloading": ("卸货", "Unloading"),
    "unpacking": ("拆包", "Unpacking"),
    "void_shipping": ("取消发货", "Void shipping"),
}

DISPOSITION_WORDS: dict[str, tuple[str, str]] = {
    "active": ("已激活", "Active"),
    "available": ("可用", "Available"),
    "completeness_inferred": ("完整性已推定", "Completeness inferred"),
    "completeness_verified": ("完整性已核验", "Completeness verified"),
    "conformant": ("合格", "Conformant"),
    "container_closed": ("已封箱", "Container closed"),
    "container_open": ("已开箱", "Container open"),
    "damaged": ("损坏", "Damaged"),
    "destroyed": ("已销毁", "Destroyed"),
    "dispensed": ("已发放", "Dispensed"),
    "disposed": ("已处置", "Disposed"),
    "encoded": ("已编码", "Encoded"),
    "expired": ("已过期", "Expired"),
    "in_progress": ("处理中", "In progress"),
    "in_transit": ("运输中", "In transit"),
    "inactive": ("未激活", "Inactive"),
    "mismatch_class": ("品类不符", "Class mismatch"),
    "mismatch_instance": ("单品不符", "Instance mismatch"),
    "mismatch_quantity": ("数量不符", "Quantity mismatch"),
    "needs_replacement": ("需更换", "Needs replacement"),
    "no_pedigree_match": ("来源不符", "No pedigree match"),
    "non_conformant": ("不合格", "Non-conformant"),
    "non_sellable_other": ("不可销售", "Not sellable"),
    "partially_dispensed": ("部分发放", "Partially dispensed"),
    "recalled": ("已召回", "Recalled"),
    "reserved": ("已预留", "Reserved"),
    "retail_sold": ("已售出", "Sold"),
    "returned": ("已退回", "Returned"),
    "sellable_accessible": ("在售", "Sellable"),
    "sellable_not_accessible": ("可售（未上架）", "Sellable, not accessible"),
    "stolen": ("被盗", "Stolen"),
    "unavailable": ("不可用", "Unavailable"),
    "unknown": ("未知", "Unknown"),
}

# Dispositions a consumer must see as a warning.
ALARMING_DISPOSITIONS = frozenset(
    {"recalled", "expired", "destroyed", "stolen", "damaged", "non_conformant", "no_pedigree_match", "disposed"}
)


def _label(words: dict[str, tuple[str, str]], word: str, lang: Lang) -> str:
    pair = words.get(word)
    if pair is not None:
        return pair[1] if lang == "en" else pair[0]
    return word.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1] or word


def biz_step_label(value: str | None, lang: Lang) -> str:
    """Chinese (or English) name of a bizStep given as CBV word, web URI or URN."""
    if not value:
        return ""
    return _label(BIZ_STEP_WORDS, cbv.BIZ_STEP.to_word(value), lang)


def disposition_label(value: str | None, lang: Lang) -> str:
    if not value:
        return ""
    return _label(DISPOSITION_WORDS, cbv.DISPOSITION.to_word(value), lang)


def is_alarming(disposition: str | None) -> bool:
    return bool(disposition) and cbv.DISPOSITION.to_word(disposition or "") in ALARMING_DISPOSITIONS
