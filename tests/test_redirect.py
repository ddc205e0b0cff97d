"""Redirects: followed as a browser's EventSource follows them, credentials kept on one origin."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import httpx2
import pytest
import trio
import trio.testing

from trio_sse import NetworkError, RetryPolicy, StatusError, open_event_stream
from trio_sse._http import origin_kept, resolve_location
from trio_sse._redirect import Request, is_credential, redirected

from .scripted import Drop, Script, scripted_client, sse

EXACT = RetryPolicy(base=1, factor=2, cap=30, jitter=0)

KEYS = {
    "Authorization": "Bearer sk-1",
    "Proxy-Authorization": "Basic cHJveHk=",
    "Cookie": "session=1",
    "x-api-key": "sk-ant",
    "x-goog-api-key": "gemini",
    "api-key": "azure",
    "X-Auth-Token": "t",
}
PLAIN = {"anthropic-version": "2023-06-01", "X-Request-Tag": "mine"}


def moved(location: str, status: int = 307) -> Script:
    return Script([b"moved"], status=status, headers={"location": location})


async def collect(client: Any, method: str = "GET", url: str = "/s", **kwargs: Any) -> list[str]:
    async with open_event_stream(client, method, url, **kwargs) as events:
        return [event.data async for event in events]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_every_redirect_status_is_followed_and_reconnects_go_to_the_final_url(
    status: int, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(
        moved("/elsewhere?x=1", status),
        Script([sse([("id", "1"), ("data", "a")])]),
        Script(status=204, headers={}),
    )
    async with open_event_stream(client, "GET", "/s", retry=EXACT) as events:
        assert events.url == "http://test/elsewhere?x=1"
        assert [e.data async for e in events] == ["a"]
    assert [str(r.url) for r in seen.requests] == [
        "http://test/s",
        "http://test/elsewhere?x=1",
        "http://test/elsewhere?x=1",  # the reconnect: the final URL, not the first
    ]
    assert seen.requests[2].headers["last-event-id"] == "1"


@pytest.mark.parametrize(
    ("status", "method"),
    [(303, "GET"), (301, "GET"), (302, "GET"), (307, "POST"), (308, "POST")],
)
async def test_a_post_becomes_a_get_as_fetch_says(status: int, method: str) -> None:
    client, seen = scripted_client(moved("/answer", status), Script([sse("a")]))
    assert await collect(client, "POST", json={"q": 1}, headers={"X-Request-Tag": "t"}) == ["a"]
    first, second = seen.requests
    assert (second.method, str(second.url)) == (method, "http://test/answer")
    assert second.headers["x-request-tag"] == "t"
    if method == "GET":  # the body and the headers that describe it are dropped
        assert second.content == b""
        assert "content-type" not in second.headers
    else:
        assert second.content == first.content == b'{"q":1}'
        assert second.headers["content-type"] == "application/json"


async def test_a_303_to_a_get_is_not_replayed_as_a_post_on_reconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        moved("/answer", 303), Script([sse("a"), Drop()]), Script([sse("b")])
    )
    assert await collect(client, "POST", json={"q": 1}, retry=EXACT, reconnect=True) == ["a", "b"]
    assert [(r.method, r.url.path) for r in seen.requests] == [
        ("POST", "/s"),
        ("GET", "/answer"),
        ("GET", "/answer"),
        ("GET", "/answer"),  # the 204 that ends it
    ]


@pytest.mark.parametrize("module", [httpx, httpx2])
@pytest.mark.parametrize("client_follows", [False, True])
async def test_credentials_never_reach_another_origin(module: Any, client_follows: bool) -> None:
    client, seen = scripted_client(
        moved("https://other.test:8443/feed"),
        Script([sse("a")]),
        module=module,
        follow_redirects=client_follows,
    )
    headers = {**KEYS, **PLAIN}
    assert await collect(client, "POST", headers=headers, auth=("user", "pass")) == ["a"]
    first, second = seen.requests
    assert str(second.url) == "https://other.test:8443/feed"
    assert first.headers["x-api-key"] == "sk-ant"
    assert first.headers["authorization"].startswith("Basic ")  # auth= wins over headers=
    for name in KEYS:
        assert name not in second.headers, name
    for name, value in PLAIN.items():
        assert second.headers[name] == value


async def test_the_query_string_of_the_first_url_does_not_follow() -> None:
    # Gemini accepts the key as ?key=: the Location is the whole new URL, query included.
    client, seen = scripted_client(moved("http://other.test/feed"), Script([sse("a")]))
    assert await collect(client, "POST", params={"key": "secret", "alt": "sse"}) == ["a"]
    assert [str(r.url) for r in seen.requests] == [
        "http://test/s?key=secret&alt=sse",
        "http://other.test/feed",
    ]


async def test_auth_and_the_clients_auth_stay_on_their_origin() -> None:
    client, seen = scripted_client(
        moved("http://test/same"),
        moved("http://other.test/feed"),
        moved("http://test/back"),  # back home: what was dropped stays dropped
        Script([sse("a")]),
        auth=("user", "pass"),
    )
    assert await collect(client, "GET", reconnect=False) == ["a"]
    sent = ["authorization" in r.headers for r in seen.requests]
    assert sent == [True, True, False, False]


@pytest.mark.parametrize(
    ("location", "kept"),
    [
        ("/same-origin", True),
        ("http://test:80/explicit-default-port", True),
        ("https://test/upgraded", True),  # http to https on one host: as httpx keeps it
        ("http://test:8080/other-port", False),
        ("http://TEST.example/other-host", False),
    ],
)
async def test_what_counts_as_the_same_origin(location: str, kept: bool) -> None:
    client, seen = scripted_client(moved(location), Script([sse("a")]))
    assert await collect(client, "GET", headers=KEYS, reconnect=False) == ["a"]
    assert ("x-api-key" in seen.requests[1].headers) is kept


async def test_a_client_whose_default_headers_hold_a_key_is_not_redirected_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, seen = scripted_client(
        moved("http://other.test/feed"), Script([sse("a")]), headers={"x-api-key": "sk"}
    )
    with pytest.raises(StatusError) as info:
        await collect(client, "GET", retry=None)
    assert info.value.status_code == 307
    assert info.value.headers["location"] == "http://other.test/feed"
    assert len(seen.requests) == 1
    assert "the client's defaults carry credentials (headers x-api-key)" in caplog.text
    # On its own origin it follows, key and all.
    client, seen = scripted_client(moved("/here"), Script([sse("a")]), headers={"x-api-key": "sk"})
    assert await collect(client, "GET", reconnect=False) == ["a"]
    assert seen.requests[1].headers["x-api-key"] == "sk"


async def test_a_client_whose_default_params_hold_a_key_is_not_redirected_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # httpx merges a client's params into every request URL, a redirect target's too.
    client, seen = scripted_client(
        moved("http://other.test/feed"), Script([sse("a")]), params={"key": "gemini", "alt": "sse"}
    )
    with pytest.raises(StatusError):
        await collect(client, "GET", retry=None)
    assert len(seen.requests) == 1
    assert "(params key)" in caplog.text
    client, seen = scripted_client(
        moved("http://other.test/feed"), Script([sse("a")]), params={"alt": "sse"}
    )
    assert await collect(client, "GET", reconnect=False) == ["a"]
    assert str(seen.requests[1].url) == "http://other.test/feed?alt=sse"


@pytest.mark.parametrize("module", [httpx, httpx2])
async def test_a_client_whose_cookies_go_everywhere_is_not_redirected_away(
    module: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # AsyncClient(cookies={...}) sets cookies without a domain: the jar sends them to
    # every host, a redirect target's included.
    client, seen = scripted_client(
        moved("https://other.test/feed"),
        Script([sse("a")]),
        module=module,
        cookies={"session": "SECRET"},
    )
    with pytest.raises(StatusError) as info:
        await collect(client, "GET", retry=None)
    assert info.value.status_code == 307
    assert len(seen.requests) == 1
    assert "the client's defaults carry credentials (cookies session)" in caplog.text
    # On its own origin it follows, cookie and all.
    client, seen = scripted_client(
        moved("/here"), Script([sse("a")]), module=module, cookies={"session": "SECRET"}
    )
    assert await collect(client, "GET", reconnect=False) == ["a"]
    assert seen.requests[1].headers["cookie"] == "session=SECRET"


async def test_cookies_scoped_to_one_host_do_not_block_a_redirect_to_another() -> None:
    # The first origin's own cookie stays home; the target's own (a load balancer's
    # session, say) goes to the target: neither leaks anything.
    client, seen = scripted_client(moved("http://other.example/feed"), Script([sse("a")]))
    client.cookies.set("home", "1", domain="api.example")
    client.cookies.set("lb", "2", domain="other.example")
    assert await collect(client, "GET", "http://api.example/s", reconnect=False) == ["a"]
    first, second = seen.requests
    assert (first.headers["cookie"], second.headers["cookie"]) == ("home=1", "lb=2")
    # A cookie whose domain covers both hosts would be carried along: refused.
    client, seen = scripted_client(moved("http://b.example.test/feed"), Script([sse("a")]))
    client.cookies.set("shared", "1", domain=".example.test")
    with pytest.raises(StatusError):
        await collect(client, "GET", "http://a.example.test/s", retry=None)
    assert len(seen.requests) == 1


async def test_header_names_given_as_bytes_are_credentials_too() -> None:
    client, seen = scripted_client(moved("https://other.test/feed"), Script([sse("a")]))
    headers = [(b"x-api-key", b"sk-ant"), (b"Accept", b"application/json, text/event-stream")]
    assert await collect(client, "POST", headers=headers) == ["a"]
    first, second = seen.requests
    assert first.headers["x-api-key"] == "sk-ant"
    assert "x-api-key" not in second.headers
    assert second.headers.get_list("accept") == ["application/json, text/event-stream"]


@pytest.mark.parametrize("status", [303, 302])
async def test_a_retry_after_a_post_became_a_get_asks_for_the_get(
    status: int, autojump_clock: trio.testing.MockClock
) -> None:
    # The server took the POST and pointed at its answer: a retry must not POST again.
    client, seen = scripted_client(
        moved("/answer", status),
        Script([b"busy"], status=503, headers={"content-type": "text/plain"}),
        Script([sse("a")]),
    )
    assert await collect(client, "POST", json={"q": 1}, retry=EXACT) == ["a"]
    assert [(r.method, r.url.path) for r in seen.requests] == [
        ("POST", "/s"),
        ("GET", "/answer"),
        ("GET", "/answer"),
    ]


async def test_a_retry_after_a_307_sends_the_post_from_the_start(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        moved("/v2", 307),
        Script([b"busy"], status=503, headers={"content-type": "text/plain"}),
        moved("/v2", 307),
        Script([sse("a")]),
    )
    assert await collect(client, "POST", json={"q": 1}, retry=EXACT) == ["a"]
    assert [(r.method, r.url.path) for r in seen.requests] == [
        ("POST", "/s"),
        ("POST", "/v2"),
        ("POST", "/s"),
        ("POST", "/v2"),
    ]


async def test_redirects_are_bounded_by_the_clients_max_redirects() -> None:
    client, seen = scripted_client(*[moved(f"/hop{i}") for i in range(30)])
    with pytest.raises(NetworkError, match="more than 20 redirects") as info:
        await collect(client, "GET")
    assert not info.value.transient  # not retried: it would loop again
    assert len(seen.requests) == 21
    client, seen = scripted_client(*[moved(f"/hop{i}") for i in range(30)], max_redirects=2)
    with pytest.raises(NetworkError, match="more than 2 redirects"):
        await collect(client, "GET")
    assert len(seen.requests) == 3


@pytest.mark.parametrize(
    "script",
    [
        Script([b"moved"], status=302, headers={}),  # no Location
        moved("ftp://other.test/feed"),  # not http(s)
        moved("/fine", status=300),  # not a status a browser follows
        moved("/fine", status=304),
    ],
)
async def test_a_redirect_that_cannot_be_followed_is_a_status_error(script: Script) -> None:
    client, seen = scripted_client(script, Script([sse("a")]))
    with pytest.raises(StatusError) as info:
        await collect(client, "GET", retry=None)
    assert info.value.status_code == script.status
    assert len(seen.requests) == 1


async def test_follow_redirects_false_makes_a_redirect_a_status_error() -> None:
    client, seen = scripted_client(moved("/elsewhere"), Script([sse("a")]))
    with pytest.raises(StatusError) as info:
        await collect(client, "GET", follow_redirects=False)
    assert info.value.status_code == 307
    assert len(seen.requests) == 1


async def test_redirects_are_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_sse")
    client, _ = scripted_client(moved("/elsewhere"), Script([sse("a")]))
    assert await collect(client, "GET", reconnect=False) == ["a"]
    assert "http://test/s answered 307: following it to http://test/elsewhere" in caplog.text


def test_credential_names() -> None:
    for name in [*KEYS, "Ocp-Apim-Subscription-Key", "X-Session-Id", "X-Client-Secret"]:
        assert is_credential(name), name
    for name in ["Accept", "Cache-Control", "Last-Event-ID", "anthropic-version", "Keep-Alive"]:
        assert not is_credential(name), name


def test_the_redirect_rule_without_io() -> None:
    post = Request(
        "POST",
        "http://a.test/s",
        (("Content-Type", "application/json"), ("x-api-key", "k"), ("X-Tag", "t"), ("Host", "a")),
        {"json": {"q": 1}, "params": {"p": "1"}, "cookies": {"c": "1"}, "timeout": 5},
    )
    same = redirected(post, 307, "http://a.test/t", keep_credentials=True)
    assert same == Request(
        "POST",
        "http://a.test/t",
        post.headers,
        {"json": {"q": 1}, "cookies": {"c": "1"}, "timeout": 5},
    )
    away = redirected(post, 303, "http://b.test/t", keep_credentials=False)
    assert away == Request(
        "GET", "http://b.test/t", (("X-Tag", "t"),), {"timeout": 5, "auth": None}
    )
    head = Request("HEAD", "http://a.test/s", (), {})
    assert redirected(head, 303, "http://a.test/t", keep_credentials=True).method == "HEAD"
    put = Request("PUT", "http://a.test/s", (), {"content": b"x"})
    assert redirected(put, 302, "http://a.test/t", keep_credentials=True).method == "PUT"


def test_locations_and_origins_are_parsed_as_the_client_parses_them() -> None:
    assert resolve_location("http://a.test/x/y", "../z?q=1") == "http://a.test/z?q=1"
    assert resolve_location("http://a.test/x", " //b.test/feed ") == "http://b.test/feed"
    assert resolve_location("http://a.test/x", "javascript:alert(1)") is None
    # Resolved and written out by httpx's parser, the one the client sends with: the
    # host compared is the host connected to (a backslash is userinfo to it, escaped).
    assert resolve_location("http://b.test/x", "http://evil.test\\@b.test/") == (
        "http://evil.test%5C@b.test/"
    )
    assert origin_kept("http://a.test/x", "http://A.TEST:80/y")
    assert not origin_kept("https://a.test/x", "http://a.test/y")  # a downgrade is another origin
