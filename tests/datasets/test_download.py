"""--download: fast failure without network, resumable Range downloads, checksum checks, extraction.

No test touches the internet: a refused local port stands for "no network", and a local HTTP
server with Range support stands for the official mirror.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import time
import zipfile

import pytest

from oldphoto.datasets.download import Archive, DownloadError, ensure_downloaded, extract, fetch


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        payload = bytes(range(256)) * 64
        info = tarfile.TarInfo("VOCdevkit/VOC2012/JPEGImages/a.jpg")
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def archive_for(data: bytes, url: str) -> Archive:
    return Archive("VOCtrainval.tar", (url,), len(data), hashlib.sha256(data).hexdigest(),
                   "VOCdevkit/VOC2012/JPEGImages")


@pytest.fixture
def server():
    """A local server for /data with Range support; records the Range headers it saw."""
    data, ranges = tar_bytes(), []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ranges.append(self.headers.get("Range"))
            start = int(self.headers["Range"][6:-1]) if self.headers.get("Range") else 0
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/data", data, ranges
    httpd.shutdown()


def test_no_network_fails_fast_saying_where_to_put_files(tmp_path, monkeypatch):
    archive = Archive("VOCtrainval_11-May-2012.tar", ("http://127.0.0.1:1/voc.tar",), 10, "0" * 64,
                      "VOCdevkit/VOC2012/JPEGImages")
    monkeypatch.setattr("oldphoto.datasets.download.ARCHIVES", {"voc": (archive,)})
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        ensure_downloaded("voc", tmp_path, progress=False)
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert str(tmp_path / "VOCtrainval_11-May-2012.tar") in message and "VOCdevkit/VOC2012/JPEGImages" in message
    with pytest.raises(DownloadError, match="available for voc"):
        ensure_downloaded("ffhq", tmp_path)


def test_interrupted_download_resumes_with_a_range_request(tmp_path, server):
    url, data, ranges = server
    archive = archive_for(data, url)
    (tmp_path / "VOCtrainval.tar.part").write_bytes(data[:5000])
    path = fetch(archive, tmp_path, progress=False)
    assert ranges == ["bytes=5000-"] and path.read_bytes() == data
    assert not (tmp_path / "VOCtrainval.tar.part").exists()


def test_checksum_mismatch_is_refused(tmp_path, server):
    url, data, _ = server
    bad = Archive("x.tar", (url,), len(data), "0" * 64, "x")
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        fetch(bad, tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_ensure_downloaded_extracts_and_then_needs_no_network(tmp_path, server, monkeypatch):
    url, data, ranges = server
    monkeypatch.setattr("oldphoto.datasets.download.ARCHIVES", {"voc": (archive_for(data, url),)})
    ensure_downloaded("voc", tmp_path, progress=False)
    assert (tmp_path / "VOCdevkit/VOC2012/JPEGImages/a.jpg").read_bytes() == bytes(range(256)) * 64
    ensure_downloaded("voc", tmp_path, progress=False)  # already extracted: no request
    assert len(ranges) == 1


@pytest.mark.parametrize("member", ["../escaped.txt", "/abs/escaped.txt", "ok/../../escaped.txt"])
def test_extract_refuses_a_zip_member_outside_the_root(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok/a.txt", "fine")
        zf.writestr(member, "escaped")
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DownloadError, match="unsafe member path"):
        extract(archive, root)
    assert list(root.iterdir()) == [] and not (tmp_path / "escaped.txt").exists()


def test_extract_unpacks_zip_and_tar_into_the_root_keeping_what_is_there(tmp_path):
    root = tmp_path / "root"
    (root / "VOCdevkit").mkdir(parents=True)
    (root / "VOCdevkit" / "kept.txt").write_text("kept")
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes())
    extract(archive, root)
    zipped = tmp_path / "b.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("DIV2K/x.png", "png")
    extract(zipped, root)
    assert (root / "VOCdevkit/VOC2012/JPEGImages/a.jpg").read_bytes() == bytes(range(256)) * 64
    assert (root / "VOCdevkit/kept.txt").read_text() == "kept" and (root / "DIV2K/x.png").read_text() == "png"
    assert sorted(p.name for p in root.iterdir()) == ["DIV2K", "VOCdevkit"]
