"""The local engine's HTTP server: an OpenAI-compatible image-edit API on loopback.

Routes: ``POST /v1/images/edits`` and ``POST /v1/image/edits`` (the same endpoint),
``GET /v1/models``, ``GET /v1/models/{id}`` and ``GET /health``. See README ("The local
engine") for what it does and does not do.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from functools import partial
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.core.events import ERROR_TYPE, ImageEvent, stream_payload
from app.core.providers import LOCAL_VARIANT_HEADER
from app.core.schema import Schema, load_schema
from app.engine.admission import Admission, Admit
from app.engine.connections import ConnectionGuard, GuardedH11Protocol
from app.engine.deadlines import BodyDeadline
from app.engine.errors import EngineError
from app.engine.guards import ACCEPT_BATCH, Guards, raise_open_file_limit
from app.engine.job import Edit, edit_events, local_models, prepare_edit
from app.engine.memory import IdleTrim
from app.engine.middleware import BearerAuth, LocalOnly, RequestId, failure
from app.engine.runner import WorkRunner
from app.engine.strict import ascii_int, check_numbers
from app.engine.upload import Limits, read_upload
from app.engine.variants import VARIANTS

EDIT_PATHS = ("/v1/images/edits", "/v1/image/edits")
MODEL_CREATED = 1735689600  # 2025-01-01: the models are part of the program, not dated
OWNER = "retouch-studio"
KEEPALIVE = b": keep-alive\n\n"
VARIANT_HEADER = LOCAL_VARIANT_HEADER.lower()
"""Optional request header: the variant index of the request's first image (default 0).
A client that splits ``n`` streamed variants into ``n`` requests of ``n=1`` sends 0, 1, ...
so that they differ as the variants of one request do."""
log = logging.getLogger(__name__)


def create_app(
    *,
    token: str | None = None,
    schema: Schema | None = None,
    limits: Limits | None = None,
    keepalive_seconds: float = 1.0,
    threads: int | None = None,
    guards: Guards | None = None,
    bound_host: str | None = None,
) -> Starlette:
    """The engine as an ASGI app. ``token``: require ``Authorization: Bearer <token>`` on
    every route but /health (``retouch serve`` always has one unless told --no-token).
    ``limits``: upload limits (default: from the schema). ``guards``: connections, deadlines
    and admission (``uvicorn_config`` applies the connection part). ``bound_host``: the
    address the engine listens on, accepted as a Host besides the loopback names."""
    schema = schema or load_schema()
    limits = limits or Limits.for_schema(schema)
    guards = guards or Guards()
    runner = WorkRunner(threads=threads, keepalive=keepalive_seconds)
    trim = IdleTrim(busy=lambda: admission.stats.active or admission.stats.queued)
    admission = Admission(
        slots=guards.max_work or runner.threads,
        queue=guards.max_queue,
        budget=guards.max_inflight_bytes or limits.max_request_bytes,
        on_idle=trim.soon,
    )
    connections = ConnectionGuard(guards.header_timeout)
    endpoints = _Endpoints(schema, limits, runner, admission, connections)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        runner.close()

    routes = [
        Route("/health", endpoints.health, methods=["GET"]),
        Route("/v1/models", endpoints.models, methods=["GET"]),
        Route("/v1/models/{model:path}", endpoints.model, methods=["GET"]),
        *(Route(path, endpoints.edit, methods=["POST"]) for path in EDIT_PATHS),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestId),  # outermost: every answer, even a refusal, has an id
            Middleware(LocalOnly, bound_host=bound_host),
            Middleware(BearerAuth, token=token),
            Middleware(BodyDeadline, guards=guards),
            Middleware(
                Admit, admission=admission, paths=EDIT_PATHS, largest=limits.max_request_bytes
            ),
        ],
        exception_handlers={EngineError: _engine_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.guards = guards
    app.state.connections = connections
    app.state.admission = admission
    return app


class _Endpoints:
    def __init__(
        self,
        schema: Schema,
        limits: Limits,
        runner: WorkRunner,
        admission: Admission,
        connections: ConnectionGuard,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.runner = runner
        self.admission = admission
        self.connections = connections

    async def health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "models": list(local_models(self.schema)),
                "work": self.runner.stats.to_json(),
                "admission": self.admission.to_json(),
                "connections": self.connections.to_json(),
            }
        )

    async def models(self, request: Request) -> Response:
        data = [_model_card(name) for name in local_models(self.schema)]
        return JSONResponse({"object": "list", "data": data})

    async def model(self, request: Request) -> Response:
        name = request.path_params["model"]
        if name not in local_models(self.schema):
            raise EngineError(
                404,
                f"The model {name!r} does not exist on the local engine; GET /v1/models "
                "lists the ones it has.",
                param="model",
                code="model_not_found",
            )
        return JSONResponse(_model_card(name))

    async def edit(self, request: Request) -> Response:
        created = int(time.time())
        first_variant = _first_variant(request.headers.get(VARIANT_HEADER))
        try:
            upload = await read_upload(request, self.limits)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening any more
        try:
            check_numbers(upload.texts, self.schema)
            edit = await self.runner.call(prepare_edit, upload, self.schema, first_variant)
        finally:
            upload.close()  # the decoded pixels are all that is needed from here on
        if edit.stream:
            return StreamingResponse(
                self._event_stream(edit, created, request.state.request_id),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        return await self._json(request, edit, created)

    async def _json(self, request: Request, edit: Edit, created: int) -> Response:
        # The work and a watch for the client leaving race: a client that leaves stops the
        # work at once (PatchMatch's child is killed), not at the next keep-alive tick.
        work = asyncio.ensure_future(self._collect(edit))
        gone = asyncio.ensure_future(_until_disconnect(request))
        try:
            await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                return Response(status_code=400)  # nobody is there to read it
            images = work.result()
        finally:
            gone.cancel()
            await asyncio.gather(gone, return_exceptions=True)
        body = await self.runner.call(_response_body, edit, created, images)
        return Response(body, media_type="application/json")

    async def _collect(self, edit: Edit) -> list[bytes]:
        images: list[bytes] = []
        steps = [map(_b64, events) for events in edit_events(edit)]
        async with aclosing(self.runner.iterate(steps, ahead=self.runner.threads)) as items:
            async for item in items:
                if item is not None:
                    images.append(item)
        return images

    async def _event_stream(
        self, edit: Edit, created: int, request_id: str
    ) -> AsyncIterator[bytes]:
        steps = [map(partial(_sse, edit=edit, created=created), e) for e in edit_events(edit)]
        async with aclosing(self.runner.iterate(steps, ahead=self.runner.threads)) as items:
            try:
                async for item in items:
                    yield KEEPALIVE if item is None else item
            except Exception:  # the status line is gone: report in the stream
                log.exception("request %s failed during its stream", request_id)
                info = failure(request_id).info
                yield _sse_line(ERROR_TYPE, {"type": ERROR_TYPE, **info.to_json()})


async def _until_disconnect(request: Request) -> None:
    """Return when the client closes its connection (the body is read by now, so the next
    message can only be the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _first_variant(header: str | None) -> int:
    if header is None:
        return 0
    number = ascii_int(header, signed=False)
    if number is None or number >= len(VARIANTS):
        raise EngineError(
            400,
            f"The {VARIANT_HEADER} header is {header[:40]!r}; send a variant number from 0 "
            f"to {len(VARIANTS) - 1} (digits 0-9), or leave it out.",
            code="invalid_value",
        )
    return number


def _model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": OWNER}


def _b64(event: ImageEvent) -> bytes:
    return base64.b64encode(event.data)


def _sse(event: ImageEvent, edit: Edit, created: int) -> bytes:
    payload = stream_payload(
        event, created_at=created, quality=edit.quality, background=edit.background
    )
    return _sse_line(payload["type"], payload)


def _sse_line(kind: str, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n".encode()


def _response_body(edit: Edit, created: int, images: list[bytes]) -> bytes:
    """The JSON body. The base64 images (megabytes each at 4K) are spliced in as bytes:
    their alphabet needs no JSON escaping, and json.dumps would scan and copy them twice."""
    rest = json.dumps(
        {
            "background": edit.background,
            "output_format": edit.output_format,
            "quality": edit.quality,
            "size": edit.size_text,
            "usage": edit.total_usage().to_json(),
        },
        separators=(",", ":"),
    ).encode()
    data = b",".join(b'{"b64_json":"' + image + b'"}' for image in images)
    return b"".join((b'{"created":%d,"data":[' % created, data, b"],", rest[1:]))


async def _engine_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EngineError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = (
            f"Unknown path {request.url.path}; the engine serves POST /v1/images/edits, "
            "GET /v1/models and GET /health."
        )
        code = "not_found"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
        code = "method_not_allowed"
    else:
        message, code = str(exc.detail), None
    return EngineError(exc.status_code, message, code=code).response()


# --- serving -------------------------------------------------------------------------------


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free one). Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=ACCEPT_BATCH)


