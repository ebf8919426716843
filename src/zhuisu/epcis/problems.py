"""Problems found in captured documents or queries, with where they happened."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input.

    ``index`` is the 0-based position of the event in the document (``None`` for document-level
    problems); ``path`` is a JSON-pointer-like path to the field (``/epcisBody/eventList/3/bizStep``
    for documents, ``/bizStep`` for single events); ``message`` says what is wrong in words a user can act on.
    """

    index: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"event {self.index}" if self.index is not None else "document"
        return f"{where} at {self.path or '/'}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"eventIndex": self.index, "pointer": self.path, "detail": self.message}


class EPCISError(ValueError):
    """Raised when a document or event is refused; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]) + (" …" if len(problems) > 5 else ""))
