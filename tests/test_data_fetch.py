"""`advkit data fetch` against a local HTTP server on 127.0.0.1 serving a small fake set built from
scikit-image photos: md5 pass, md5 mismatch (nothing kept), resume, offline, the archive derivation;
plus invariants of the shipped manifests and the data-root rules."""

from __future__ import annotations

import functools
import hashlib
import io
import socket
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures_images import make_image_folder, sample_crops
from PIL import Image

from advkit.data.fetch import FetchProgress, derive_from_archive, fetch_set, file_md5, load_manifest
from advkit.data.paths import DENOISE_SETS, data_root, denoise_set, image_folder
from advkit.errors import AdvkitError


class _Server:
    """Serves ``folder`` on 127.0.0.1 and records every requested path."""

    def __init__(self, folder: Path):
        requests = self.requests = []

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                requests.append(self.path)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server(tmp_path):
    make_image_folder(tmp_path / "upstream" / "fake", n=3, size=32)
    srv = _Server(tmp_path / "upstream")
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _manifest(server, tmp_path, **changes):
    upstream = tmp_path / "upstream" / "fake"
    files = {p.name: file_md5(p) for p in sorted(upstream.iterdir())}
    return {"name": "fake", "base_urls": [server.url + "fake/"], "files": files, **changes}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_verifies_every_file_and_a_rerun_downloads_nothing(server, tmp_path):
    manifest, dest = _manifest(server, tmp_path), tmp_path / "data" / "fake"

    class Record(FetchProgress):
        def __init__(self):
            self.done, self.bytes = [], {}

        def file_done(self, name, downloaded):
            self.done.append((name, downloaded))

        def transfer(self, url, done, total):
            self.bytes[url] = (done, total)

    progress = Record()
    assert fetch_set(manifest, dest, progress) == {"folder": str(dest), "downloaded": 3, "kept": 0}
    assert {p.name: file_md5(p) for p in dest.iterdir()} == manifest["files"]  # no temporary file left either
    assert progress.done == [(name, True) for name in manifest["files"]]
    assert all(done == total == (tmp_path / "upstream" / "fake" / url.rsplit("/", 1)[1]).stat().st_size
               for url, (done, total) in progress.bytes.items())

    served = len(server.requests)
    (dest / "img_01.png").write_bytes(b"corrupt")  # a damaged file is fetched again, the good ones are kept
    assert fetch_set(manifest, dest) == {"folder": str(dest), "downloaded": 1, "kept": 2}
    assert server.requests[served:] == ["/fake/img_01.png"]
    assert fetch_set(manifest, dest)["downloaded"] == 0 and len(server.requests) == served + 1


def test_checksum_mismatch_is_an_error_and_keeps_nothing(server, tmp_path):
    manifest = _manifest(server, tmp_path)
    manifest["files"]["img_02.png"] = "0" * 32
    dest = tmp_path / "data" / "fake"
    with pytest.raises(AdvkitError, match=r"fake/img_02\.png does not match its pinned md5") as err:
        fetch_set(manifest, dest)
    assert "\n" not in err.value.message
    assert _leftovers(dest) == ["img_00.png", "img_01.png"]  # verified files stay; no .part, no bad file


def test_a_mirror_is_used_when_the_first_source_fails(server, tmp_path):
    manifest = _manifest(server, tmp_path, base_urls=[server.url + "gone/", server.url + "fake/"])
    dest = tmp_path / "data" / "fake"
    assert fetch_set(manifest, dest)["downloaded"] == 3
    assert {p.name: file_md5(p) for p in dest.iterdir()} == manifest["files"]
    with pytest.raises(AdvkitError, match=r"gone/img_00\.png \(HTTP 404 .*\); the file moved upstream"):
        fetch_set(dict(manifest, base_urls=[server.url + "gone/"]), tmp_path / "data" / "other")


