"""UN/ECE Recommendation 20 units that sensor queries convert between (``GE_value_KEL`` finds a report in CEL).

Each unit is a linear map to its dimension's base unit: ``base = factor * value + offset``. Units outside this
table are compared only with reports in the same unit.
"""

from __future__ import annotations

# code → (dimension, factor, offset)
UNITS: dict[str, tuple[str, float, float]] = {
    # temperature, base kelvin
    "KEL": ("temperature", 1.0, 0.0),
    "CEL": ("temperature", 1.0, 273.15),
    "FAH": ("temperature", 5.0 / 9.0, 459.67 * 5.0 / 9.0),
    # mass, base kilogram
    "KGM": ("mass", 1.0, 0.0),
    "GRM": ("mass", 1e-3, 0.0),
    "MGM": ("mass", 1e-6, 0.0),
    "MC": ("mass", 1e-9, 0.0),
    "TNE": ("mass", 1e3, 0.0),
    "LBR": ("mass", 0.45359237, 0.0),
    "ONZ": ("mass", 0.028349523125, 0.0),
    # length, base metre
    "MTR": ("length", 1.0, 0.0),
    "KMT": ("length", 1e3, 0.0),
    "CMT": ("length", 1e-2, 0.0),
    "MMT": ("length", 1e-3, 0.0),
    "INH": ("length", 0.0254, 0.0),
    "FOT": ("length", 0.3048, 0.0),
    # volume, base cubic metre
    "MTQ": ("volume", 1.0, 0.0),
    "LTR": ("volume", 1e-3, 0.0),
    "DMQ": ("volume", 1e-3, 0.0),
    "MLT": ("volume", 1e-6, 0.0),
    "CMQ": ("volume", 1e-6, 0.0),
    # pressure, base pascal
    "PAL": ("pressure", 1.0, 0.0),
    "A97": ("pressure", 1e2, 0.0),  # hectopascal
    "KPA": ("pressure", 1e3, 0.0),
    "MPA": ("pressure", 1e6, 0.0),
    "MBR": ("pressure", 1e2, 0.0),
    "BAR": ("pressure", 1e5, 0.0),
    "ATM": ("pressure", 101325.0, 0.0),
    "PS": ("pressure", 6894.757293168361, 0.0),  # pound-force per square inch
    # time, base second
    "SEC": ("time", 1.0, 0.0),
    "MIN": ("time", 60.0, 0.0),
    "HUR": ("time", 3600.0, 0.0),
    "DAY": ("time", 86400.0, 0.0),
}


def equivalents(uom: str, value: float) -> list[tuple[str, float]]:
    """``value`` in ``uom`` expressed in every unit of its dimension, ``uom`` first; just ``[(uom, value)]`` for a
    unit not in the table. ``equivalents("CEL", 20)`` → ``[("CEL", 20.0), ("KEL", 293.15), ("FAH", 68.0…), …]``."""
    unit = UNITS.get(uom)
    if unit is None:
        return [(uom, value)]
    dimension, factor, offset = unit
    base = factor * value + offset
    out = [(uom, value)]
    for code, (dim, f, o) in UNITS.items():
        if dim == dimension and code != uom:
            out.append((code, (base - o) / f))
    return out
