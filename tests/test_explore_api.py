"""The explorer's JSON API through FastAPI's in-process TestClient: answers, and every bad request."""

from __future__ import annotations

import base64
import io
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the explore extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="httpx (the test extra) is not installed")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from vaelab import PCA, VAE, latent  # noqa: E402
from vaelab.explore.app import MAX_UPLOAD, create_app  # noqa: E402
from vaelab.explore.session import Explorer  # noqa: E402
from vaelab.explore.worker import Busy, DecodeWorker  # noqa: E402


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from vaelab.data import load_digits

    x, y = load_digits()
    return x[:300].astype(np.float32) / 16.0, y[:300]


@pytest.fixture(scope="module")
def vae_explorer(digits: tuple[np.ndarray, np.ndarray]) -> Explorer:
    x, y = digits
    vae = VAE(
        latent_dim=3, epochs=1, network={"kind": "mlp", "hidden_dims": [16]}, likelihood="gaussian", device="cpu"
    ).fit(x[:200])
    return Explorer(vae, x[200:], y[200:], x[:200], y[:200])


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    (root / "figures").mkdir()
    Image.new("L", (4, 4)).save(root / "figures" / "samples.png")
    (root / "secret.txt").write_text("not for the web")
    (root / "figures" / "notes.txt").write_text("not a figure")
    return root / "figures"


@pytest.fixture(scope="module")
def client(vae_explorer: Explorer, figures: Path) -> TestClient:
    with TestClient(create_app(vae_explorer, figures=figures, title="t")) as c:
        yield c