def test_offline_is_a_one_line_error_naming_the_url(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manifest = {"name": "fake", "base_urls": [f"http://127.0.0.1:{port}/fake/"], "files": {"a.png": "0" * 32}}
    dest = tmp_path / "data" / "fake"
    with pytest.raises(AdvkitError) as err:
        fetch_set(manifest, dest)
    message = err.value.message
    assert f"could not download http://127.0.0.1:{port}/fake/a.png" in message and "no network?" in message
    assert "\n" not in message and _leftovers(dest) == []
    assert not (tmp_path / "data").exists()  # the folders it made for the set are gone again


def _tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_archive_set_is_derived_and_checked(server, tmp_path):
    """As CBSD432: the images of train/val/test minus an excluded list, taken out of one .tgz."""
    jpeg = []
    for crop in sample_crops(5, 24):
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="JPEG")
        jpeg.append(buffer.getvalue())
    root = "BSR/BSDS500/data/images"
    members = {f"{root}/train/1.jpg": jpeg[0], f"{root}/train/2.jpg": jpeg[1], f"{root}/val/3.jpg": jpeg[2],
               f"{root}/test/4.jpg": jpeg[3], f"{root}/test/Thumbs.db": b"x", f"{root}/../other/5.jpg": jpeg[4]}
    _tar(tmp_path / "upstream" / "set.tgz", members)
    spec = {"urls": [server.url + "set.tgz"], "folders": [f"{root}/train", f"{root}/val", f"{root}/test"],
            "exclude": ["3"]}
    wanted = {"1.jpg": jpeg[0], "2.jpg": jpeg[1], "4.jpg": jpeg[3]}
    manifest = {"name": "derived", "archive": spec, "files": {k: hashlib.md5(v).hexdigest() for k, v in wanted.items()}}
    assert sorted(derive_from_archive(list(members), spec)) == sorted(wanted)

    dest = tmp_path / "data" / "derived"
    assert fetch_set(manifest, dest)["downloaded"] == 3
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == wanted
    assert not (dest.parent / ".downloads" / "set.tgz").exists()  # the archive goes once the set is out
    served = len(server.requests)
    assert fetch_set(manifest, dest)["kept"] == 3 and len(server.requests) == served  # no second download

    wrong = dict(manifest, name="wrong", files={**manifest["files"], "3.jpg": hashlib.md5(jpeg[2]).hexdigest()})
    with pytest.raises(AdvkitError, match="does not yield exactly the 4 images of wrong: 1 missing"):
        fetch_set(wrong, tmp_path / "data" / "wrong")
    assert _leftovers(tmp_path / "data" / "wrong") == []

    (tmp_path / "upstream" / "set.tgz").write_bytes(b"\x1f\x8b not a tarball")
    with pytest.raises(AdvkitError, match="not a readable archive"):
        fetch_set(dict(manifest, name="bad"), tmp_path / "data" / "bad")
    assert _leftovers(tmp_path / "data" / ".downloads") == []


def test_shipped_manifests_are_consistent():
    """Every set is pinned file by file; CBSD432 and CBSD68 split BSDS500's 500 images with no overlap."""
    sizes = {"CBSD432": 432, "CBSD68": 68, "Kodak24": 24, "McMaster": 18, "BSD68": 68, "Set12": 12, "Train400": 400}
    for name in DENOISE_SETS:
        manifest = load_manifest(name.lower())
        assert manifest["name"] == name and len(manifest["files"]) == sizes[name]
        assert all(len(m) == 32 and int(m, 16) >= 0 for m in manifest["files"].values())
        sources = manifest["archive"]["urls"] if "archive" in manifest else manifest["base_urls"]
        assert sources and all(u.startswith(("http://", "https://")) for u in sources)
        assert manifest["licence"] and manifest["what"]
    cbsd432, cbsd68 = load_manifest("CBSD432"), load_manifest("CBSD68")
    train = {Path(f).stem for f in cbsd432["files"]}
    test = {Path(f).stem for f in cbsd68["files"]}
    assert set(cbsd432["archive"]["exclude"]) == test and not train & test and len(train | test) == 500
    assert {Path(f).stem for f in load_manifest("BSD68")["files"]} == {f"test{i:03d}" for i in range(1, 69)}
    with pytest.raises(AdvkitError, match="denoising sets are"):
        load_manifest("CBSD500")


