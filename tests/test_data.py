"""Tests of vaelab.data on the real data sets in ``$VAELAB_DATA`` (default
``<repo>/../shared/data``; see the ``data_dir`` fixture in conftest.py) and on
small files written to ``tmp_path``.

Nothing here touches the network: ``download=True`` is never passed.
"""

from __future__ import annotations

import gzip
import itertools
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab.data import (
    Dataset,
    InMemorySource,
    MemmapSource,
    available_datasets,
    load_array,
    load_binarized_mnist,
    load_csv,
    load_dataset,
    load_digits,
    load_image_folder,
    load_mnist,
    read_idx,
)
from vaelab.data.amat import parse_amat
from vaelab.errors import DataFileError, InputError


def _data_folder(root: Path, name: str) -> Path:
    folder = root / name
    if not folder.exists():
        pytest.skip(f"real data not found at {folder}; set VAELAB_DATA to the shared data folder")
    return folder


@pytest.fixture(scope="module")
def mnist_dir(data_dir: Path) -> Path:  # data_dir (conftest): $VAELAB_DATA or ../shared/data, else skip
    return _data_folder(data_dir, "mnist")


@pytest.fixture(scope="module")
def binarized_dir(data_dir: Path) -> Path:
    return _data_folder(data_dir, "binarized_mnist")


@pytest.fixture(scope="module")
def mnist_train(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    start = time.perf_counter()
    out = load_mnist(mnist_dir, "train")
    print(f"load_mnist train: {time.perf_counter() - start:.2f} s")
    return out


def _plain_copy(src: Path, dst: Path) -> None:
    """Write the decompressed contents of ``src`` (a .gz file) to ``dst``."""
    dst.write_bytes(gzip.decompress(src.read_bytes()))


# --------------------------------------------------------------------- IDX / MNIST


def test_read_idx_real_mnist(mnist_dir: Path) -> None:
    images = read_idx(mnist_dir / "train-images-idx3-ubyte.gz")
    labels = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert abs(images.mean() - 33.318) < 1e-3  # data README
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 60000 and len(counts) == 10 and counts.min() > 5000
    assert abs(read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").mean() - 33.791) < 1e-3


def test_load_mnist_shapes_and_checksums(mnist_dir: Path, mnist_train: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = mnist_train  # loaded with verify=True: the README's md5s matched
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    x_test, y_test = load_mnist(mnist_dir, "test", verify=True)
    assert x_test.shape == (10000, 28, 28) and np.bincount(y_test).sum() == 10000


def test_gz_and_plain_files_load_the_same(mnist_dir: Path, tmp_path: Path) -> None:
    # Uncompressed, in the "t10k-images.idx3-ubyte" spelling; gzip is detected from content.
    _plain_copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-images.idx3-ubyte")
    _plain_copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", tmp_path / "t10k-labels.idx1-ubyte")
    x_plain, y_plain = load_mnist(tmp_path, "test")  # md5 of the raw bytes still verified
    x_gz, y_gz = load_mnist(mnist_dir, "test")
    np.testing.assert_array_equal(x_plain, x_gz)
    np.testing.assert_array_equal(y_plain, y_gz)
    # A gzip file with a misleading name is still recognised by its magic bytes.
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", tmp_path / "labels.idx")
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.idx"), y_gz)


def test_tampered_file_fails_checksum_with_clear_message(mnist_dir: Path, tmp_path: Path) -> None:
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    raw = bytearray(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[8] = (raw[8] + 1) % 10  # still a valid IDX file with valid labels
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataFileError) as info:
        load_mnist(tmp_path, "test")
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert "expected 27ae3e4e09519cfbb04c329615203637" in message
    assert "md5" in message and "verify=False" in message and "--no-verify" in message
    _, labels = load_mnist(tmp_path, "test", verify=False)
    assert labels[0] == raw[8]


def test_any_gzip_of_the_same_content_passes_the_check(mnist_dir: Path, tmp_path: Path) -> None:
    """A recompressed copy (another level, another timestamp) is the same data; a changed byte is not."""
    original = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    raw = gzip.decompress(original)
    again = gzip.compress(raw, compresslevel=1, mtime=123456789)
    assert again != original and gzip.decompress(again) == raw  # other bytes on disk, the same content
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(again)
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    _, labels = load_mnist(tmp_path, "test")  # verified
    np.testing.assert_array_equal(labels, np.frombuffer(raw[8:], dtype=np.uint8))
    corrupted = bytearray(raw)
    corrupted[-1] = (corrupted[-1] + 1) % 10
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(corrupted), compresslevel=1))
    with pytest.raises(DataFileError, match="checksum mismatch.*--no-verify"):
        load_mnist(tmp_path, "test")


def test_truncated_idx_names_path_and_sizes(mnist_dir: Path, tmp_path: Path) -> None:
    raw = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(raw[:-100])
    with pytest.raises(DataFileError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value) and "10008" in str(info.value) and "9908" in str(info.value)
    # A cut gzip stream is reported as such.
    gz = tmp_path / "cut.gz"
    gz.write_bytes((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()[:-500])
    with pytest.raises(DataFileError, match="gzip"):
        read_idx(gz)


def test_not_an_idx_file(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DataFileError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 2]) + np.array([1.5, -2], ">f4").tobytes())
    np.testing.assert_array_equal(read_idx(path), np.array([1.5, -2], np.float32))


