"""Test doubles for the LLM layer, importable from any test module.

``FakeMessagesServer`` is a real HTTP server on 127.0.0.1 that speaks enough of the Anthropic
Messages API (``POST /v1/messages``, JSON and SSE streaming) for the official SDK to talk to it::

    with FakeMessagesServer() as server:
        server.enqueue(FakeReply(status=429, retry_after=0.01), FakeReply(text="Hi"))
        client = get_llm_client(provider="anthropic", api_key="test", base_url=server.base_url)

``ScriptedClient`` is an in-process ``LLMClient`` that answers with queued texts (or raises
queued ``LLMError`` instances) and records every request, for tests of code that calls a model.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flowpilot.llm.types import LLMError, LLMRequest, LLMResult, LLMStream, estimate_tokens

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class FakeReply:
    """One scripted answer of the fake server.

    ``status`` other than 200 answers an Anthropic-style error body. ``retry_after`` (seconds)
    is sent as ``retry-after-ms`` so SDK retries stay fast. ``delay`` sleeps before answering
    (to trigger client timeouts). ``chunks`` splits the streamed text; by default it is split
    on word boundaries.
    """

    text: str = "Hello from the fake Messages API."
    input_tokens: int = 12
    output_tokens: int = 7
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0
    chunks: list[str] | None = None
    stop_reason: str = "end_turn"

    def stream_chunks(self) -> list[str]:
        if self.chunks is not None:
            return self.chunks
        return re.findall(r"\S+\s*|\s+", self.text) or [""]


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


class FakeMessagesServer:
    """A threaded loopback HTTP server implementing ``POST /v1/messages``.

    Replies are served from the queue in order; when it is empty ``default`` answers.
    """

    def __init__(self, default: FakeReply | None = None) -> None:
        self.default = default or FakeReply()
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def enqueue(self, *replies: FakeReply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> FakeMessagesServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMessagesServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _next_reply(self) -> FakeReply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Keep test output quiet."""

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                server.requests.append(
                    RecordedRequest(
                        path=self.path,
                        headers={key.lower(): value for key, value in self.headers.items()},
                        body=body if isinstance(body, dict) else {},
                    )
                )
                if self.path.split("?")[0] != "/v1/messages":
                    self._send_json(404, _error_body(404, "Unknown path"))
                    return
                reply = server._next_reply()
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                try:
                    if reply.status != 200:
                        headers = {}
                        if reply.retry_after is not None:
                            headers["retry-after-ms"] = str(int(reply.retry_after * 1000))
                        message = f"Fake error {reply.status}"
                        self._send_json(reply.status, _error_body(reply.status, message), headers)
                    elif body.get("stream"):
                        self._send_stream(reply, body)
                    else:
                        self._send_json(200, _message_body(reply, body))
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout test); nothing left to answer.
                    pass

            def _send_json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", "req_fake")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, reply: FakeReply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                self.close_connection = True
                for event, data in _stream_events(reply, body):
                    payload = f"event: {event}\ndata: {json.dumps(data)}\n\n"
                    self.wfile.write(payload.encode())
                    self.wfile.flush()

        return Handler


def _error_body(status: int, message: str) -> dict[str, Any]:
    error_type = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _message_body(reply: FakeReply, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_fake_1",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "claude-fake"),
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _stream_events(
    reply: FakeReply, request: dict[str, Any]
) -> Generator[tuple[str, dict[str, Any]], None, None]:
    start = _message_body(reply, request)
    start["content"] = []
    start["stop_reason"] = None
    start["usage"] = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    yield "ping", {"type": "ping"}
    for chunk in reply.stream_chunks():
        yield (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": chunk},
            },
        )
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield "message_stop", {"type": "message_stop"}


class ScriptedClient:
    """An ``LLMClient`` answering from a queue; every request is kept in ``requests``.

    Queue entries are texts or ``LLMError`` instances (raised when their turn comes). ``error``
    makes every call raise it. ``default`` answers once the queue is empty (otherwise an empty
    queue is a test bug and raises ``AssertionError``). ``chunk_delay`` sleeps between streamed
    chunks; ``fail_after_chunks`` raises ``error_mid_stream`` after that many chunks.
    """

    name = "scripted"
    label = "Scripted test assistant"

    def __init__(
        self,
        replies: Iterable[str | LLMError] = (),
        *,
        default: str | None = None,
        error: LLMError | None = None,
        chunk_size: int = 3,
        chunk_delay: float = 0.0,
        fail_after_chunks: int | None = None,
        error_mid_stream: LLMError | None = None,
        model: str = "scripted-model",
    ) -> None:
        self.replies: deque[str | LLMError] = deque(replies)
        self.default = default
        self.error = error
        self.chunk_size = max(1, chunk_size)
        self.chunk_delay = chunk_delay
        self.fail_after_chunks = fail_after_chunks
        self.error_mid_stream = error_mid_stream
        self.model = model
        self.requests: list[LLMRequest] = []
        self._stop = threading.Event()

    def queue(self, *replies: str | LLMError) -> None:
        self.replies.extend(replies)

    def complete(self, request: LLMRequest) -> LLMResult:
        self.requests.append(request)
        return self._result(request, self._next_text())

    def stream(self, request: LLMRequest) -> LLMStream:
        self.requests.append(request)
        return LLMStream(self._stream(request))

    def _stream(self, request: LLMRequest) -> Generator[str, None, LLMResult]:
        text = self._next_text()
        words = re.findall(r"\S+\s*|\s+", text)
        for index in range(0, len(words), self.chunk_size):
            if self.fail_after_chunks is not None and index // self.chunk_size >= (
                self.fail_after_chunks
            ):
                raise self.error_mid_stream or LLMError("Scripted mid-stream failure.")
            if self.chunk_delay and index:
                self._stop.wait(self.chunk_delay)
            yield "".join(words[index : index + self.chunk_size])
        return self._result(request, text)

    def _next_text(self) -> str:
        if self.error is not None:
            raise self.error
        if self.replies:
            reply = self.replies.popleft()
        elif self.default is not None:
            reply = self.default
        else:
            raise AssertionError("ScriptedClient has no reply left for this request.")
        if isinstance(reply, LLMError):
            raise reply
        return reply

    def _result(self, request: LLMRequest, text: str) -> LLMResult:
        prompt = request.system + "".join(message.content for message in request.messages)
        return LLMResult(
            text=text,
            input_tokens=estimate_tokens(prompt),
            output_tokens=estimate_tokens(text),
            model=self.model,
            provider=self.name,
        )
