"""The agent as users install it: ``python -m build`` (an sdist, then the wheel built from
that sdist, in an isolated build environment) and the wheel installed into a fresh
virtual environment, its dependencies from pip's configured indexes, then run from
outside the source tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict

import pytest

AGENT = Path(__file__).resolve().parent.parent
VERSION = re.search(r'^version = "([^"]+)"', (AGENT / "pyproject.toml").read_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
SCHEMA_FILES = ["dbgrelay/schema/debugAdapterProtocol.json", "dbgrelay/schema/debugpySafe.json"]


def clean_env() -> Dict[str, str]:
    """This environment without anything that would put the source tree on the path.
    No retries: an index that cannot be reached fails at once (as test/setupPython.mjs)."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_RETRIES"] = "0"
    return env


def run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(AGENT)], cwd=out)
    return out


def test_wheel_has_the_license_metadata_and_the_schema(dist: Path) -> None:
    with zipfile.ZipFile(dist / f"dbgrelay-{VERSION}-py3-none-any.whl") as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"dbgrelay-{VERSION}.dist-info/METADATA").decode()
        license_text = wheel.read(f"dbgrelay-{VERSION}.dist-info/licenses/LICENSE").decode()
    for name in SCHEMA_FILES:
        assert name in names
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert "Classifier: Topic :: Software Development :: Debuggers" in metadata.splitlines()
    assert license_text.startswith("MIT License") and "the dbgrelay authors" in license_text
    assert not [name for name in names if name.startswith("tests/")]


def test_sdist_has_the_license_and_the_schema(dist: Path) -> None:
    with tarfile.open(dist / f"dbgrelay-{VERSION}.tar.gz") as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "pyproject.toml", *SCHEMA_FILES} <= names


def test_wheel_installs_into_a_fresh_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    # the test venv's pip installs into the fresh one (--python): no pip of its own needed
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(dist / f"dbgrelay-{VERSION}-py3-none-any.whl")], cwd=tmp_path)

    usage = run([str(python), "-m", "dbgrelay", "--help"], cwd=tmp_path)
    assert usage.stdout.startswith("usage: python -m dbgrelay")

    probe = (
        "import dbgrelay, importlib.metadata as m\n"
        "from dbgrelay.dapschema import validate_request\n"
        "print(dbgrelay.__file__)\n"
        "print(dbgrelay.__version__, m.version('dbgrelay'), m.metadata('dbgrelay')['License-Expression'])\n"
        "print(validate_request({'seq': 1, 'type': 'request', 'command': 'evaluate', 'arguments': {'expression': 1}}))\n"
    )
    location, versions, schema_check = run([str(python), "-c", probe], cwd=tmp_path).stdout.splitlines()
    assert Path(location).is_relative_to(venv)
    assert versions == f"{VERSION} {VERSION} MIT"
    # the schema shipped as package data is found and used
    assert schema_check == "('/arguments/expression', 'must be string')"
