"""The package installed from its wheel (not editable) works from any folder: prompts and seeds ship inside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import MODELS, ROOT, require_models

pytestmark = pytest.mark.real


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def test_the_wheel_installs_and_runs_from_another_folder(tmp_path: Path) -> None:
    require_models("multilingual-e5-small")
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)], tmp_path, dict(os.environ))
    (wheel,) = wheels.glob("municipal_assistant-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, dict(os.environ))
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q", str(wheel)], tmp_path, dict(os.environ))
    # The dependencies are the test environment's (installing torch again would take minutes); the package is the wheel's.
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, {}).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "ASSISTANT_MODELS_DIR": str(MODELS)}
    assistant = str(venv / "bin" / "assistant")
    where = _run([str(venv / "bin" / "python"), "-c", "import assistant; print(assistant.__file__)"], elsewhere, env)
    assert where.startswith(str(site)), where
    shown = _run([assistant, "settings"], elsewhere, env)
    assert f"prompts_dir = {site / 'assistant' / '_data' / 'prompts'}" in shown
    assert f"seeds_dir = {site / 'assistant' / '_data' / 'seeds'}" in shown
    assert f"index_dir = {tmp_path / 'home' / '.local' / 'share' / 'municipal-assistant' / 'index'}" in shown

    assert "indexed 5 documents" in _run([assistant, "index"], elsewhere, env)
    (elsewhere / "q.txt").write_text("Hvornår træder den nye MED-aftale i kraft?\n", "utf-8")
    _run([assistant, "batch", "q.txt", "--output", "out.jsonl", "--retrieve-only"], elsewhere, env)
    (record,) = [json.loads(line) for line in (elsewhere / "out.jsonl").read_text("utf-8").splitlines()]
    assert any("1. januar 2016" in p["text"] for p in record["passages"]), record