def png_array(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def test_info_and_openapi(client: TestClient, vae_explorer: Explorer) -> None:
    info = client.get("/api/info").json()
    assert (
        info["latent_dim"] == 3
        and info["kind"] == "image"
        and info["image"] == {"height": 8, "width": 8, "channels": 1}
    )
    assert info["measure"] == "kl" and sorted(info["order"]) == [0, 1, 2]
    assert info["classes"] == [str(c) for c in range(10)] and info["figures"] == ["samples.png"]
    scores = np.asarray(info["scores"])
    assert list(info["order"]) == list(np.argsort(-scores, kind="stable"))
    schema = client.get("/openapi.json").json()
    assert {
        "/api/decode",
        "/api/sample",
        "/api/encode",
        "/api/encode_image",
        "/api/interpolate",
        "/api/attribute",
        "/api/neighbours",
        "/api/map",
        "/api/info",
    } <= set(schema["paths"])


def test_decode_matches_the_library(client: TestClient, vae_explorer: Explorer) -> None:
    code = [0.5, -1.0, 2.0]
    picture = png_array(client.post("/api/decode", json={"code": code}).json()["output"]["image"])
    expected = latent.decode(vae_explorer.estimator, np.array([code]))[0]
    assert picture.shape == (8, 8)
    assert np.abs(picture.astype(float) - np.round(np.clip(expected, 0, 1) * 255)).max() <= 1


def test_sample_encode_interpolate_attribute_neighbours_map(client: TestClient, vae_explorer: Explorer) -> None:
    a, b = client.post("/api/sample", json={"seed": 3}).json(), client.post("/api/sample", json={"seed": 3}).json()
    assert a["code"] == b["code"] and len(a["code"]) == 3  # seeded
    enc = client.post("/api/encode", json={"index": 4}).json()
    assert np.allclose(enc["code"], vae_explorer.z_test[4]) and enc["label"] == str(vae_explorer.y_test[4])
    path = client.post("/api/interpolate", json={"start": 0, "end": 1, "steps": 5, "method": "slerp"}).json()
    assert len(path["outputs"]) == 5 and np.allclose(
        path["codes"], latent.slerp(vae_explorer.z_test[0], vae_explorer.z_test[1], 5)
    )
    moved = client.post(
        "/api/attribute", json={"source": "3", "target": "8", "strength": 1.0, "code": enc["code"]}
    ).json()
    vector = latent.attribute_from_labels(vae_explorer.estimator, vae_explorer.x_train, vae_explorer.y_train, 3, 8)
    assert np.allclose(moved["code"], np.asarray(enc["code"]) + vector.vector)
    assert moved["vector"]["source_count"] == int((vae_explorer.y_train == 3).sum())
    near = client.post("/api/neighbours", json={"code": vae_explorer.z_train[7].tolist(), "k": 3}).json()
    assert near["indices"][0] == 7 and near["distances"][0] < 1e-6 and len(near["outputs"]) == 3
    mapped = client.get("/api/map").json()
    assert len(mapped["points"]) == 100 and "PCA projection of the 3-D" in mapped["about"]
    projected = (np.asarray(enc["code"]) - mapped["mean"]) @ np.asarray(mapped["axes"]).T
    assert np.allclose(projected, mapped["points"][4], atol=1e-4)


def png_file(size: tuple[int, int], mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 128).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_an_image_of_the_model_size(client: TestClient, vae_explorer: Explorer) -> None:
    answer = client.post("/api/encode_image", files={"file": ("x.png", png_file((8, 8)), "image/png")}).json()
    expected = latent.codes(vae_explorer.estimator, np.full((1, 8, 8), 128 / 255, dtype=np.float32))[0]
    assert np.allclose(answer["code"], expected, atol=1e-5)


BAD = [
    ("/api/decode", {"code": [0.0, 1.0]}, 422, "must hold 3 values (the latent size), got 2"),
    ("/api/decode", {"code": []}, 422, "at least 1 item"),
    ("/api/decode", {"code": ["a", 0, 0]}, 422, "valid number"),
    ("/api/decode", {"code": [1e9, 0, 0]}, 422, "less than or equal to 10000"),
    ("/api/decode", {"code": [0, 0, 0], "extra": 1}, 422, "Extra inputs are not permitted"),
    ("/api/decode", {}, 422, "Field required"),
    ("/api/decode", {"code": [0.0] * 5000}, 422, "at most 4096 items"),
    ("/api/sample", {"seed": -1}, 422, "greater than or equal to 0"),
    ("/api/encode", {"index": 100}, 422, "index must be a test example in 0..99, got 100"),
    ("/api/encode", {"index": "x"}, 422, "valid integer"),
    ("/api/interpolate", {"start": 0, "end": 1, "steps": 1000}, 422, "less than or equal to 64"),
    ("/api/interpolate", {"start": 0, "end": 1, "steps": 1}, 422, "greater than or equal to 2"),
    ("/api/interpolate", {"start": 0, "end": 1, "method": "cubic"}, 422, "'lerp' or 'slerp'"),
    ("/api/interpolate", {"start": 0, "end": 999}, 422, "end must be a test example"),
    (
        "/api/attribute",
        {"source": "3", "target": "x", "strength": 1, "code": [0, 0, 0]},
        422,
        "target must be one of the classes",
    ),
    (
        "/api/attribute",
        {"source": "3", "target": "8", "strength": 99, "code": [0, 0, 0]},
        422,
        "less than or equal to 10",
    ),
    ("/api/attribute", {"source": "3", "target": "8", "strength": 1, "code": [0]}, 422, "must hold 3 values"),
    ("/api/neighbours", {"code": [0, 0, 0], "k": 0}, 422, "greater than or equal to 1"),
    ("/api/neighbours", {"code": [0, 0, 0], "k": 1000}, 422, "less than or equal to 32"),
]


@pytest.mark.parametrize(("path", "body", "status", "message"), BAD)
def test_bad_requests_are_4xx_with_a_clear_message(
    client: TestClient, path: str, body: dict, status: int, message: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert message in response.text


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_values_are_refused(client: TestClient, literal: str) -> None:
    response = client.post(
        "/api/decode", content=f'{{"code": [{literal}, 0, 0]}}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and "finite number" in response.text


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    response = client.post("/api/decode", content="{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON decode error" in response.text
    big = b'{"code": [' + b"0," * 600_000 + b"0]}"
    response = client.post("/api/decode", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "request body too large" in response.text

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b" " * 65536

    response = client.post("/api/decode", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"definitely not an image", 422, "not a readable image"),
        (png_file((9, 8)), 422, "must be 8x8 pixels (the model's size), got 9x8"),
        (b"", 422, "empty"),
        (png_file((8, 8))[:40], 422, "not a readable image"),
        (b"\x89PNG" + b"\0" * (MAX_UPLOAD + 10), 413, "too large"),
    ],
)
def test_bad_uploads(client: TestClient, data: bytes, status: int, message: str) -> None:
    response = client.post("/api/encode_image", files={"file": ("x.png", data, "image/png")})
    assert response.status_code == status, response.text
    assert message in response.text


def test_upload_without_a_file_is_422(client: TestClient) -> None:
    assert client.post("/api/encode_image").status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fserialization.py",
        "/static//etc/passwd",
        "/figures/../secret.txt",
        "/figures/%2e%2e/secret.txt",
        "/figures/..%2fsecret.txt",
        "/figures/notes.txt",
        "/figures/%00samples.png",
        "/static/",
    ],
)
def test_no_file_outside_the_static_folder_and_figures(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "not for the web" not in response.text and "import" not in response.text


def test_the_page_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "static/app.js" in page.text
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/figures/samples.png").headers["content-type"] == "image/png"


def test_token_is_required_when_set(vae_explorer: Explorer) -> None:
    with TestClient(create_app(vae_explorer, token="s3cret")) as c:
        assert c.get("/api/info").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/info", headers={"X-Vaelab-Token": "wrong"}).status_code == 401
        assert c.get("/api/info", headers={"X-Vaelab-Token": "s3cret"}).status_code == 200
        assert c.get("/?token=s3cret").status_code == 200
        assert c.get("/openapi.json").status_code == 401
        assert "openapi.json?token=s3cret" in c.get("/docs?token=s3cret").text
        assert c.get("/openapi.json?token=s3cret").json()["info"]["title"] == "vaelab explore"


def occupy(worker: DecodeWorker) -> threading.Event:
    """Make the worker busy with one job and fill its queue of one; set the returned event to free it."""
    started, gate = threading.Event(), threading.Event()
    worker.submit(lambda: (started.set(), gate.wait()))
    assert started.wait(10)
    worker.submit(lambda: None)
    return gate


def test_a_full_queue_answers_503_at_once(vae_explorer: Explorer) -> None:
    app = create_app(vae_explorer, max_queue=1)
    with TestClient(app) as c:
        gate = occupy(app.state.worker)
        response = c.post("/api/decode", json={"code": [0, 0, 0]})
        gate.set()
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert "busy" in response.json()["detail"]
        app.state.worker.wait_idle()
        assert c.post("/api/decode", json={"code": [0, 0, 0]}).status_code == 200  # free again
    worker = DecodeWorker(1)
    gate = occupy(worker)
    with pytest.raises(Busy, match="1 requests waiting"):
        worker.submit(lambda: None)
    gate.set()
    worker.close()


def test_a_model_of_table_rows_answers_rows_with_column_names() -> None:
    x = np.random.default_rng(0).normal(size=(80, 5))
    pca = PCA(latent_dim=2).fit(x)
    explorer = Explorer(pca, x[60:], None, x[:60], columns=["age", "income", "hours", "score", "tenure"])
    with TestClient(create_app(explorer)) as c:
        info = c.get("/api/info").json()
        assert info["kind"] == "table" and info["columns"][0] == "age" and info["classes"] == []
        assert info["measure"] == "variance"
        row = c.post("/api/decode", json={"code": [1.0, -1.0]}).json()["output"]["row"]
        assert np.allclose(row, pca.inverse_transform(np.array([[1.0, -1.0]]))[0], atol=1e-6)
        assert (
            c.post("/api/attribute", json={"source": "a", "target": "b", "strength": 1, "code": [0, 0]}).status_code
            == 422
        )
        response = c.post("/api/encode_image", files={"file": ("x.png", png_file((8, 8)), "image/png")})
        assert response.status_code == 422 and "table rows, not images" in response.text
        assert "own 2-D latent space" in c.get("/api/map").json()["about"]


def test_waiting_decodes_are_coalesced_into_one_batch() -> None:
    worker = DecodeWorker(16)
    started, gate = threading.Event(), threading.Event()
    worker.submit(lambda: (started.set(), gate.wait()))
    assert started.wait(10)
    calls: list[list[int]] = []

    def double(items):  # type: ignore[no-untyped-def]
        calls.append(list(items))
        return [2 * i for i in items]

    def broken(items):  # type: ignore[no-untyped-def]
        raise ValueError("bad batch")

    futures = [worker.submit_batch(double, i) for i in range(5)]
    single = worker.submit(lambda: "alone")
    failing = [worker.submit_batch(broken, i) for i in range(2)]
    gate.set()
    assert [f.result(10) for f in futures] == [0, 2, 4, 6, 8] and single.result(10) == "alone"
    assert calls == [[0, 1, 2, 3, 4]]  # one call for the five waiting items
    for f in failing:
        with pytest.raises(ValueError, match="bad batch"):
            f.result(10)
    worker.close()


def test_the_command_line_does_not_load_the_web_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from vaelab.cli.app import build_app; build_app(); "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'vaelab.explore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
