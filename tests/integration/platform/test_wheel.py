"""The wheel ships the product only (docs/TESTING.md, "What ships").

The test PKI and its loopback services, the benchmark harness and the tests stay in the
repository: an operator's install must not carry throw-away keys or code nobody runs there. And
`quorum loadtest`, which does ship, must run from the installed wheel, without the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PRODUCT_PACKAGES = {"meetings", "realtime"}
TEST_ONLY_DEFINITIONS = (
    "def create_test_pki",
    "def create_softhsm_token",
    "def start_test_services",
    "class BareChair",
    "class BareLoadRun",
)
"""Definitions that exist only for tests and benchmarks: none may be in a shipped module."""


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    if not Path(found).is_file():
        pytest.fail("uv is not installed (make install installs it)")
    return found


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(_uv(), "build", "--wheel", "--out-dir", str(out), cwd=REPO)
    (built,) = out.glob("quorum-*.whl")
    return built


def test_wheel_holds_only_the_product(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sources = {n: archive.read(n).decode() for n in names if n.endswith(".py")}
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == PRODUCT_PACKAGES
    assert "meetings/cli.py" in sources and "realtime/loadtest.py" in sources
    test_only = [
        f"{name}: {marker}"
        for name, text in sources.items()
        for marker in TEST_ONLY_DEFINITIONS
        if marker in text
    ]
    assert test_only == []


def test_loadtest_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    """Installed without dependencies into a fresh venv; the running venv's site-packages lend
    the dependencies through PYTHONPATH, where the editable checkout's .pth is not read."""
    venv = tmp_path / "venv"
    _run(_uv(), "venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(_uv(), "pip", "install", "--quiet", "--python", str(python), "--no-deps", str(wheel),
         cwd=tmp_path)
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    where = _run(str(python), "-c", "import realtime.loadtest as m; print(m.__file__)",
                 cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv)
    usage = _run(str(venv / "bin" / "quorum"), "loadtest", "--help", cwd=tmp_path, env=env)
    assert "--delegates" in usage
