"""The review web server: standard-library HTTP on 127.0.0.1, safe against other sites in the same browser.

A page on any other site can make the browser send requests to 127.0.0.1, so the server answers only
requests addressed to its own ``Host`` (which defeats DNS rebinding), accepts writes only as same-origin
JSON POSTs (a cross-site form or ``no-cors`` fetch cannot send ``application/json``, and no CORS
preflight is ever approved), validates every field, and serves images only from the manifest's paths
under the glyph folder::

    server = make_server("output", split="small", reviewer="ana")
    print(server.url)
    server.serve_forever()       # Ctrl-C: KeyboardInterrupt; then server.server_close()
"""

from __future__ import annotations

import errno
import json
import os
import re
import socketserver
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import FontGlyphsError, UsageError
from .assets import APP_CSS, APP_JS, INDEX_HTML
from .session import DEFAULT_PAGE_SIZE, IMAGE_ROUTE, ReviewRequestError, ReviewSession

LOOPBACK = "127.0.0.1"
MAX_BODY = 1 << 20
JSON_TYPE = "application/json"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STATIC = {
    "/": ("text/html; charset=utf-8", INDEX_HTML.encode()),
    "/app.css": ("text/css; charset=utf-8", APP_CSS.encode()),
    "/app.js": ("text/javascript; charset=utf-8", APP_JS.encode()),
}
PAGE_ROUTE = re.compile(r"^/api/page/(\d{1,9})$")
DECISIONS_ROUTE = "/api/decisions"


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"Cache-Control": "no-store"})


def json_response(data: object, status: int = HTTPStatus.OK) -> Response:
    return Response(status, JSON_TYPE, json.dumps(data).encode())


class ReviewHandler(BaseHTTPRequestHandler):
    """Routes: ``/``, ``/app.css``, ``/app.js``, ``/api/page/N``, ``POST /api/decisions``, ``/glyphs/…``."""

    server: ReviewServer
    protocol_version = "HTTP/1.1"  # keep-alive: a page loads about a hundred images
    # Headers and body go out in two writes; with Nagle's algorithm each keep-alive response would then
    # wait for the browser's delayed ACK (about 40 ms), and a page of images would take a second.
    disable_nagle_algorithm = True
    server_version = "fontglyphs-review"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _answer(self, route: Callable[[str], Response]) -> None:
        try:
            path = urllib.parse.urlsplit(self.path).path
            self._check_host()
            if path != "/":  # the page itself may be opened from anywhere, nothing else
                self._check_fetch_site()
            response = route(path)
        except ReviewRequestError as error:
            response = json_response({"error": str(error)}, error.status)
            self.close_connection = True  # an unread request body must not be parsed as the next request
        except (FontGlyphsError, OSError) as error:  # e.g. review.csv cannot be written: tell the page
            response = json_response({"error": str(error)}, HTTPStatus.INTERNAL_SERVER_ERROR)
            self.close_connection = True
        self.send_response(response.status)
        headers = {**SECURITY_HEADERS, **response.headers, "Content-Type": response.content_type}
        headers["Content-Length"] = str(len(response.body))
        if self.close_connection:
            headers["Connection"] = "close"
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _check_host(self) -> None:
        host = (self.headers.get("Host") or "").lower()
        if host not in self.server.allowed_hosts:
            raise ReviewRequestError(f"Host {host!r} is not this server; open {self.server.url}", 403)

    def _check_fetch_site(self) -> None:
        # Browsers say where a request comes from; older ones say nothing, and then Host and CORP protect.
        site = self.headers.get("Sec-Fetch-Site", "same-origin")
        if site not in ("same-origin", "none"):
            raise ReviewRequestError(f"{site} request refused", 403)

    def _get(self, path: str) -> Response:
        if path in STATIC:
            content_type, body = STATIC[path]
            return Response(HTTPStatus.OK, content_type, body)
        if path == "/favicon.ico":
            return Response(HTTPStatus.NO_CONTENT, "image/x-icon", b"")
        match = PAGE_ROUTE.match(path)
        if match:
            return json_response(self.server.session.page_payload(int(match.group(1))))
        if path.startswith(IMAGE_ROUTE):
            image = self.server.session.image_file(urllib.parse.unquote(path[len(IMAGE_ROUTE) :]))
            # URLs carry the pixel hash, so a cached image is never stale.
            return Response(
                HTTPStatus.OK, "image/png", image.read_bytes(), {"Cache-Control": "private, max-age=3600"}
            )
        raise ReviewRequestError(f"no such page {path!r}", 404)

    def _post(self, path: str) -> Response:
        if path != DECISIONS_ROUTE:
            raise ReviewRequestError(f"cannot POST to {path!r}", 404)
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() not in self.server.allowed_origins:
            raise ReviewRequestError(f"cross-site request from {origin!r} refused", 403)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != JSON_TYPE:
            raise ReviewRequestError(f"Content-Type must be {JSON_TYPE}, got {content_type or 'none'!r}", 415)
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            raise ReviewRequestError("a Content-Length is required", 411)
        if int(length) > MAX_BODY:
            raise ReviewRequestError(f"request body over {MAX_BODY} bytes", 413)
        try:
            body = json.loads(self.rfile.read(int(length)))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ReviewRequestError(f"request body is not JSON ({error})") from None
        return json_response(self.server.session.apply(body))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # A page is a hundred image requests; log only the refusals.
        if isinstance(code, int) and code >= 400:
            super().log_request(code, size)


class ReviewServer(ThreadingHTTPServer):
    """A loopback-only server around one :class:`ReviewSession`; ``port=0`` picks a free port."""

    daemon_threads = True

    def __init__(self, session: ReviewSession, port: int = 0) -> None:
        self.session = session
        super().__init__((LOOPBACK, port), ReviewHandler)
        self.port = self.server_address[1]
        self.url = f"http://{LOOPBACK}:{self.port}/"
        self.allowed_hosts = {f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"}
        self.allowed_origins = {f"http://{host}" for host in self.allowed_hosts}

    def handle_error(self, request, client_address) -> None:
        # A closed tab or browser resets its keep-alive connections: normal, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def make_server(
    output_dir: str | os.PathLike,
    *,
    port: int = 0,
    split: str = "small",
    reviewer: str = "",
    by: str = "font",
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ReviewServer:
    """Load the review session for ``output_dir`` and bind it to 127.0.0.1:``port`` (0: any free port)."""
    session = ReviewSession.load(output_dir, split, reviewer=reviewer, by=by, page_size=page_size)
    try:
        return ReviewServer(session, port)
    except OSError as error:
        reason = "already in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise UsageError(f"--port {port}: cannot listen on {LOOPBACK}:{port} ({reason})") from None
