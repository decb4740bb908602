"""The explorer's FastAPI application: the page, its static files, the run's figures, and a JSON API.

Every request body is a pydantic model, so FastAPI's OpenAPI schema
(``/openapi.json``, browsable at ``/docs``) describes the API and every field
is checked: code lengths equal the latent size, values are finite and
bounded, counts and sizes are capped. A bad request is a 4xx with a message
naming the field; the model runs on the :class:`~vaelab.explore.worker.DecodeWorker`.

Security: files are served only from the package's ``static`` folder and the
run's ``figures`` folder (resolved paths are checked against the folder);
request bodies are capped; with a ``token`` every request must carry it (the
``X-Vaelab-Token`` header, or ``?token=`` for the page itself).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vaelab.errors import VaelabError
from vaelab.explore.session import Explorer
from vaelab.explore.worker import Busy, DecodeWorker

STATIC = Path(__file__).resolve().parent / "static"
#: Largest request body, and largest uploaded image file, in bytes.
MAX_BODY = 1 << 20
MAX_UPLOAD = 512 << 10
MAX_LATENT = 4096
MAX_STEPS = 64
MAX_NEIGHBOURS = 32
FIGURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".svg", ".html", ".csv", ".npy"}
MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
TIMEOUT_S = 30.0

Value = Annotated[float, Field(allow_inf_nan=False, ge=-1e4, le=1e4)]
Code = Annotated[
    list[Value], Field(min_length=1, max_length=MAX_LATENT, description="A latent code, one value per dimension.")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeRequest(Strict):
    code: Code


class SampleRequest(Strict):
    seed: int = Field(0, ge=0, le=2**32 - 1)


class EncodeRequest(Strict):
    index: int = Field(ge=0, description="A test example.")


class InterpolateRequest(Strict):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    steps: int = Field(9, ge=2, le=MAX_STEPS)
    method: Literal["lerp", "slerp"] = "lerp"


class AttributeRequest(Strict):
    source: str = Field(max_length=200)
    target: str = Field(max_length=200)
    strength: float = Field(allow_inf_nan=False, ge=-10.0, le=10.0)
    code: Code


class NeighboursRequest(Strict):
    code: Code
    k: int = Field(6, ge=1, le=MAX_NEIGHBOURS)


class DecodeAnswer(BaseModel):
    output: dict[str, Any] = Field(description='{"image": PNG data URL} for image models, {"row": [values]} for tables')


def safe_file(root: Path, relative: str) -> Path:
    """``root / relative`` if it is a file inside ``root`` (symlinks resolved), else 404."""
    root = root.resolve()
    try:
        path = (root / relative).resolve()
    except (OSError, ValueError):
        raise HTTPException(404, "no such file") from None
    if "\x00" in relative or not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, "no such file")
    return path


class Guard:
    """ASGI middleware: the token check (401), then bodies over ``limit`` bytes refused (413) as they arrive.

    Answers also carry ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``.
    (A plain ASGI class: Starlette's BaseHTTPMiddleware costs milliseconds per request.)
    """

    def __init__(self, app: Any, limit: int, token: str | None) -> None:
        self.app, self.limit, self.token = app, limit, token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self.token is not None and not self._authorized(headers, scope.get("query_string", b"")):
            response = JSONResponse(
                {"detail": "missing or wrong token: open the URL that vaelab explore printed"}, status_code=401
            )
            await response(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(self.limit, scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _too_large(self.limit, scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cache-control", b"no-store"),
                ]
            await send(message)

        await self.app(scope, replay, send_with_headers)

    def _authorized(self, headers: dict[bytes, bytes], query: bytes) -> bool:
        from urllib.parse import parse_qs

        if self.token is None:
            return True
        given = headers.get(b"x-vaelab-token", b"").decode("latin-1")
        if not given:
            given = (parse_qs(query.decode("latin-1")).get("token") or [""])[0]
        return secrets.compare_digest(given.encode(), self.token.encode())


async def _too_large(limit: int, scope: Any, receive: Any, send: Any) -> None:
    response = JSONResponse({"detail": f"request body too large: at most {limit} bytes"}, status_code=413)
    await response(scope, receive, send)


def create_app(
    explorer: Explorer,
    *,
    token: str | None = None,
    figures: Path | None = None,
    title: str = "vaelab explore",
    max_queue: int = 16,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The explorer application for ``explorer``.

    Parameters
    ----------
    token : str, optional
        Required on every request when given (the server sets one for non-loopback hosts).
    figures : Path, optional
        The run's figures folder, served read-only under ``/figures/``.
    max_queue : int
        Requests that may wait for the decoder before new ones get 503.
    max_body : int
        Largest request body in bytes (413 beyond).
    """
    worker = DecodeWorker(max_queue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        worker.close()

    app = FastAPI(
        title=title, description="The latent space of one vaelab run.", version="1", lifespan=lifespan, docs_url=None
    )
    app.state.explorer, app.state.worker, app.state.title = explorer, worker, title

    app.add_middleware(Guard, limit=max_body, token=token)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input, which may hold NaN (not JSON): a 500. Say what and where only.
        detail = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(VaelabError)
    async def bad_input(request: Request, exc: VaelabError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})

    def decode_batch(codes: list[Any]) -> list[dict[str, Any]]:
        return explorer.decode(np.stack(codes))

    async def run(fn: Any, *args: Any) -> Any:
        return await wait(worker.submit(fn, *args))

    async def wait(future: Any) -> Any:
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT_S)
        except asyncio.TimeoutError:
            raise HTTPException(504, f"the decoder took longer than {TIMEOUT_S:g} s") from None

    # -------------------------------------------------------------- the page

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return FileResponse(STATIC / "index.html", media_type=MEDIA[".html"])

    @app.get("/static/{name:path}", include_in_schema=False)
    async def static(name: str) -> Response:
        path = safe_file(STATIC, name)
        return FileResponse(path, media_type=MEDIA.get(path.suffix))

    @app.get("/figures/{name:path}", include_in_schema=False)
    async def figure(name: str) -> Response:
        if figures is None:
            raise HTTPException(404, "this run has no figures folder")
        path = safe_file(figures, name)
        if path.suffix.lower() not in FIGURE_SUFFIXES:
            raise HTTPException(404, "no such file")
        return FileResponse(path)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        # the API's browsable description; behind a token, the page that holds the token passes it on
        schema = "openapi.json" + (f"?token={token}" if token else "")
        return get_swagger_ui_html(openapi_url=schema, title=f"{title}: API")

    # ---------------------------------------------------------------- the API

    @app.get("/api/info", summary="The model: latent size, dimension ranking, slider ranges, classes")
    async def info() -> dict[str, Any]:
        answer = explorer.info()
        answer["title"] = title
        answer["figures"] = sorted(p.name for p in figures.glob("*.png")) if figures and figures.is_dir() else []
        answer["limits"] = {"max_steps": MAX_STEPS, "max_neighbours": MAX_NEIGHBOURS, "max_upload": MAX_UPLOAD}
        return answer

    @app.post("/api/decode", summary="Decode one code", response_model=DecodeAnswer)
    async def decode(body: CodeRequest) -> Response:
        z = explorer.check_code(body.code)
        # the answer is built here and sent as is: the slider's hot path skips FastAPI's response serialization
        future = worker.submit_batch(decode_batch, z)  # coalesced with other clients' waiting codes
        return JSONResponse({"output": await wait(future)})

    @app.post("/api/sample", summary="A seeded code from the prior (or the codes' spread), decoded")
    async def sample(body: SampleRequest) -> dict[str, Any]:
        return await run(explorer.sample, body.seed)

    @app.post("/api/encode", summary="A test example's code, the example and its reconstruction")
    async def encode(body: EncodeRequest) -> dict[str, Any]:
        explorer.check_index(body.index)
        return await run(explorer.encode_index, body.index)

    @app.post("/api/encode_image", summary="Encode an uploaded image of the model's size (PNG, JPEG, ...)")
    async def encode_image(
        file: Annotated[UploadFile, File(description="An image of the model's size.")],
    ) -> dict[str, Any]:
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise HTTPException(413, f"the image file is too large: at most {MAX_UPLOAD} bytes")
        if not data:
            raise HTTPException(422, "the uploaded file is empty")
        x = explorer.read_image(data)
        return await run(explorer.encode_array, x)

    @app.post("/api/interpolate", summary="The decoded path between two test examples")
    async def interpolate(body: InterpolateRequest) -> dict[str, Any]:
        explorer.check_index(body.start, "start")
        explorer.check_index(body.end, "end")
        return await run(explorer.interpolate, body.start, body.end, body.steps, body.method)

    @app.post("/api/attribute", summary="A code moved along a class-to-class attribute vector")
    async def attribute(body: AttributeRequest) -> dict[str, Any]:
        explorer.check_code(body.code)
        explorer.check_classes(body.source, body.target)
        return await run(explorer.attribute, body.source, body.target, body.strength, body.code)

    @app.post("/api/neighbours", summary="The nearest training examples of a code")
    async def neighbours(body: NeighboursRequest) -> dict[str, Any]:
        explorer.check_code(body.code)
        return await run(explorer.neighbours, body.code, body.k)

    @app.get("/api/map", summary="The test codes in 2-D, and the linear map for other codes")
    async def latent_map() -> dict[str, Any]:
        return explorer.latent_map()

    return app
