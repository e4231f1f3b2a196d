"""Conditional GET with urllib, redirects handled here so every status code is seen.

`get` sends If-None-Match / If-Modified-Since from the stored validators and follows up to
five redirects itself: the URL a chain of permanent redirects (301/308) ends at is
reported as `moved_to`; a temporary one (302/303/307) is followed without that. 200, 304
and 410 come back as a `Response`; any other outcome raises `FetchError` with a short
reason. Local files (`file://` URLs or plain paths, relative ones against `base_dir`) are
read directly, their modification time standing in for Last-Modified.

`conditional_fetch` turns that into a `FetchResult` for a source that only has to parse
a body: 304 → not modified, 410 → gone, an HTML page or an empty body → a warning.
`HttpFeed` is the shell of a configured feed built on it; a kind of feed adds `kind`,
`accept` and `_parse`.
"""

from __future__ import annotations

import gzip
import http.client
import mimetypes
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from email.utils import formatdate
from pathlib import Path
from typing import ClassVar
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener, url2pathname

from policy_feeds.model import FeedState, FetchResult, Item, Status
from policy_feeds.settings import Feed

__all__ = [
    "FetchError",
    "HttpFeed",
    "ParseError",
    "Response",
    "conditional_fetch",
    "get",
    "is_local",
]

USER_AGENT = "chamberbot/0.1 (policy feeds)"
MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
_PERMANENT = (301, 308)
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The source could not be read: timeout, connection, HTTP error, missing file."""


class ParseError(Exception):
    """The body was read but is not what the source expects."""


@dataclass(frozen=True)
class Response:
    status: int  # 200, 304 or 410
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    url: str = ""  # where the body came from, after redirects
    moved_to: str | None = None


class _NoRedirect(HTTPRedirectHandler):
    """Let 3xx answers surface as HTTPError so that `get` decides what they mean."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = build_opener(_NoRedirect)


def is_local(url: str) -> bool:
    return url.startswith("file:") or "://" not in url


def _local_path(url: str, base_dir: Path | None) -> Path:
    path = Path(url2pathname(urlsplit(url).path)) if url.startswith("file:") else Path(url)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def _get_file(url: str, last_modified: str | None, base_dir: Path | None) -> Response:
    path = _local_path(url, base_dir)
    try:
        stamp = formatdate(path.stat().st_mtime, usegmt=True)
        if last_modified == stamp:
            return Response(304, url=url, last_modified=stamp)
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
    kind = mimetypes.guess_type(path.name)[0] or ""
    return Response(200, body, kind, None, stamp, url)


def _decoded(body: bytes, encoding: str) -> bytes:
    encoding = encoding.lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError) as exc:
        raise FetchError(f"bad {encoding} body: {exc}") from None
    return body


def get(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 20.0,
    accept: str = "*/*",
    base_dir: Path | None = None,
) -> Response:
    if is_local(url):
        return _get_file(url, last_modified, base_dir)
    headers = {"User-Agent": USER_AGENT, "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current, moved, permanent = url, None, True
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with _OPENER.open(Request(current, headers=headers), timeout=timeout) as answer:
                body = answer.read(MAX_BYTES + 1)
                if len(body) > MAX_BYTES:
                    raise FetchError(f"body larger than {MAX_BYTES // 1024 // 1024} MB")
                info = answer.headers
                return Response(
                    200,
                    _decoded(body, info.get("Content-Encoding", "")),
                    info.get("Content-Type", ""),
                    info.get("ETag"),
                    info.get("Last-Modified"),
                    current,
                    moved,
                )
        except HTTPError as exc:
            try:
                code, location = exc.code, exc.headers.get("Location")
                if code == 304:
                    answer_etag = exc.headers.get("ETag")
                    return Response(304, etag=answer_etag, url=current, moved_to=moved)
            finally:
                exc.close()
            if code in _REDIRECTS and location:
                target = urljoin(current, location)
                permanent = permanent and code in _PERMANENT
                moved = target if permanent else moved
                current = target
                continue
            if code == 410:
                return Response(410, url=current, moved_to=moved)
            raise FetchError(f"HTTP {code} {exc.reason}".strip()) from None
        except TimeoutError:
            raise FetchError(f"timed out after {timeout:g} s") from None
        except URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise FetchError(f"timed out after {timeout:g} s") from None
            raise FetchError(f"cannot connect: {exc.reason}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _html_or_empty(body: bytes) -> str | None:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        return "empty body"
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page, not a feed"
    return None


def conditional_fetch(
    state: FeedState,
    *,
    timeout: float,
    accept: str,
    base_dir: Path | None,
    parse: Callable[[Response], tuple[list[Item], list[str]]],
) -> FetchResult:
    """GET with the stored validators and hand a fresh body to `parse` (items, problems)."""
    try:
        answer = get(
            state.url,
            etag=state.etag,
            last_modified=state.last_modified,
            timeout=timeout,
            accept=accept,
            base_dir=base_dir,
        )
    except FetchError as exc:
        return FetchResult(Status.ERROR, message=str(exc))
    if answer.status == 304:
        return FetchResult(
            Status.NOT_MODIFIED,
            etag=answer.etag or state.etag,
            last_modified=answer.last_modified or state.last_modified,
            moved_to=answer.moved_to,
        )
    if answer.status == 410:
        return FetchResult(Status.GONE, moved_to=answer.moved_to, message="HTTP 410 Gone")
    problem = _html_or_empty(answer.body)
    if problem is None:
        try:
            items, problems = parse(answer)
        except ParseError as exc:
            problem = str(exc)
    if problem is not None:
        # Validators are not kept: the next fetch must look at the whole answer again.
        return FetchResult(Status.WARNING, moved_to=answer.moved_to, message=problem)
    return FetchResult(
        Status.OK,
        tuple(items),
        answer.etag,
        answer.last_modified,
        answer.moved_to,
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class HttpFeed:
    """A configured feed fetched with `conditional_fetch`; subclasses parse the body."""

    kind: ClassVar[str]
    accept: ClassVar[str]

    feed: Feed
    tz: tzinfo
    base_dir: Path | None = None

    @property
    def id(self) -> str:
        return self.feed.id

    @property
    def url(self) -> str:
        return self.feed.url

    def fetch(self, state: FeedState) -> FetchResult:
        return conditional_fetch(
            state,
            timeout=self.feed.timeout_seconds,
            accept=self.accept,
            base_dir=self.base_dir,
            parse=self._parse,
        )

    def _parse(self, answer: Response) -> tuple[list[Item], list[str]]:
        raise NotImplementedError
