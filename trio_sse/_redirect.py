"""Following a redirect the way a browser's EventSource does, without leaking credentials.

Sans-IO: a :class:`Request` (what the pump sends next) and the rule that turns a
redirect response into the next one. The pump follows redirects itself (the client is
always asked not to), because httpx keeps every header but ``Authorization`` when a
redirect changes origin, and API keys travel in ``x-api-key`` and the like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "Request",
    "is_credential",
    "redirected",
]

REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
"""The statuses a browser follows; any other 3xx is an answer (a :class:`StatusError`)."""

DEFAULT_MAX_REDIRECTS: Final = 20
"""Redirects followed for one connection before giving up: fetch's limit and httpx's
default (a client's own ``max_redirects`` is used when it has one)."""

_CREDENTIAL_WORDS: Final = ("auth", "cookie", "key", "token", "secret", "session", "password")
"""A header whose lower-cased name holds one of these is taken for a credential:
``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``x-api-key`` (Anthropic),
``x-goog-api-key`` (Gemini), ``api-key`` (Azure OpenAI), ``X-Auth-Token``, ...
Stripping a header that was not secret costs nothing on another origin; sending one
that was is a leak."""

_BODY_HEADERS: Final = frozenset(
    {"content-type", "content-encoding", "content-language", "content-location", "content-length"}
)
"""Headers that describe a request body: dropped with the body (fetch's list)."""

_BODY_ARGUMENTS: Final = ("content", "data", "files", "json")


def is_credential(name: str) -> bool:
    """Whether a header named ``name`` may carry a secret (see ``_CREDENTIAL_WORDS``)."""
    lowered = name.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


@dataclass(frozen=True, slots=True)
class Request:
    """What one connection sends: the method, the URL, the caller's headers and the
    other arguments of the client's ``stream()``. Reconnects send the last one a stream
    was served from, after its redirects."""

    method: str
    url: str
    headers: tuple[tuple[str, str | bytes], ...]
    arguments: Mapping[str, Any]


def redirected(request: Request, status: int, target: str, *, keep_credentials: bool) -> Request:
    """The request to send after ``request`` was answered ``status`` (one of
    :data:`REDIRECT_STATUSES`) with a ``Location`` resolved to ``target``.

    As fetch does: a 303 turns anything but GET and HEAD into a GET, and a 301 or 302
    turns a POST into a GET; either way the body and the headers describing it are
    dropped. 307 and 308 send the same method and body again. ``params=`` is dropped
    (the ``Location`` is the whole new URL, query included). Unless ``keep_credentials``
    (the origin is kept), every credential header, a ``Host`` header, ``cookies=`` and
    ``auth=`` are dropped, and stay dropped for later redirects and reconnects.
    """
    method = request.method.upper()
    to_get = (status == 303 and method not in ("GET", "HEAD")) or (
        status in (301, 302) and method == "POST"
    )
    headers = request.headers
    arguments = {name: value for name, value in request.arguments.items() if name != "params"}
    if to_get:
        method = "GET"
        headers = tuple(pair for pair in headers if pair[0].lower() not in _BODY_HEADERS)
        for name in _BODY_ARGUMENTS:
            arguments.pop(name, None)
    if not keep_credentials:  # a caller's Host names the old origin's host: dropped too
        headers = tuple(
            pair for pair in headers if not is_credential(pair[0]) and pair[0].lower() != "host"
        )
        arguments.pop("cookies", None)
        arguments["auth"] = None  # not the client's default auth either
    return replace(
        request,
        method=method if to_get else request.method,
        url=target,
        headers=headers,
        arguments=arguments,
    )
