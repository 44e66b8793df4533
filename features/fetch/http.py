"""HTTP for the fetchers: one client, bounded waits, a few retries, and classified errors.

Every failure is a ``FetchError`` whose message names what was being fetched (the table or
the URL), the part and the page, and what went wrong: the HTTP status, a timeout, a refused
connection or a body that is not JSON. Transient failures (a timeout, a dropped connection,
HTTP 429 and 5xx) are retried ``retries`` times with a doubling pause; a 4xx is not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

import wijkradar
from wijkradar.errors import ConfigError, FetchError

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"wijkradar/{wijkradar.__version__} (+https://opendata.cbs.nl)"


@dataclass(frozen=True)
class HttpOptions:
    """How long to wait for an answer (seconds, per request), how many times to retry a
    transient failure, and the first pause between tries (doubled each time)."""

    timeout: float = 60.0
    retries: int = 2
    backoff: float = 2.0

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ConfigError(f"The timeout must be > 0 seconds. Got {self.timeout}.")
        if self.retries < 0:
            raise ConfigError(f"The retries must be >= 0. Got {self.retries}.")
        if self.backoff < 0:
            raise ConfigError(f"The backoff must be >= 0 seconds. Got {self.backoff}.")


@dataclass(frozen=True)
class Target:
    """What a request is for, in the words an error message uses: ``what`` ('table
    85984NED', 'Leefbaarometer download'), ``part`` ('TypedDataSet') and the 1-based page."""

    what: str
    part: str = ""
    page: int | None = None

    def describe(self) -> str:
        text = self.what
        if self.part:
            text += f", {self.part}"
        if self.page is not None:
            text += f" page {self.page}"
        return text


def check_url(url: str, option: str) -> str:
    """An http(s) URL with a host; anything else is a ``ConfigError`` naming the option."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{option} is not a URL: {url!r} ({exc}).") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            f"{option} must be an http(s) URL such as https://opendata.cbs.nl/ODataFeed/odata. "
            f"Got {url!r}."
        )
    return url


def failure(target: Target, problem: str, url: str) -> FetchError:
    """The classified error of a failed request; the caller raises it (``from`` the cause)."""
    return FetchError(f"{target.describe()}: {problem} ({url}); nothing was written")


@contextmanager
def http_client(options: HttpOptions) -> Iterator[httpx.Client]:
    timeout = httpx.Timeout(options.timeout)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, */*;q=0.5"}
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
        yield client


def _attempt(
    client: httpx.Client, url: str, params: dict[str, str] | None
) -> tuple[httpx.Response | None, str, bool]:
    """One GET: (response, problem, transient). ``problem`` is empty on success."""
    try:
        response = client.get(url, params=params)
    except httpx.TimeoutException as exc:
        return None, f"no answer within the timeout ({type(exc).__name__})", True
    except httpx.TransportError as exc:
        return None, f"cannot reach the server ({type(exc).__name__}: {exc})", True
    if response.status_code >= 400:
        problem = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        return response, problem, response.status_code in TRANSIENT_STATUS
    return response, "", False


def get(
    client: httpx.Client,
    url: str,
    target: Target,
    options: HttpOptions,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """GET ``url``; retries transient failures, raises ``FetchError`` on the last one."""
    tries = options.retries + 1
    for attempt in range(tries):
        response, problem, transient = _attempt(client, url, params)
        if not problem and response is not None:
            return response
        if not transient or attempt == tries - 1:
            shown = str(response.url) if response is not None else _with_params(url, params)
            after = f" after {tries} attempts" if transient and tries > 1 else ""
            raise failure(target, problem + after, shown)
        time.sleep(options.backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _with_params(url: str, params: dict[str, str] | None) -> str:
    return str(httpx.URL(url, params=params)) if params else url


def get_json(
    client: httpx.Client,
    url: str,
    target: Target,
    options: HttpOptions,
    params: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """The JSON object at ``url`` and the URL it came from; a body that is no JSON object is
    a ``FetchError`` naming the target."""
    response = get(client, url, target, options, params)
    try:
        doc = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise failure(target, f"the answer is not JSON ({exc})", str(response.url)) from exc
    if not isinstance(doc, dict):
        raise failure(
            target, f"expected a JSON object, got a JSON {type(doc).__name__}", str(response.url)
        )
    return doc, str(response.url)