def test_data_root_and_denoise_set(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    assert data_root() == tmp_path
    with pytest.raises(AdvkitError, match=r"run `advkit data fetch CBSD68`, or set ADVKIT_DATA to a folder holding "
                                          r"denoise/CBSD68"):
        denoise_set("cbsd68")
    with pytest.raises(AdvkitError, match="unknown denoising set 'CBSD500'"):
        denoise_set("CBSD500")
    folder = make_image_folder(tmp_path / "denoise" / "CBSD68", n=1, size=16)
    assert denoise_set("cbsd68") == folder and image_folder("CBSD68") == folder
    assert image_folder(tmp_path / "mine") == tmp_path / "mine"  # a path stays a path
    monkeypatch.delenv("ADVKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("advkit.data.paths._CHECKOUT_DATA", tmp_path / "no-checkout")  # as pip-installed
    assert data_root() == tmp_path / "cache" / "advkit" / "data"


def test_data_list_names_sources_licences_and_the_data_root(tmp_path, monkeypatch):
    from advkit.cli.data import command

    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    for name, crop in zip(("01.png", "02.png"), sample_crops(2, 16, grey=True)):  # 2 of Set12's 12 names
        (tmp_path / "denoise" / "Set12").mkdir(parents=True, exist_ok=True)
        Image.fromarray(crop).save(tmp_path / "denoise" / "Set12" / name)
    result = CliRunner().invoke(command, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith(" ")}
    assert set(DENOISE_SETS) | {"mnist", "fashion-mnist", "stl10"} <= set(lines)
    assert "2/12" in lines["Set12"] and "0/68" in lines["CBSD68"]
    assert f"data root: {tmp_path} (from ADVKIT_DATA)" in " ".join(result.output.split())
    result = CliRunner().invoke(command, ["list", "--verbose"], env={"COLUMNS": "200"})  # sources and licences
    assert result.exit_code == 0, result.output
    assert "Set12 (2/12 files present)" in result.output and "CBSD68 (0/68 files present)" in result.output
    assert "BSR_bsds500.tgz" in result.output and "r0k.us/graphics/kodak" in result.output  # Kodak's origin
    assert "non-commercial research" in result.output and "CC BY-SA 3.0" in result.output and "MIT" in result.output
    assert f"data root: {tmp_path} (from ADVKIT_DATA)" in " ".join(result.output.split())
    bad = CliRunner().invoke(command, ["fetch", "Set12", "CBSD500"])  # checked before any download
    assert bad.exit_code == 2 and "unknown dataset 'CBSD500'" in bad.output and "CBSD432" in bad.output


def test_image_folder_helper_makes_distinct_natural_crops(tmp_path):
    colour = make_image_folder(tmp_path / "c", n=6, size=(40, 56))
    grey = make_image_folder(tmp_path / "g", n=5, size=32, grey=True)
    images = [Image.open(p) for p in sorted(colour.iterdir())]
    assert [(im.mode, im.size) for im in images] == [("RGB", (56, 40))] * 6
    assert [Image.open(p).mode for p in sorted(grey.iterdir())] == ["L"] * 5
    arrays = [im.tobytes() for im in images]
    assert len(set(arrays)) == 6  # no two crops alike, even when a photo is used twice
    with pytest.raises(ValueError, match="does not fit"):
        sample_crops(1, 1000)


def test_torchvision_sets_offline_are_a_one_line_error_naming_the_url(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    from advkit.data.fetch import fetch_torchvision

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(MNIST, "mirrors", [f"http://127.0.0.1:{port}/mnist/"])
    with pytest.raises(AdvkitError) as err:
        fetch_torchvision("mnist", tmp_path)
    message = err.value.message
    assert message.startswith(f"could not download mnist from http://127.0.0.1:{port}/mnist/") and "\n" not in message