def test_missing_mnist_files_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError) as info:
        load_mnist(tmp_path, "train")
    message = str(info.value)
    assert str(tmp_path) in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte" in message
    assert "download=True" in message
    with pytest.raises(InputError, match="variant"):
        load_mnist(tmp_path, variant="kmnist")
    with pytest.raises(InputError, match="split"):
        load_mnist(tmp_path, split="valid")


# --------------------------------------------------------------- binarized MNIST


def test_binarized_mnist_real(binarized_dir: Path) -> None:
    start = time.perf_counter()
    train = load_binarized_mnist(binarized_dir, "train")  # sha256 verified
    print(f"load_binarized_mnist train: {time.perf_counter() - start:.2f} s")
    assert train.shape == (50000, 784) and train.dtype == np.float32
    assert set(np.unique(train)) == {0.0, 1.0}
    assert 0.12 < train.mean() < 0.14  # fraction of "on" pixels, like MNIST's 33.3 / 255
    for split in ("valid", "test"):
        assert load_binarized_mnist(binarized_dir, split).shape == (10000, 784)


def test_binarized_mnist_tampered_and_malformed(binarized_dir: Path, tmp_path: Path) -> None:
    raw = bytearray(gzip.decompress((binarized_dir / "binarized_mnist_test.amat.gz").read_bytes()))
    raw[0] = ord("1") if raw[0] == ord("0") else ord("0")
    (tmp_path / "binarized_mnist_test.amat").write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"sha256.*expected e6687bfea3f8.*verify=False"):
        load_binarized_mnist(tmp_path, "test")
    assert load_binarized_mnist(tmp_path, "test", verify=False)[0, 0] == float(raw[0] - ord("0"))
    # Any other whitespace layout takes the generic path; bad rows are named.
    np.testing.assert_array_equal(parse_amat(b"0.0 1\r\n1 0\r\n", n_cols=2), [[0, 1], [1, 0]])
    with pytest.raises(DataFileError, match="line 2 has 1 values"):
        parse_amat(b"0 1\n1\n", n_cols=2)
    with pytest.raises(DataFileError, match="0 or 1"):
        parse_amat(b"0 2\n", n_cols=2)
    with pytest.raises(DataFileError, match=r"binarized_mnist_valid\.amat"):
        load_binarized_mnist(tmp_path, "valid")


# ------------------------------------------------------------------ small loaders


def test_digits() -> None:
    x, y = load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))


