"""httpx for tests that talk to a live server: the same calls, with room for a loaded machine.

httpx waits 5 s by default. On a small CI machine running three test workers and servers on two
cores, a request that is not slow by design can wait longer than that, and the test then fails on
the timeout, not on what it checks. Every test's raw HTTP call goes through here instead.
"""

from __future__ import annotations

from typing import Any

import httpx

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def Client(*args: Any, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", TIMEOUT)
    return httpx.Client(*args, **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return httpx.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> httpx.Response:
    return request("PATCH", url, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    return request("DELETE", url, **kwargs)
