"""The registry's one error: a refused input, with every problem naming its field."""

from __future__ import annotations

from zhuisu.epcis.problems import Problem


class RegistryError(ValueError):
    """Raised when registry input is refused; nothing has been written.

    ``status`` is the HTTP status the API answers with: 400 bad input, 404 unknown referenced record,
    409 conflict (duplicate USCC, GLN, GTIN, identity number; a status change not allowed from the current one).
    """

    def __init__(self, problems: list[Problem], status: int = 400) -> None:
        self.problems = problems
        self.status = status
        super().__init__("; ".join(f"{p.path or '/'}: {p.message}" for p in problems))

    @classmethod
    def one(cls, field: str, message: str, status: int = 400) -> RegistryError:
        return cls([Problem(None, "/" + field if field else "", message)], status)