def test_npy_and_npz_round_trips(tmp_path: Path) -> None:
    x = np.arange(24, dtype=np.float32).reshape(6, 4)
    y = np.arange(6)
    np.save(tmp_path / "x.npy", x)
    got, labels = load_array(tmp_path / "x.npy")
    np.testing.assert_array_equal(got, x)
    assert labels is None
    mapped, _ = load_array(tmp_path / "x.npy", mmap=True)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable

    np.savez(tmp_path / "xy.npz", x=x, y=y)
    got, labels = load_array(tmp_path / "xy.npz")
    np.testing.assert_array_equal(got, x)
    np.testing.assert_array_equal(labels, y)
    np.savez(tmp_path / "named.npz", images=x, labels=y)  # one non-label array: unambiguous
    got, labels = load_array(tmp_path / "named.npz")
    np.testing.assert_array_equal(got, x)
    np.testing.assert_array_equal(labels, y)

    np.savez(tmp_path / "many.npz", a=x, b=x + 1, y=y)
    with pytest.raises(InputError, match=r"\['a', 'b', 'y'\].*key="):
        load_array(tmp_path / "many.npz")
    np.testing.assert_array_equal(load_array(tmp_path / "many.npz", key="b")[0], x + 1)
    with pytest.raises(InputError, match="'c' is not in"):
        load_array(tmp_path / "many.npz", key="c")

    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="never unpickles"):
        load_array(tmp_path / "obj.npy")
    with pytest.raises(DataFileError, match="no such file"):
        load_array(tmp_path / "absent.npy")


def test_csv_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1,2.5,0\n3,4,1\n\n5,6e-1,1\n")
    x, y, names = load_csv(path, label_column="label")
    np.testing.assert_allclose(x, [[1, 2.5], [3, 4], [5, 0.6]])
    assert x.dtype == np.float32 and y.dtype == np.int64 and y.tolist() == [0, 1, 1]
    assert names == ["a", "b"]
    x, y, names = load_csv(path)
    assert x.shape == (3, 3) and y is None and names == ["a", "b", "label"]

    headerless = tmp_path / "h.csv"
    headerless.write_text("1,0.5\n2,1.5\n")
    x, y, names = load_csv(headerless, label_column=0)
    assert x.tolist() == [[0.5], [1.5]] and y.tolist() == [1, 2] and names == ["column_1"]

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,abc\n")
    with pytest.raises(InputError, match=r"line 3, column 2 \('b'\) holds 'abc'"):
        load_csv(bad)
    bad.write_text("1,2\n3\n")
    with pytest.raises(InputError, match="line 2 has 1 cells, expected 2"):
        load_csv(bad)
    with pytest.raises(InputError, match="label_column='y' is not a column"):
        load_csv(path, label_column="y")


def test_csv_real_mixed_table_names_the_bad_cell(data_dir: Path) -> None:
    gbsg2 = _data_folder(data_dir, "gbsg2.csv")
    with pytest.raises(InputError, match=r"line 2, column 1 \('horTh'\) holds 'no'"):
        load_csv(gbsg2)


def _write_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_image_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gray = {f"{c}/{i}.png": rng.integers(0, 256, (6, 5), dtype=np.uint8) for c in ("cat", "dog") for i in range(2)}
    for name, arr in gray.items():
        _write_png(tmp_path / "gray" / name, arr)
    x, y, classes = load_image_folder(tmp_path / "gray")
    assert x.shape == (4, 6, 5) and x.dtype == np.uint8
    assert classes == ["cat", "dog"] and y.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(x[2], gray["dog/0.png"])
    assert load_image_folder(tmp_path / "gray", grayscale=False)[0].shape == (4, 3, 6, 5)

    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    _write_png(tmp_path / "rgb" / "a" / "0.png", rgb)
    _write_png(tmp_path / "rgb" / "b" / "0.png", rgb[:4])
    with pytest.raises(InputError, match=r"differ in size.*size="):
        load_image_folder(tmp_path / "rgb")
    x, y, classes = load_image_folder(tmp_path / "rgb", size=(3, 2))
    assert x.shape == (2, 3, 3, 2) and classes == ["a", "b"]
    np.testing.assert_array_equal(load_image_folder(tmp_path / "rgb" / "a")[0][0], rgb.transpose(2, 0, 1))
    with pytest.raises(DataFileError, match="not a folder"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match=r"no \.png"):
        load_image_folder(tmp_path / "empty")


# ------------------------------------------------------------------ load_dataset


