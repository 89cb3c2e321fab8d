"""httpx for the servers the tests and benchmarks start, with one TLS context.

httpx builds an SSL context for every client, so for every `httpx.get` and
`httpx.post`, and loads the CA bundle into it even for http:// URLs: ~60 ms
of CPU each on these machines. The server tests make thousands of calls (a
third of the fast suite's CPU went there). These take the process's one
context (services.api.shared_ssl_context); otherwise they are httpx's own.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.api import shared_ssl_context


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, verify=shared_ssl_context(), **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return request("POST", url, **kwargs)


def Client(**kwargs: Any) -> httpx.Client:  # noqa: N802 - stands in for httpx.Client
    return httpx.Client(verify=shared_ssl_context(), **kwargs)


def AsyncClient(**kwargs: Any) -> httpx.AsyncClient:  # noqa: N802 - for httpx.AsyncClient
    return httpx.AsyncClient(verify=shared_ssl_context(), **kwargs)