def engine_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_config(app: Starlette, *, log_config: Any = uvicorn.config.LOGGING_CONFIG) -> Any:
    """How uvicorn serves ``app``: with the connection cap and head deadline of its guards
    (connections.py says why uvicorn's own settings do not do it), over h11."""
    connections: ConnectionGuard = app.state.connections
    guards: Guards = app.state.guards
    connections.cap = guards.connection_cap(work=app.state.admission.slots)
    return uvicorn.Config(
        app,
        http=partial(GuardedH11Protocol, guard=connections),
        backlog=ACCEPT_BATCH,
        log_config=log_config,
        log_level="warning",
        access_log=False,  # a parent that does not read our output must never block us
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=3,
    )


class _AnnouncingServer(uvicorn.Server):
    """Prints the URL once the socket serves, as the first line on stdout (the editor and
    scripts read it), then ``notes``, one a line."""

    def __init__(self, config: uvicorn.Config, url: str, notes: tuple[str, ...] = ()) -> None:
        super().__init__(config)
        self.url = url
        self.notes = notes

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            lines = [f"Retouch engine listening on {self.url}", *self.notes]
            print("\n".join(lines), flush=True)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    *,
    exit_with_stdin: bool = False,
    guards: Guards | None = None,
    notes: tuple[str, ...] = (),
) -> int:
    """Run the engine until Ctrl+C or SIGTERM; the exit code (0 after a normal stop).
    ``notes``: lines printed after the URL line (the token that was made, for one).

    With ``exit_with_stdin`` the engine also stops when its standard input reaches end of
    file: a parent that starts it as a child keeps that pipe open, so the engine goes away
    with the parent even when the parent is killed and could not stop it."""
    raise_open_file_limit()  # before the connection cap is set from it
    try:
        sock = listen(host, port)
    except OSError as exc:
        print(
            f"retouch serve: cannot listen on {host}:{port} ({exc.strerror or exc}); choose "
            "another --port, or --port 0 for a free one.",
            file=sys.stderr,
        )
        return 1
    app = create_app(token=token, guards=guards, bound_host=host)
    server = _AnnouncingServer(uvicorn_config(app), engine_url(sock), notes)
    if exit_with_stdin:
        threading.Thread(target=_stop_at_eof, args=(server,), daemon=True).start()
    quiet_term = threading.current_thread() is threading.main_thread()
    if quiet_term:
        # uvicorn re-raises the signal that stopped it; a SIGTERM is a normal stop here.
        previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if quiet_term:
            signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


def _stop_at_eof(server: uvicorn.Server) -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    server.should_exit = True
