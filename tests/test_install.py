"""The installed command: build the wheel, install it into a new venv, run it elsewhere.

Offline and honest: the wheel is built from this checkout's files with the running
interpreter's setuptools (``pip wheel --no-deps --no-build-isolation --no-index``) and
installed with ``--no-deps --no-index`` into a venv made ``--without-pip``. NumPy and
torch are not downloaded: a ``.pth`` file in the venv names the folders that hold the
running interpreter's numpy (and torch, tqdm, matplotlib when present). A ``.pth`` line
only appends its folder to ``sys.path`` after the venv's own site-packages, and the
``.pth`` files inside that folder (an editable install of this checkout, say) are not
run, so the ``scratchrnn`` and ``parity`` that run are the wheel's: the test checks
their ``__file__`` and the console script's interpreter. Every command runs with its
working directory outside the checkout and without PYTHONPATH.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_synthetic_csv

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scratchrnn", "parity")
BUILD_FILES = ("setup.cfg", "pyproject.toml", "README.md")


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: float = 300):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def _site_folders() -> list[str]:
    """The folders that hold the running interpreter's numpy and friends (not this checkout)."""
    folders = []
    for name in ("numpy", "torch", "tqdm", "matplotlib"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        folder = str(Path(spec.origin).resolve().parents[1])
        if folder != str(ROOT) and folder not in folders:
            folders.append(folder)
    return folders


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> dict:
    """A new venv holding the wheel built from this checkout; returns its paths and env."""
    import setuptools  # the `test` extra asks for >= 70.1, whose bdist_wheel is built in

    major_minor = tuple(int(p) for p in setuptools.__version__.split(".")[:2])
    if major_minor < (70, 1) and importlib.util.find_spec("wheel") is None:
        pytest.fail(f"setuptools {setuptools.__version__} needs the `wheel` package to build "
                    "a wheel offline: pip install '.[test]' (setuptools>=70.1)")
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"  # a copy, so that the build's egg-info and build/ stay out of the checkout
    src.mkdir()
    for name in BUILD_FILES:
        shutil.copy2(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_NO_INDEX"] = "1"  # nothing is downloaded
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "--wheel-dir", wheels, src], cwd=tmp, env=env)
    (wheel,) = wheels.glob("scratchrnn-*.whl")
    prefix = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", prefix], cwd=tmp, env=env)
    python = prefix / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp, env=env).stdout.strip()
    (Path(purelib) / "_test_outer_site.pth").write_text("\n".join(_site_folders()) + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
          "--no-index", wheel], cwd=tmp, env=env)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return {"prefix": prefix.resolve(), "python": python, "bin": python.parent,
            "env": env, "cwd": elsewhere, "wheel": wheel}


def test_the_wheel_holds_both_packages_and_the_entry_point(venv):
    import zipfile

    names = zipfile.ZipFile(venv["wheel"]).namelist()
    assert "scratchrnn/cli.py" in names and "scratchrnn/fetch.py" in names
    assert "parity/__main__.py" in names
    assert not any(n.startswith(("tests/", "examples/", "data/")) for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(venv["wheel"]).read(entry).decode()
    assert "scratchrnn = scratchrnn.__main__:run" in text


def test_the_installed_packages_are_the_ones_that_run(venv):
    out = _run([venv["python"], "-c",
                "import scratchrnn, parity; print(scratchrnn.__file__); print(parity.__file__)"],
               cwd=venv["cwd"], env=venv["env"]).stdout.split()
    for path in out:
        assert Path(path).resolve().is_relative_to(venv["prefix"]), out
        assert not Path(path).resolve().is_relative_to(ROOT), out
    script = venv["bin"] / "scratchrnn"
    shebang = script.read_text().splitlines()[0]
    assert shebang.startswith("#!") and Path(shebang[2:].strip()).parent == venv["bin"]


def test_installed_commands_run_from_another_directory(venv):
    cwd, env, exe = venv["cwd"], venv["env"], venv["bin"] / "scratchrnn"
    data = write_synthetic_csv(cwd / "surnames.csv")
    tiny = ["--data", data, "--epochs", "1", "--hidden", "4", "--embedding", "4",
            "--batch-size", "8", "--json"]
    out = _run([exe, "classify", "train", *tiny, "--out", "clf"], cwd=cwd, env=env).stdout
    assert "test_acc" in json.loads(out.splitlines()[-1])
    assert (cwd / "clf" / "model.npz").is_file()
    _run([exe, "generate", "train", *tiny, "--conditioned", "--out", "gen"], cwd=cwd, env=env)
    names = _run([exe, "generate", "sample", "--model", "gen", "--nationality", "Japanese",
                  "-n", "3", "--seed", "1", "--json"], cwd=cwd, env=env).stdout
    assert len(json.loads(names.splitlines()[-1])) == 3
    study = _run([exe, "study", "jacobian", "--cells", "elman-tanh", "--steps", "6",
                  "--hidden", "4", "--seeds", "1", "--no-radius", "--out", "jac", "--json"],
                 cwd=cwd, env=env)
    assert isinstance(json.loads(study.stdout.splitlines()[-1]), dict)
    bad = subprocess.run([str(exe), "classify", "train", "--epochs", "0"], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("scratchrnn classify train: error:"), bad.stderr


def test_installed_parity_runs_from_another_directory(venv):
    pytest.importorskip("torch")
    out = _run([venv["python"], "-m", "parity", "--quick", "--core-only"],
               cwd=venv["cwd"], env=venv["env"]).stdout
    assert "all within tolerance" in out
