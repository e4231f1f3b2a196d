"""When two policies are the same one: canonical URLs and normalised titles."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from bot.normalize import normalize

__all__ = ["canonical_url", "squash"]

# Query parameters that only say where a click came from (WeChat shares, analytics).
TRACKING = frozenset(
    {
        "spm",
        "from",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "sessionid",
        "chksm",
        "wxfrom",
        "share_token",
        "sharer_shareid",
        "sharer_sharetime",
        "fbclid",
        "gclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
    }
)
_SAFE_PATH = "/:@!$&'()*+,;=-._~"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NON_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, spaces: everything not a letter or digit


def squash(text: str) -> str:
    """normalize() (NFKC, Traditional → Simplified, lower case) minus punctuation and spaces.

    `关于《促进民营经济发展》的若干措施 ` and `关于促进民营經濟發展的若干措施` squash alike.
    """
    return _NON_WORD.sub("", normalize(text))


def _tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in TRACKING


def canonical_url(url: str) -> str:
    """The identity of a URL: what differs only in spelling maps to the same string.

    Lower-case scheme and host, http and https alike, default port, fragment, trailing
    slash and tracking parameters (utm_*, spm, from, …) dropped, the query sorted and
    percent-encoding made uniform. An empty URL stays empty (it identifies nothing).
    """
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query, ""))
    host = (parts.hostname or "").rstrip(".")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_SAFE_PATH).rstrip("/")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(sorted((k, v) for k, v in pairs if not _tracking(k)))
    return urlunsplit(("https", netloc, path, query, ""))
