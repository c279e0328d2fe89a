"""REST rate limits (docs/SECURITY.md, "Rate limits"): one bucket per caller, a change costs
five reads; over the limit, 429 `rate_limited` with Retry-After before any handler runs, and
other callers are not affected."""

from __future__ import annotations

import asyncio

import aiohttp

from meetings.services.accounts import auth
from tests.conftest import PASSWORD, Running


async def agenda_size(server: Running, token: str) -> int:
    status, body, _ = await server.http("GET", f"/api/meetings/{server.meeting_id}/agenda",
                                        token=token)  # fmt: skip
    assert status == 200, body
    return len(body)


async def test_rest_rate_limit_per_caller(server: Running) -> None:
    secretary = await server.token("secretary")
    chair = await server.token("chair")
    delegate = await server.token("delegate001")
    server.settings.http_rate, server.settings.http_burst = 2.0, 12
    path = f"/api/meetings/{server.meeting_id}/agenda"
    before = await agenda_size(server, chair)
    # two changes (5 each) fit in a burst of 12; the third is refused and writes nothing
    for title in ("Mục một", "Mục hai"):
        status, body, _ = await server.http("POST", path, token=secretary, json={"title": title})
        assert status in (200, 201), body
    status, body, headers = await server.http("POST", path, token=secretary, json={"title": "x"})
    assert status == 429, body
    assert body["error"]["code"] == "rate_limited" and body["error"]["message"]
    assert int(headers["retry-after"]) >= 1
    assert headers["x-content-type-options"] == "nosniff"  # still behind the security headers
    assert await agenda_size(server, chair) == before + 2
    # reads cost one: the secretary still has 2 tokens for reads, then 429
    assert (await server.http("GET", path, token=secretary))[0] == 200
    assert (await server.http("GET", path, token=secretary))[0] == 200
    assert (await server.http("GET", path, token=secretary))[0] == 429
    # another caller has its own bucket, and health checks are not limited
    for _ in range(10):
        assert (await server.http("GET", path, token=delegate))[0] == 200
    async with aiohttp.ClientSession() as http:
        for _ in range(20):
            async with http.get(server.base_url + "/healthz") as response:
                assert response.status == 200
    # the bucket refills at the rate: 2.5 s gives 5 tokens, one change
    await asyncio.sleep(2.6)
    status, body, _ = await server.http("POST", path, token=secretary, json={"title": "Mục ba"})
    assert status in (200, 201), body
    assert await agenda_size(server, chair) == before + 3


async def test_anonymous_callers_are_counted_by_address(server: Running) -> None:
    server.settings.http_rate, server.settings.http_burst = 1.0, 3
    codes = []
    for _ in range(5):
        status, body, _ = await server.http("GET", "/api/auth/me")
        codes.append((status, body["error"]["code"]))
    assert codes[:3] == [(401, codes[0][1])] * 3
    assert codes[3:] == [(429, "rate_limited")] * 2
    server.settings.http_rate = 0  # 0 switches the limit off
    assert (await server.http("GET", "/api/auth/me"))[0] == 401


async def test_a_login_costs_one_like_a_read(server: Running) -> None:
    """Tablets behind one NAT address log in together: six logins fit a burst of six."""
    server.settings.http_rate, server.settings.http_burst = 0.01, 6
    body = {"username": "delegate002", "password": PASSWORD}
    statuses = [(await server.http("POST", "/api/auth/login", json=body))[0] for _ in range(7)]
    assert statuses == [200] * 6 + [429]


async def test_made_up_credentials_count_under_the_address(server: Running) -> None:
    """A new invented token (or cookie) on each request is not a new caller: credentials that
    never authenticated are counted under the address, and a real token keeps its own bucket."""
    fresh = await server.token("delegate003")  # issued by the login answer: known at once
    # minted without the HTTP login, so the limiter learns of it at its first request
    chair, _ = await auth.login(server.services, "chair", PASSWORD, "127.0.0.9")
    server.settings.http_rate, server.settings.http_burst = 0.01, 20
    assert (await server.http("GET", "/api/auth/me", token=chair))[0] == 200  # 19 left
    codes = []
    for i in range(30):
        made_up = f"qrm_made-up-{i}"
        if i % 2:
            status, _, _ = await server.http("GET", "/api/auth/me", token=made_up)
        else:
            status, _, _ = await server.http(
                "GET", "/api/auth/me", headers={"cookie": f"quorum_session={made_up}"}
            )
        codes.append(status)
    assert codes == [401] * 19 + [429] * 11
    # no credential at all shares that bucket; the real tokens have their own
    assert (await server.http("GET", "/api/auth/me"))[0] == 429
    for _ in range(5):
        assert (await server.http("GET", "/api/auth/me", token=chair))[0] == 200
        assert (await server.http("GET", "/api/auth/me", token=fresh))[0] == 200
