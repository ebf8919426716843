"""RFC 7807 problem documents: every error the API returns is one of these, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from zhuisu.epcis.problems import EPCISError, Problem

log = logging.getLogger("zhuisu.api")

PROBLEM_JSON = "application/problem+json"

# Problem types of the EPCIS 2.0 REST binding (epcis-openapi: "Exception" responses).
EPCIS_EXCEPTION = "epcisException:"
TYPES = {
    400: "epcisException:ValidationException",
    401: "epcisException:SecurityException",
    403: "epcisException:SecurityException",
    404: "epcisException:NoSuchResourceException",
    406: "epcisException:NotAcceptableException",
    409: "epcisException:ConflictException",
    413: "epcisException:CaptureLimitExceededException",
    414: "epcisException:URITooLongException",
    415: "epcisException:UnsupportedMediaTypeException",
    500: "epcisException:ImplementationException",
    501: "epcisException:ImplementationException",
}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    500: "Internal error",
    501: "Not implemented",
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str | None = None,
        title: str | None = None,
        problems: Iterable[Problem] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_ or TYPES.get(status, "about:blank")
        self.title = title or TITLES.get(status, "Error")
        self.problems = list(problems)
        self.headers = headers or {}
        self.extra = extra

    @classmethod
    def from_epcis(cls, err: EPCISError, status: int = 400) -> ProblemError:
        first = err.problems[0] if err.problems else None
        detail = str(first) if first else str(err)
        if len(err.problems) > 1:
            detail += f" (and {len(err.problems) - 1} more problem(s))"
        return cls(status, detail, problems=err.problems)


def problem_body(
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    problems: Iterable[Problem] = (),
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_ or TYPES.get(status, "about:blank"),
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    plist = [p.as_dict() for p in problems]
    if plist:
        body["errors"] = plist
    body.update(extra)
    return body


def problem_response(status: int, detail: str, *, headers: dict[str, str] | None = None, **kw: Any) -> Response:
    return Response(
        orjson.dumps(problem_body(status, detail, **kw)),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Route every error through a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return problem_response(
            exc.status,
            exc.detail,
            type_=exc.type,
            title=exc.title,
            instance=request.url.path,
            problems=exc.problems,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(EPCISError)
    async def _epcis(request: Request, exc: EPCISError) -> Response:
        return await _problem(request, ProblemError.from_epcis(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        return problem_response(
            exc.status_code, detail, instance=request.url.path, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            Problem(None, "/" + "/".join(str(p) for p in err.get("loc", ())), str(err.get("msg", "invalid")))
            for err in exc.errors()
        ]
        detail = "; ".join(f"{p.path}: {p.message}" for p in problems) or "invalid request"
        return problem_response(400, detail, instance=request.url.path, problems=problems)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "The server failed to handle this request; it has been logged.", instance=request.url.path
        )