def test_load_dataset_builtin_names(data_dir: Path, binarized_dir: Path) -> None:
    assert available_datasets() == ["binarized-mnist", "digits", "fashion-mnist", "mnist", "shapes", "shapes64"]
    digits = load_dataset("digits")
    assert isinstance(digits, Dataset) and digits.x_train.shape == (1438, 8, 8)
    assert digits.x_test.shape == (359, 8, 8) and not digits.binary and digits.x_valid is None
    assert np.array_equal(load_dataset("digits").y_test, digits.y_test)  # fixed split

    mnist = load_dataset("mnist", data_dir=data_dir)
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.y_test.shape == (10000,)
    assert mnist.name == "mnist" and "MNIST" in mnist.description

    binarized = load_dataset("binarized-mnist", data_dir=data_dir)
    assert binarized.binary and binarized.y_train is None
    assert binarized.x_train.shape == (50000, 784)
    assert binarized.x_valid.shape == binarized.x_test.shape == (10000, 784)


def test_load_dataset_fashion_mnist_from_files(tmp_path: Path) -> None:
    """No real Fashion-MNIST is shared: write tiny IDX files with its names."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 5), ("t10k", 3)):
        header = bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">u4").tobytes()
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + bytes(n * 784)))
        labels = bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes() + bytes(range(n))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(DataFileError, match=r"md5 of the uncompressed contents.*f4a8712d7a061bf5bd6d2ca38dc4d50a"):
        load_dataset("fashion-mnist", data_dir=tmp_path)
    ds = load_dataset("fashion-mnist", data_dir=tmp_path, verify=False)
    assert ds.x_train.shape == (5, 28, 28) and ds.y_test.tolist() == [0, 1, 2]


def test_load_dataset_missing_files_and_unknown_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataFileError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(tmp_path / "mnist") in str(info.value) and "--data-dir" in str(info.value)
    monkeypatch.setenv("VAELAB_DATA_DIR", str(tmp_path / "from-env"))
    with pytest.raises(DataFileError, match="from-env"):
        load_dataset("binarized-mnist")
    with pytest.raises(InputError) as info:
        load_dataset("mnsit")
    assert "Did you mean 'mnist'?" in str(info.value) and "fashion-mnist" in str(info.value)
    with pytest.raises(DataFileError, match="no such file or folder"):
        load_dataset(str(tmp_path / "absent.npz"))


def test_load_dataset_from_paths(tmp_path: Path) -> None:
    np.savez(tmp_path / "toy.npz", x=np.eye(4, dtype=np.float32), y=np.arange(4))
    ds = load_dataset(tmp_path / "toy.npz")
    assert ds.name == "toy" and ds.binary and ds.x_test is None and ds.y_train.tolist() == [0, 1, 2, 3]
    (tmp_path / "t.csv").write_text("u,v\n0.5,1\n2,3\n")
    ds = load_dataset(str(tmp_path / "t.csv"), label_column="v")
    assert ds.x_train.shape == (2, 1) and not ds.binary and ds.y_train.tolist() == [1, 3]
    _write_png(tmp_path / "imgs" / "k" / "0.png", np.zeros((4, 4), np.uint8))
    ds = load_dataset(tmp_path / "imgs")
    assert ds.x_train.shape == (1, 4, 4) and ds.y_train.tolist() == [0] and ds.y_test is None


# --------------------------------------------------------------------- streaming

N, SHAPE = 203, (2, 3)
ROWS = np.arange(N, dtype=np.float32)[:, None, None] * np.ones(SHAPE, np.float32)  # row i holds i


def _memmap_shards(tmp_path: Path, seed: int) -> MemmapSource:
    cuts = [0, 50, 51, 140, N]  # uneven shards, one of a single row
    paths = []
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        np.save(tmp_path / f"shard{i}.npy", ROWS[a:b])
        paths.append(tmp_path / f"shard{i}.npy")
    return MemmapSource(paths, batch_size=16, seed=seed, block_size=7, window_blocks=3)


SOURCES: dict[str, Callable[[Path, int], MemmapSource | InMemorySource]] = {
    "memmap-shards": _memmap_shards,
    "memmap-array": lambda tmp, seed: MemmapSource(ROWS, batch_size=16, seed=seed, block_size=10),
    "in-memory": lambda tmp, seed: InMemorySource(torch.from_numpy(ROWS), batch_size=16, seed=seed),
}


def _ids(batches: list[torch.Tensor]) -> list[int]:
    return [int(v) for b in batches for v in b[:, 0, 0]]


@pytest.fixture(params=sorted(SOURCES))
def make_source(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[int], MemmapSource | InMemorySource]:
    return lambda seed: SOURCES[request.param](tmp_path, seed)


def test_source_every_example_once_per_epoch(make_source: Callable) -> None:
    source = make_source(0)
    assert source.num_examples == N and source.example_shape == SHAPE and len(source) == 13
    batches = list(source.iter_epoch(0))
    assert [b.shape[0] for b in batches] == [16] * 12 + [11]  # the short last batch is kept
    assert all(b.dtype == torch.float32 and b.shape[1:] == SHAPE for b in batches)
    order = _ids(batches)
    assert sorted(order) == list(range(N)) and order != list(range(N))


def test_source_order_is_a_function_of_seed_and_epoch(make_source: Callable) -> None:
    a, b, c = make_source(0), make_source(0), make_source(1)
    assert _ids(list(a.iter_epoch(3))) == _ids(list(b.iter_epoch(3)))
    assert _ids(list(a.iter_epoch(3))) != _ids(list(a.iter_epoch(4)))
    assert _ids(list(a.iter_epoch(3))) != _ids(list(c.iter_epoch(3)))


def test_source_start_batch_resumes(make_source: Callable) -> None:
    source = make_source(5)
    full = list(source.iter_epoch(2))
    for start in (0, 1, 6, 12, 13):
        rest = list(source.iter_epoch(2, start_batch=start))
        assert len(rest) == len(full) - start
        assert all(torch.equal(x, y) for x, y in zip(rest, full[start:], strict=True))
    with pytest.raises(InputError, match="start_batch"):
        list(source.iter_epoch(2, start_batch=14))


@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 13, 20])
def test_source_ranks_partition_the_epoch(make_source: Callable, world_size: int) -> None:
    source = make_source(7)
    parts = [list(source.iter_epoch(1, rank=r, world_size=world_size)) for r in range(world_size)]
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1 and sizes == [source.num_batches(r, world_size) for r in range(world_size)]
    ids = [_ids(p) for p in parts]
    assert sorted(i for part in ids for i in part) == list(range(N))  # disjoint and complete
    if world_size > 1:
        resumed = list(source.iter_epoch(1, start_batch=1, rank=1, world_size=world_size))
        assert _ids(resumed) == _ids(parts[1][1:])
    with pytest.raises(InputError, match="rank"):
        list(source.iter_epoch(1, rank=world_size, world_size=world_size))


def test_in_memory_source_uses_documented_permutation() -> None:
    source = InMemorySource(torch.from_numpy(ROWS), batch_size=50, seed=3)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(3 * 1_000_003 + 2))
    assert _ids(list(source.iter_epoch(2))) == perm.tolist()


def test_sources_scale_uint8_and_check_arguments(tmp_path: Path) -> None:
    pixels = np.array([[0, 51], [255, 102]], dtype=np.uint8)
    np.save(tmp_path / "u8.npy", pixels)
    sources = (MemmapSource(tmp_path / "u8.npy", batch_size=2, seed=0), InMemorySource(pixels, batch_size=2, seed=0))
    for source in sources:
        batch = next(iter(source.iter_epoch(0)))
        assert batch.dtype == torch.float32
        assert sorted(batch.flatten().tolist()) == pytest.approx([0.0, 0.2, 0.4, 1.0])
    with pytest.raises(InputError, match="batch_size"):
        InMemorySource(pixels, batch_size=0, seed=0)
    with pytest.raises(InputError, match="seed"):
        MemmapSource(pixels, batch_size=1, seed=-1)
    with pytest.raises(InputError, match="example shape"):
        MemmapSource([pixels, np.zeros((2, 3), np.uint8)], batch_size=1, seed=0)
    np.savez(tmp_path / "z.npz", x=pixels)
    with pytest.raises(DataFileError, match="npz"):
        MemmapSource(tmp_path / "z.npz", batch_size=1, seed=0)
