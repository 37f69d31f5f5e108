"""PINNacle's reference files, fetched on first use.

Some built-in equations are compared with a COMSOL export of the PINNacle benchmark (Hao et al.,
NeurIPS 2024; repository i207M/PINNacle, MIT licence): their ``reference_file`` is
``pinnacle/<file>``, read from ``data_dir()/pinnacle/<file>``. A run that needs one that is
missing fetches it first (:func:`ensure`, one line says so) from the repository's ``ref/`` folder
at the pinned commit :data:`COMMIT`, into a temporary file in the same folder; the file takes its
real name only once its SHA-256 is the one in :data:`SHA256`.

- A file of another digest is deleted and the run stops with a :class:`ConfigError` naming the
  file, both digests and where to place a correct copy.
- When it cannot be fetched (offline, a timeout, an HTTP error) the run goes on without L2
  errors, as without the file; its header says which file to place where, and where to get it
  (:func:`missing_note`).
- Only the files of :data:`SHA256` are ever fetched: a user's own ``equation.reference`` never.

``python -m pinnrun.reference --pinnacle [file ...]`` fetches them ahead of time (default: all),
and checks those already in place.

Environment:

``PINNRUN_PINNACLE_URL``
    The base URL the files are fetched from, ``<base>/<file>`` (default
    ``https://raw.githubusercontent.com/i207M/PINNacle/<COMMIT>/ref``): a mirror, or a local
    folder as ``file:///path/to/folder``. The checksums are checked all the same.
``PINNRUN_DATA_DIR``
    The data directory (see :func:`pinnrun.reference.data_dir`).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from pinnrun.config import ConfigError
from pinnrun.io import atomic_path
from pinnrun.reference.points import sha256

#: the commit of i207M/PINNacle the files are taken from
COMMIT = "6f8d69c9c84c41d19644e4ceebdc64c4a11d3adf"
DEFAULT_URL = f"https://raw.githubusercontent.com/i207M/PINNacle/{COMMIT}/ref"
URL_ENV = "PINNRUN_PINNACLE_URL"
#: the folder under the data directory that holds them (and the prefix of an equation's reference_file)
FOLDER = "pinnacle"
#: seconds a connection or a read may wait
TIMEOUT = 30.0
#: a response larger than this is not one of these files (the largest is 2.4 MB): not read further
MAX_BYTES = 64 << 20

#: file -> SHA-256 of the file in ref/ of i207M/PINNacle at commit 6f8d69c9c84c41d19644e4ceebdc64c4a11d3adf
SHA256 = {
    "burgers1d.dat": "3b6d31d895022b397330091ace59220167f0918c2ed616ed2ae5b1458eede5eb",
    "heat_longtime.dat": "0a97936a1f5b7a346d6a10bfe927702a0587ef1020416e33cbab299a3ee3e9c0",
    "heatinv_points.dat": "2fab58195575fdcc0014689bd30a25fc0402ce5a4a068c48a8f2c24bb89702d9",
    "lid_driven_a4.dat": "9920232758297eee09404d66a914522cc8285ea3a4d7a05f5e776c5fcac852f3",
    "ns_0_obstacle.dat": "13e1d9fa1584faf01a9757af1723b2050c68aefc93d64a5309bb1e222f23d465",
    "poisson1_cg_data.dat": "2b9873fa4175fc26a8d62a7c4ea0f3e3239f9106b25ba622a77fd95fafa48490",
    "poisson_boltzmann2d.dat": "439354e99e9d749c3ff1ae44065de502ac53e96479a74546e27b790802806578",
}

#: what a failed download raises: URLError and HTTPError, timeouts and connection resets are
#: OSErrors; a broken response an HTTPException; an unusable PINNRUN_PINNACLE_URL a ValueError
_DOWNLOAD_ERRORS = (OSError, http.client.HTTPException, ValueError)


class FetchFailed(Exception):
    """A file could not be fetched (offline, a timeout, an HTTP error): the run goes on without it."""


def file_of(reference_file: str) -> str | None:
    """The PINNacle file an equation's ``reference_file`` names (``pinnacle/<file>``, relative, a
    file of :data:`SHA256`), or None: nothing to fetch."""
    if not reference_file:
        return None
    parts = PurePosixPath(reference_file.replace(os.sep, "/")).parts
    if len(parts) == 2 and parts[0] == FOLDER and parts[1] in SHA256:
        return parts[1]
    return None


def _check(file: str) -> None:
    if file not in SHA256:
        raise ConfigError(f"unknown PINNacle reference file '{file}': known are {', '.join(sorted(SHA256))}")


def path(file: str) -> Path:
    """Where ``file`` lives: ``data_dir()/pinnacle/<file>``, whether or not it is there."""
    from pinnrun.reference import data_dir  # the package imports this module

    _check(file)
    return data_dir() / FOLDER / file


def base_url() -> str:
    """``$PINNRUN_PINNACLE_URL`` (without a trailing slash), else the pinned commit's ``ref/`` folder."""
    return (os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def url(file: str) -> str:
    _check(file)
    return f"{base_url()}/{file}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _not_the_file(file: str, got: str, where: Path) -> ConfigError:
    """``got``: what arrived instead ("SHA-256 0123...")."""
    return ConfigError(
        f"PINNacle reference file {file} from {url(file)} has {got}, expected SHA-256 "
        f"{SHA256[file][:16]}...: not kept; place a correct copy (i207M/PINNacle commit {COMMIT[:7]}, "
        f"ref/{file}) at {where}"
    )


def download(file: str) -> Path:
    """Fetch ``file`` into ``path(file)`` (replacing it), atomically: nothing is left under its
    name unless the whole file arrived with the right SHA-256.

    Raises :class:`FetchFailed` when it cannot be fetched, and :class:`ConfigError` when what
    arrived is not the file (its digest differs; the copy is deleted)."""
    out = path(file)
    source = url(file)
    digest = hashlib.sha256()
    size = 0
    try:
        # connected before the folder and the temporary file are made: a failure leaves nothing
        with urllib.request.urlopen(source, timeout=TIMEOUT) as response, atomic_path(out) as tmp:
            with tmp.open("wb") as f:
                while chunk := response.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise _not_the_file(file, f"over {MAX_BYTES >> 20} MiB", out)
                    digest.update(chunk)
                    f.write(chunk)
            if digest.hexdigest() != SHA256[file]:
                raise _not_the_file(file, f"SHA-256 {digest.hexdigest()[:16]}...", out)
    except ConfigError:  # a ValueError too: not a failed download
        raise
    except _DOWNLOAD_ERRORS as exc:
        raise FetchFailed(f"{file} could not be fetched from {source} ({_one_line(exc)})") from exc
    return out


def missing_note(reference_file: str, where: Path) -> str:
    """The run's one line when the reference file ``where`` (the equation's ``reference_file``) is
    missing: for a PINNacle file, which file to place there and where to get it."""
    file = file_of(reference_file)
    if file is None:
        return f"no reference: {where} is missing (place the file there for L2 errors)"
    return f"no reference: place PINNacle's {file} at {where} for L2 errors (from {url(file)})"


def ensure(reference_file: str, say: Callable[[str], None] = print, needed: bool = False) -> Path | None:
    """Fetch the PINNacle file an equation's ``reference_file`` names if it is missing (saying so
    in one line through ``say``); a ``reference_file`` of anything else is left alone.

    Returns its path if it is in place, None if it is not (or is no PINNacle file). A download
    that fails says why in one line and returns None (the run goes on without L2 errors), or,
    for a file the run ``needed`` (observed points), raises :class:`ConfigError` saying where to
    place it; a file of the wrong digest raises :class:`ConfigError`."""
    file = file_of(reference_file)
    if file is None:
        return None
    out = path(file)
    if out.exists():
        return out
    say(f"fetching PINNacle's {file} (MIT licence) from {url(file)} into {out}")
    try:
        return download(file)
    except FetchFailed as exc:
        if needed:
            raise ConfigError(f"{exc}: place PINNacle's {file} at {out} (from {url(file)})") from None
        say(f"{exc}: training without L2 errors")
        return None


def verify(file: str) -> str | None:
    """None if ``path(file)`` holds the right file; else one line saying what is wrong with it."""
    out = path(file)
    if not out.is_file():
        return f"{out} does not exist"
    got = sha256(out)
    if got != SHA256[file]:
        return (
            f"{out} has SHA-256 {got[:16]}..., expected {SHA256[file][:16]}... "
            f"(PINNacle commit {COMMIT[:7]}): delete it to fetch it again"
        )
    return None


__all__ = [
    "COMMIT",
    "DEFAULT_URL",
    "FOLDER",
    "SHA256",
    "URL_ENV",
    "FetchFailed",
    "base_url",
    "download",
    "ensure",
    "file_of",
    "missing_note",
    "path",
    "url",
    "verify",
]
