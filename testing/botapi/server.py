"""The double's server side: lifecycle and request dispatch."""
from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from testing.botapi.http import _DEFAULT_DESCRIPTIONS, _NGINX_BODIES, _Response, _current_reader, _decode_param, _encode_response, _error_response, _json_response, _parse_multipart, _read_request, _wait_for_eof
from testing.botapi.records import ApiError, Call, _bad_request, _coerce_chat_id

if TYPE_CHECKING:
    from testing.botapi.double import BotApiDouble
    from testing.botapi.records import Fault, UploadedFile


class ServerMixin:
    """The HTTP server: start/stop, the event loop thread, routing a request to a method.

    A part of :class:`~testing.botapi.double.BotApiDouble`, which holds the state it uses.
    """

    @property
    def port(self) -> int:
        """The TCP port (known after :meth:`start`)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` / ``TELEGRAM_BASE_URL`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (file downloads are not served)."""
        return f"{self.url}/file/bot"

    def start(self) -> BotApiDouble:
        """Bind (a random free port the first time, the same port on restart) and serve
        from an asyncio loop in a background thread."""
        if self._thread is not None:
            return self
        self._stopping.clear()
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run_loop, args=(ready, failure), name="botapi-double", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving: connections are closed, long polls and hung requests released.

        State (messages, calls, queued updates) is kept, so ``stop(); start()`` simulates
        an API outage on the same port.
        """
        thread, loop, shutdown = self._thread, self._loop, self._shutdown
        if thread is None or loop is None or shutdown is None:
            return
        self._stopping.set()
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(shutdown.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._shutdown = None

    def _run_loop(self, ready: threading.Event, failure: list[BaseException]) -> None:
        try:
            asyncio.run(self._main(ready))
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            failure.append(exc)
            ready.set()

    async def _main(self, ready: threading.Event) -> None:
        """Server coroutine: accept connections until stop()."""
        self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        server = await asyncio.start_server(
            self._handle_connection, self.host, self._port, backlog=2048, reuse_address=True
        )
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._shutdown.wait()
            server.close()
            self._wake_pollers()
            for writer in list(self._connections):
                writer.close()
            await asyncio.sleep(0)

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve keep-alive requests on one connection until it closes."""
        self._connections.add(writer)
        _current_reader.set(reader)
        try:
            while not self._stopping.is_set():
                request = await _read_request(reader)
                if request is None:
                    break
                response = await self._serve(
                    request.path, request.query, request.headers.get("content-type", ""),
                    request.body,
                )
                if response.hang:
                    await _wait_for_eof(reader)
                    break
                if response.delay:
                    await asyncio.sleep(response.delay)
                writer.write(_encode_response(response, request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def _wake_pollers(self) -> None:
        """Wake every waiting getUpdates (call on the loop thread)."""
        for event in list(self._poll_events):
            event.set()

    def _wake_pollers_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and self._poll_events:
            with contextlib.suppress(RuntimeError):  # loop closing
                loop.call_soon_threadsafe(self._wake_pollers)

    def __enter__(self) -> BotApiDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def register_method(
        self, name: str, handler: Callable[[dict[str, Any], dict[str, UploadedFile]], Any]
    ) -> None:
        """Serve an extra method: ``handler(params, files)`` returns the ``result``
        or raises :class:`ApiError`."""
        self._extra_methods[name.lower()] = handler


    async def _serve(self, path: str, query: str, content_type: str, body: bytes) -> _Response:
        """Handle one HTTP request (on the server loop)."""
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return _error_response(404, "Not Found", None)
        token, method_name = parts[0][3:], parts[1]
        try:
            params, files = self._decode_request(query, content_type, body)
        except ApiError as exc:
            params, files = {"_raw": body[:2000].decode("utf-8", "replace")}, {}
            call = self._record_call(method_name, params, files)
            return self._finish(call, error=exc)
        call = self._record_call(method_name, params, files)
        if token != self.token:
            return self._finish(call, error=ApiError(401, "Unauthorized"))
        key = method_name.lower()
        chat_id = _coerce_chat_id(params.get("chat_id"))
        fault = self._take_fault(key, chat_id if isinstance(chat_id, int) else None)
        if fault is not None and not fault.applied:
            if fault.hang:
                self._finish(call, status=0, error="hang (no answer)")
                return _Response(0, b"", hang=True)
            response = self._fault_response(call, fault)
            response.delay = fault.delay
            return response
        response = await self._execute(call, key, params, files, chat_id)
        if fault is not None:
            if fault.hang:
                with self._lock:
                    call.error = "hang (applied, no answer)"
                return _Response(0, b"", hang=True)
            if fault.status is not None:
                response = self._fault_response(call, fault)
            response.delay = fault.delay
        return response

    def _decode_request(
        self, query: str, content_type: str, body: bytes
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        """Decode query string + body (urlencoded, multipart or JSON) into params/files."""
        raw: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        ctype = content_type.lower()
        if ctype.startswith("multipart/form-data"):
            fields, files = _parse_multipart(body, content_type)
            raw.update(fields)
        elif ctype.startswith("application/json") and body:
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _bad_request("invalid JSON body") from exc
            params = {k: _decode_param(k, v) if isinstance(v, str) else v for k, v in raw.items()}
            params.update(decoded)
            return params, files
        elif body:
            raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return {k: _decode_param(k, v) for k, v in raw.items()}, files

    async def _execute(
        self,
        call: Call,
        key: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        chat_id: int | str | None,
    ) -> _Response:
        """Run the method implementation and finish the call record."""
        handler = self._extra_methods.get(key) or self._methods.get(key)
        if handler is None:
            return self._finish(call, error=ApiError(404, "Not Found"))
        try:
            if isinstance(chat_id, int) and chat_id in self._blocked and key != "getchat":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if handler == self._m_get_updates:
                result = await self._m_get_updates(params, files)
            else:
                result = handler(params, files)
        except ApiError as exc:
            return self._finish(call, error=exc)
        except Exception as exc:  # noqa: BLE001 - a bug in the double or a custom method
            return self._finish(call, error=ApiError(500, f"Internal Server Error: {exc!r}"))
        return self._finish(call, result=result)

    def _record_call(self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> Call:
        with self._lock:
            call = Call(self._next_seq(), method, params, files, time.monotonic())
            self._calls.append(call)
        return call

    def _finish(
        self,
        call: Call,
        *,
        result: Any = None,
        error: ApiError | str | None = None,
        status: int | None = None,
    ) -> _Response:
        """Store the outcome of ``call``, wake waiters and build the HTTP answer."""
        if isinstance(error, ApiError):
            response = _error_response(error.status, error.description, None)
            if error.parameters:
                payload = json.loads(response.body)
                payload["parameters"] = error.parameters
                response = _json_response(error.status, payload)
            status, description = error.status, error.description
        elif error is not None:
            response, description = _Response(0, b""), error
        else:
            response = _json_response(200, {"ok": True, "result": result})
            status, description = 200, None
        with self._lock:
            call.status, call.result, call.error = status, result, description
            call.done_at = time.monotonic()
            self._changed_cv.notify_all()
        self._emit("call", call)
        return response

    def _fault_response(self, call: Call, fault: Fault) -> _Response:
        status = fault.status or 500
        response = _error_response(status, fault.description, fault.retry_after)
        description = fault.description or (
            f"Too Many Requests: retry after {fault.retry_after or 1}"
            if status == 429
            else _DEFAULT_DESCRIPTIONS.get(status, _NGINX_BODIES.get(status, "Error"))
        )
        with self._lock:
            call.status, call.error, call.done_at = status, description, time.monotonic()
            self._changed_cv.notify_all()
        self._emit("call", call)
        return response

    def _take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        """Find and consume the first matching fault rule."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, chat_id):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def _next_seq(self) -> int:
        self._last_seq = next(self._seq)
        return self._last_seq

    def _emit(self, kind: str, payload: Any) -> None:
        """Notify listeners (outside the lock)."""
        for listener in list(self._listeners):
            listener(kind, payload)
