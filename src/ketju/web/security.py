"""Security headers on every answer: a plain ASGI middleware, so the raw `/sparql` app (and
the static files, the API, the error pages) get them too.

- `Content-Security-Policy`: everything from this origin only; no inline script at all, no
  inline style unless its hash is named (YASGUI's table style, everywhere; the chain
  diagram's `<style>` on its page, see `content_security_policy`); no plugins; no framing
  (`frame-ancestors 'none'`); `<base>` and form targets on this origin. Images may also be
  `data:` URIs (icons inside the stylesheets of YASGUI and Swagger UI).
- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` (for browsers without
  `frame-ancestors`), `Referrer-Policy: strict-origin-when-cross-origin` (a link to another
  site does not carry the page's path or search words).

A route that needs another policy sets its own `Content-Security-Policy` header; the
middleware adds only the headers an answer does not already have.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

#: The `<style>` that YASGUI's result table (its column resizer) adds to the query page at
#: run time, in static/yasgui/yasgui.min.js; tests/test_web_security.py checks that the hash
#: still matches the vendored file.
YASGUI_TABLE_STYLE = "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='"
#: The policy's directives; `style-src` gains the hashes a page names.
DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": f"'self' {YASGUI_TABLE_STYLE}",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def style_hash(css: str) -> str:
    """The CSP source expression that allows one inline `<style>` with exactly this text."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(inline_styles: Iterable[str] = (),
                            **overrides: str) -> str:
    """The policy, allowing these inline `<style>` texts by their hash, with directives
    replaced by `overrides` (`style_src="'self' 'unsafe-inline'"`)."""
    directives = dict(DIRECTIVES)
    hashes = sorted({style_hash(css) for css in inline_styles})
    if hashes:
        directives["style-src"] = " ".join([directives["style-src"], *hashes])
    for name, value in overrides.items():
        directives[name.replace("_", "-")] = value
    return "; ".join(f"{name} {value}" for name, value in directives.items())


POLICY = content_security_policy()
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", POLICY.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


class SecurityHeaders:
    """Adds `HEADERS` to every HTTP answer that does not set them itself."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
