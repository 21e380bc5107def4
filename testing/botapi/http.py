"""A minimal HTTP/1.1 keep-alive server's parsing and encoding, and the error bodies."""
from __future__ import annotations

import asyncio
import contextvars
import json
import re
from dataclasses import dataclass
from typing import Any

from testing.botapi.records import UploadedFile, _STRING_PARAMS, _bad_request


_NGINX_BODIES = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
}


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    hang: bool = False
    delay: float | None = None


def _decode_param(name: str, raw: str) -> Any:
    """Decode one form value the way PTB encoded it (JSON for non-strings)."""
    if name in _STRING_PARAMS or not raw:
        return raw
    if raw in ("true", "false", "null") or raw[0] in "{[-0123456789":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Minimal ``multipart/form-data`` parser (httpx's output is well-formed)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad_request("multipart boundary missing")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        if not name:
            continue
        filename = re.search(r'(?:^|;)\s*filename="([^"]*)"', disposition)
        if filename is None:
            fields[name.group(1)] = data.decode("utf-8", "replace")
        else:
            files[name.group(1)] = UploadedFile(
                name.group(1), filename.group(1), headers.get("content-type"), data
            )
    return fields, files


def _json_response(status: int, payload: dict[str, Any]) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _error_response(status: int, description: str | None, retry_after: int | None) -> _Response:
    """An error in the Bot API's shape (or nginx's HTML page for 502/503/504)."""
    if status in _NGINX_BODIES and description is None:
        title = f"{status} {_NGINX_BODIES[status]}"
        html = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return _Response(status, html.encode(), content_type="text/html")
    parameters = None
    if status == 429:
        retry_after = retry_after or 1
        description = description or f"Too Many Requests: retry after {retry_after}"
        parameters = {"retry_after": retry_after}
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": status,
        "description": description or _DEFAULT_DESCRIPTIONS.get(status, "Error"),
    }
    if parameters:
        payload["parameters"] = parameters
    return _json_response(status, payload)


_HTTP_REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


_MAX_BODY = 60 * 1024 * 1024


# The reader of the request being served, so a long poll can tell whether its client left.
_current_reader: contextvars.ContextVar[asyncio.StreamReader | None] = contextvars.ContextVar(
    "botapi_double_reader", default=None
)


@dataclass
class _Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one HTTP/1.1 request (Content-Length or chunked body); None at EOF."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):
        line = await reader.readline()
    if not line:
        return None
    method, target, *_ = line.decode("latin-1").split(" ")
    headers: dict[str, str] = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        key, _, value = header.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16):
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        body = b"".join(chunks)
    else:
        length = int(headers.get("content-length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        body = await reader.readexactly(length) if length else b""
    path, _, query = target.partition("?")
    return _Request(method.upper(), path, query, headers, body)


def _encode_response(response: _Response, keep_alive: bool) -> bytes:
    """Status line, headers and body in one buffer (one write, no Nagle stall)."""
    head = (
        f"HTTP/1.1 {response.status} {_HTTP_REASONS.get(response.status, 'Error')}\r\n"
        "Server: botapi-double\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        + ("" if keep_alive else "Connection: close\r\n")
        + "\r\n"
    )
    return head.encode("latin-1") + response.body


async def _wait_for_eof(reader: asyncio.StreamReader) -> None:
    """Hold a request unanswered until the client closes the connection."""
    while await reader.read(65536):
        pass
