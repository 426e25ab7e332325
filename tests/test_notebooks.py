"""The executed notebooks (notebooks/*.ipynb, made by ``make notebooks``): current and runnable.

* Every ``examples/*.py`` and ``examples/exercises/exN_*.py`` has its notebook, and the
  notebook's cells (code and markdown) are its source's as jupytext reads it: a drifted
  or missing notebook fails here.
* Every example runs as a notebook: made fresh from its .py, executed by nbclient in an
  IPython kernel with the short budget (``SCRATCHRNN_EPOCHS=1``); a cell error fails.
  This is where CI executes the examples (tests/test_examples.py runs them as scripts
  only where notebooks cannot be executed). Those that need the surnames data or torch
  skip, saying so, when it is not here. An exercise set's notebook runs on the reference
  solutions (every grade ✓) and once on a folder still to be written.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebooks_script",
                                               ROOT / "scripts" / "notebooks.py")
notebooks = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = notebooks  # dataclasses look their module up
_spec.loader.exec_module(notebooks)

PAIRS = notebooks.pairs()
IDS = [p.name for p in PAIRS]
MISSING = notebooks.missing_packages()
needs_jupytext = pytest.mark.skipif(
    any(m in MISSING for m in ("jupytext", "nbformat")),
    reason="jupytext/nbformat not installed (pip install -e '.[notebooks]')")


def test_every_example_and_exercise_set_is_paired():
    examples = [p for p in PAIRS if not notebooks.is_exercise(p)]
    exercises = [p for p in PAIRS if notebooks.is_exercise(p)]
    assert len(examples) >= 6 and {p.notebook.parent for p in examples} == {ROOT / "notebooks"}
    assert [p.name for p in exercises] == ["ex1_elman", "ex2_gating", "ex3_lstm", "ex4_gru",
                                         "ex5_sequence_bptt"]
    assert {p.notebook.parent for p in exercises} == {ROOT / "notebooks" / "exercises"}


@needs_jupytext
@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_notebook_is_current_with_its_example(pair):
    problem = notebooks.drift(pair)
    assert problem is None, f"{problem}: run `make notebooks` and commit the notebooks"


@needs_jupytext
def test_no_notebook_without_its_example():
    assert notebooks.orphans() == []


@needs_jupytext
def test_committed_notebooks_are_executed_small_and_settled():
    for pair in PAIRS:
        raw = json.loads(pair.notebook.read_text(encoding="utf-8"))
        code = [c for c in raw["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), f"{pair.notebook.name}: not executed"
        assert any(c["outputs"] for c in code), f"{pair.notebook.name}: no outputs"
        assert pair.notebook.stat().st_size < 300_000, f"{pair.notebook.name} too large"
        # nothing that changes from run to run but the outputs themselves
        assert raw["metadata"] == {"kernelspec": notebooks.KERNELSPEC,
                                   "language_info": {"name": "python"}}
        assert all(c["metadata"] == {} for c in raw["cells"]), pair.notebook.name


def _copy_example(tmp_path: Path, name: str = "03_gating_lstm_gru") -> object:
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / f"{name}.py", tmp_path / "examples")
    (pair,) = notebooks.pairs(tmp_path)
    return pair


@needs_jupytext
def test_drift_and_missing_notebooks_are_caught(tmp_path, capsys):
    pair = _copy_example(tmp_path)
    assert notebooks.drift(pair, tmp_path).endswith("has no notebook)")
    notebooks.write(notebooks.notebook_from_source(pair), pair.notebook)
    assert notebooks.drift(pair, tmp_path) is None
    assert notebooks.main(["--check"], root=tmp_path) == 0

    source = pair.source.read_text(encoding="utf-8")
    pair.source.write_text(source.replace("B, I, H = 3, 4, 5", "B, I, H = 3, 4, 6"),
                           encoding="utf-8")
    assert notebooks.drift(pair, tmp_path).endswith(
        ": cell 2 (code, 'import sys') differs from examples/03_gating_lstm_gru.py")

    pair.source.write_text(source.replace("## Gating, as the slides", "## Gating as the slides"),
                           encoding="utf-8")
    assert "(markdown, '## Gating as the slides" in notebooks.drift(pair, tmp_path)
    pair.source.write_text(source + "\n# %%\nprint('one more cell')\n", encoding="utf-8")
    assert "cells, examples/03_gating_lstm_gru.py has" in notebooks.drift(pair, tmp_path)

    capsys.readouterr()
    assert notebooks.main(["--check"], root=tmp_path) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("notebooks: notebooks/03_gating_lstm_gru.ipynb: ")
    assert err[-1] == "notebooks: run `make notebooks` and commit the notebooks"


@needs_jupytext
def test_damaged_or_orphaned_notebook_is_one_line(tmp_path, capsys):
    pair = _copy_example(tmp_path)
    pair.notebook.parent.mkdir()
    pair.notebook.write_text("{not json", encoding="utf-8")
    (pair.notebook.parent / "gone.ipynb").write_text("{}", encoding="utf-8")
    assert notebooks.main(["--check"], root=tmp_path) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("notebooks: notebooks/03_gating_lstm_gru.ipynb: unreadable (")
    assert err[1] == "notebooks: notebooks/gone.ipynb: no examples/gone.py (remove it)"


def test_unknown_example_is_one_line(capsys):
    if MISSING:
        pytest.skip(f"{', '.join(MISSING)} not installed")
    assert notebooks.main(["no_such_example"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("notebooks: no example 'no_such_example' (examples: 01_elman_rnn")


def test_title_cell_is_the_docstring():
    pytest.importorskip("jupytext")
    pair = next(p for p in PAIRS if p.name == "01_elman_rnn")
    first, second = notebooks.notebook_from_source(pair).cells[:2]
    assert first.cell_type == "markdown"
    assert first.source.startswith('# Lecture "Sequence Modeling", part 1: language models')
    assert "[`01_elman_rnn.py`](../examples/01_elman_rnn.py)" in first.source
    assert second.source.startswith("## Setup")


@pytest.fixture(scope="module")
def solutions(tmp_path_factory) -> str:
    """The reference solutions, as ``exercises init --solutions`` writes them."""
    from scratchrnn.exercises.template import write_exercises

    folder = tmp_path_factory.mktemp("solutions")
    write_exercises(folder, solutions=True)
    return str(folder)


def _executed(pair, exercises: str | None = None):
    if MISSING:
        pytest.skip(f"{', '.join(MISSING)} not installed (pip install -e '.[notebooks]')")
    if why := notebooks.cannot_run(pair.source):
        pytest.skip(f"{pair.source.name} {why}")
    try:
        nb = notebooks.execute(pair, epochs=1, exercises=exercises)
    except notebooks.ExecutionFailed as exc:
        pytest.fail(f"{exc}\n{exc.detail[-4000:]}")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs, f"{pair.name}: no outputs"
    if "plt.show()" in pair.source.read_text(encoding="utf-8") and \
            importlib.util.find_spec("matplotlib") is not None:
        assert any("image/png" in o.get("data", {}) for o in outputs), \
            f"{pair.name}: its plot did not come out inline"
    return "".join(o.get("text", "") for o in outputs)


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_example_executes_as_a_notebook(pair, request):
    if not notebooks.is_exercise(pair):
        _executed(pair)
        return
    # an exercise set's notebook on the reference solutions: every grade green, the
    # student's activations equal to the reference's
    printed = _executed(pair, request.getfixturevalue("solutions"))
    grades = [line for line in printed.splitlines() if "functions pass" in line]
    assert len(grades) == printed.count("Grading ") >= 2
    assert set(grades) == {"1 of 1 functions pass"}, printed
    (diffs,) = [line for line in printed.splitlines() if line.startswith("max |yours")]
    assert diffs.count("0.0e+00") == diffs.count(",") + 1, diffs


def test_exercise_notebook_writes_the_exercises_and_survives_unwritten_ones(tmp_path):
    pair = next(p for p in PAIRS if p.name == "ex3_lstm")
    folder = tmp_path / "my_exercises"
    printed = _executed(pair, str(folder))
    assert (folder / "ex3_lstm.py").is_file()  # written for the student: exercises init
    assert f"no {folder}/ex3_lstm.py yet: python -m scratchrnn exercises init {folder}" \
        in printed
    assert printed.count("not written yet (its body still raises NotImplementedError)") == 4
    assert "lstm_step_forward is not written yet: write it in ex3_lstm.py" in printed
