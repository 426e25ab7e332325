"""``python -m scratchrnn exercises init``: the exercise files and their reference solutions.

The written files import with NumPy alone, keep every exercise's signature and docstring,
raise NotImplementedError naming the exercise until written, and (``--solutions``) compute
exactly what the reference functions compute, on every variant the grader uses. The
command never loses a student's file.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.exercises import EXERCISE_SETS
from scratchrnn.exercises.template import EQUATIONS, README, TODOS, write_exercises
from tests.conftest import run_cli, seeds

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = [(s, e) for s in EXERCISE_SETS for e in s.exercises]
FILES = [s.file for s in EXERCISE_SETS] + [README]


def _load(path: Path, prefix: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{prefix}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # inspect.getsource finds a class through its module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("exercises")
    write_exercises(base / "student")
    write_exercises(base / "solutions", solutions=True)
    return {"student": base / "student", "solutions": base / "solutions"}


@pytest.fixture(scope="module")
def modules(written) -> dict[str, dict[str, ModuleType]]:
    return {kind: {s.stem: _load(folder / s.file, kind) for s in EXERCISE_SETS}
            for kind, folder in written.items()}


# -- the files ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["student", "solutions"])
def test_files_import_numpy_and_nothing_of_scratchrnn(written, kind):
    for s in EXERCISE_SETS:
        tree = ast.parse((written[kind] / s.file).read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert imported <= {"__future__", "typing", "numpy"}, (s.file, imported)
        assert ast.get_docstring(tree).startswith(
            f"Exercise {EXERCISE_SETS.index(s) + 1} of {len(EXERCISE_SETS)}")


def test_files_are_ruff_clean(written):
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config",
         str(ROOT / "pyproject.toml"), *map(str, written.values())],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("kind", ["student", "solutions"])
def test_signatures_docstrings_and_order_are_the_references(modules, kind):
    for s in EXERCISE_SETS:
        module = modules[kind][s.stem]
        for e in s.exercises:
            ref = getattr(importlib.import_module(e.source), e.name)
            fn = getattr(module, e.name)
            assert inspect.signature(fn) == inspect.signature(ref), e.name
            assert fn.__doc__ == ref.__doc__ and fn.__doc__, e.name
        tree = ast.parse(inspect.getsource(module))
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        order = [name for name in defined if name in {e.name for e in s.exercises}]
        assert order == [e.name for e in s.exercises], s.file


def test_given_code_is_the_reference_verbatim(modules):
    from scratchrnn import functional

    for s in EXERCISE_SETS:
        reference = importlib.import_module(s.exercises[0].source)
        for kind in ("student", "solutions"):
            module = modules[kind][s.stem]
            assert inspect.getsource(module.sigmoid) == inspect.getsource(functional.sigmoid)
            for name in s.given:
                mine, ref = getattr(module, name), getattr(reference, name)
                if inspect.isfunction(ref) or inspect.isclass(ref):
                    assert inspect.getsource(mine) == inspect.getsource(ref), name
                    if inspect.isclass(ref):
                        assert mine._fields == ref._fields, name
                else:
                    assert mine == ref, name


@pytest.mark.parametrize(("exercise_set", "exercise"), EXERCISES,
                         ids=[e.name for _, e in EXERCISES])
def test_every_exercise_raises_not_implemented_naming_itself(modules, exercise_set, exercise):
    fn = getattr(modules["student"][exercise_set.stem], exercise.name)
    required = [p for p in inspect.signature(fn).parameters.values()
                if p.default is inspect.Parameter.empty]
    with pytest.raises(NotImplementedError, match=f"^{exercise.name}$"):
        fn(*[None] * len(required))


# -- the solutions compute what the reference computes ---------------------------------------
#: each variant the grader uses: (the set, the gate blocks G, the variant's keyword)
VARIANTS = {
    "elman": ("ex1_elman", 1, {"nonlinearity": "tanh"}),
    "elman-relu": ("ex1_elman", 1, {"nonlinearity": "relu"}),
    "gated-none": ("ex2_gating", 1, {"gating": "none"}),
    "gated-input": ("ex2_gating", 2, {"gating": "input"}),
    "gated-hidden": ("ex2_gating", 3, {"gating": "hidden"}),
    "lstm": ("ex3_lstm", 4, {}),
    "gru": ("ex4_gru", 3, {"form": "torch"}),
    "gru-slide": ("ex4_gru", 3, {"form": "slide"}),
}
PREFIX = {"ex1_elman": "elman", "ex2_gating": "gated", "ex3_lstm": "lstm", "ex4_gru": "gru"}


def test_every_exercise_has_a_todo_and_every_set_its_equations():
    assert set(TODOS) == {e.name for _, e in EXERCISES}
    assert set(EQUATIONS) == {s.stem for s in EXERCISE_SETS}


def test_every_variant_of_the_manifest_is_checked():
    assert {v for _, e in EXERCISES for v in e.variants} == set(VARIANTS)
    for _, e in EXERCISES:
        if e.level == "sequence":
            assert e.name.split("_")[0] in {PREFIX[VARIANTS[v][0]] for v in e.variants}
            continue  # the loop over t: test_sequence_solutions_equal_the_reference
        for v in e.variants:
            assert e.name.startswith(PREFIX[VARIANTS[v][0]]), (e.name, v)


def _same(mine, ref, what: str) -> None:
    """Equal to the last bit: arrays, None, strings, and tuples/dicts of them."""
    if isinstance(ref, dict):
        assert mine.keys() == ref.keys(), what
        for k in ref:
            _same(mine[k], ref[k], f"{what}[{k!r}]")
    elif isinstance(ref, tuple):
        assert len(mine) == len(ref), what
        fields = getattr(ref, "_fields", range(len(ref)))
        for f, m, r in zip(fields, mine, ref, strict=True):
            _same(m, r, f"{what}.{f}")
    elif isinstance(ref, np.ndarray):
        assert isinstance(mine, np.ndarray) and mine.dtype == ref.dtype, what
        np.testing.assert_array_equal(mine, ref, err_msg=what)
    else:
        assert mine == ref, what


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@given(B=st.integers(1, 4), I=st.integers(1, 4), H=st.integers(1, 4), bias=st.booleans(),
       projection=st.booleans(), seed=seeds)
def test_solutions_equal_the_reference(modules, variant, B, I, H, bias, projection, seed):
    stem, G, kw = VARIANTS[variant]
    sol = modules["solutions"][stem]
    name = PREFIX[stem]
    ref = importlib.import_module(next(s for s in EXERCISE_SETS if s.stem == stem)
                                  .exercises[0].source)
    rng = np.random.default_rng(seed)

    def draw(*shape):
        return rng.standard_normal(shape)

    x, h_prev, c_prev = draw(B, I), draw(B, H), draw(B, H)
    W_ih, W_hh, gx = draw(G * H, I), draw(G * H, H), draw(B, G * H)
    b_ih, b_hh = (draw(G * H), draw(G * H)) if bias else (None, None)
    dh, dc = draw(B, H), draw(B, H)
    step_f, step_b = f"{name}_step_forward", f"{name}_step_backward"

    if name == "lstm":
        W_hr = draw(H, H) if projection else None  # proj_size = H keeps the shapes
        ref_out = ref.lstm_step_forward(gx, h_prev, c_prev, W_hh, b_hh, W_hr)
        _same(sol.lstm_step_forward(gx, h_prev, c_prev, W_hh, b_hh, W_hr), ref_out, step_f)
        _same(sol.lstm_step_backward(dh, dc, ref_out[-1], W_hh, W_hr),
              ref.lstm_step_backward(dh, dc, ref_out[-1], W_hh, W_hr), step_b)
        cell_args, grad_args = (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh), (dh, dc)
    else:
        ref_out = getattr(ref, step_f)(gx, h_prev, W_hh, b_hh, **kw)
        _same(getattr(sol, step_f)(gx, h_prev, W_hh, b_hh, **kw), ref_out, step_f)
        # the backward on the reference forward's cache, as the grader calls it
        _same(getattr(sol, step_b)(dh, ref_out[-1], W_hh),
              getattr(ref, step_b)(dh, ref_out[-1], W_hh), step_b)
        cell_args, grad_args = (x, h_prev, W_ih, W_hh, b_ih, b_hh), (dh,)
    if name == "gated":
        return  # the gating set has steps only
    cell_f, cell_b = f"{name}_cell_forward", f"{name}_cell_backward"
    ref_cell = getattr(ref, cell_f)(*cell_args, **kw)
    _same(getattr(sol, cell_f)(*cell_args, **kw), ref_cell, cell_f)
    _same(getattr(sol, cell_b)(*grad_args, ref_cell[-1]),
          getattr(ref, cell_b)(*grad_args, ref_cell[-1]), cell_b)


# -- the command ------------------------------------------------------------------------------
def test_init_writes_the_files_and_a_readme_in_the_lectures_order(tmp_path):
    code, out, err = run_cli(["exercises", "init", str(tmp_path / "ex")])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == sorted(FILES)
    readme = (tmp_path / "ex" / README).read_text(encoding="utf-8")
    positions = [readme.index(f"`{s.file}`") for s in EXERCISE_SETS]
    assert positions == sorted(positions)
    assert f"python -m parity grade {tmp_path / 'ex'}" in readme
    assert "--solutions" in readme
    assert "python -m parity grade" in out
    # the same files again: nothing to refuse, nothing rewritten
    code, out, err = run_cli(["exercises", "init", str(tmp_path / "ex")])
    assert code == 0 and "unchanged" in out, err


@pytest.mark.parametrize("flags", [[], ["--solutions"]])
def test_init_refuses_to_overwrite_a_students_file(tmp_path, flags):
    folder = tmp_path / "ex"
    assert run_cli(["exercises", "init", str(folder)])[0] == 0
    mine = folder / "ex3_lstm.py"
    work = mine.read_text(encoding="utf-8").replace(
        'raise NotImplementedError("lstm_step_forward")', "return 42  # my work")
    mine.write_text(work, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    code, out, err = run_cli(["exercises", "init", str(folder), *flags])
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "ex3_lstm.py" in err and "--force" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing written

    code, out, err = run_cli(["exercises", "init", str(folder), *flags, "--force"])
    assert code == 0, err
    assert (folder / "ex3_lstm.py.bak").read_text(encoding="utf-8") == work
    assert "my work" not in mine.read_text(encoding="utf-8")
    # a second --force keeps the first backup too
    mine.write_text(work + "# more\n", encoding="utf-8")
    assert run_cli(["exercises", "init", str(folder), *flags, "--force"])[0] == 0
    assert (folder / "ex3_lstm.py.bak").read_text(encoding="utf-8") == work
    assert (folder / "ex3_lstm.py.bak2").read_text(encoding="utf-8") == work + "# more\n"


def test_bad_folders_give_one_line(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    for target in (str(a_file), str(a_file / "sub"), ""):
        code, out, err = run_cli(["exercises", "init", target])
        assert code == 2, target
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert a_file.read_text(encoding="utf-8") == "mine"
    (tmp_path / "ex").mkdir()
    (tmp_path / "ex" / "ex1_elman.py").mkdir()  # a folder where a file goes
    code, out, err = run_cli(["exercises", "init", str(tmp_path / "ex"), "--force"])
    assert code == 2 and "not a regular file" in err


# -- exercise set 5: the loop over t ----------------------------------------------------------
@given(lstm=st.booleans(), T=st.integers(1, 4), B=st.integers(1, 3), H=st.integers(1, 3),
       lengths=st.booleans(), relu=st.booleans(), seed=seeds)
def test_sequence_solutions_equal_the_reference_and_finite_differences(
        modules, lstm, T, B, H, lengths, relu, seed):
    """The written solutions compute the reference's loop to the last bit, and that loop is
    the gradient of L = Σ out ⊙ d_out + h_n ⊙ dh_n (+ C_n ⊙ dc_n) with respect to the input
    projections and the initial state (central differences, float64)."""
    from scratchrnn.exercises import sequence as ref

    sol = modules["solutions"]["ex5_sequence_bptt"]
    rng = np.random.default_rng(seed)
    G = 4 if lstm else 1
    GX, W_hh, b_hh = (rng.standard_normal((T, B, G * H)), rng.uniform(-1, 1, (G * H, H)),
                      rng.uniform(-1, 1, G * H))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    d_out, dh_n, dc_n = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), \
        rng.standard_normal((B, H))
    mask = None
    if lengths:
        mask = np.arange(T)[:, None, None] < rng.integers(1, T + 1, B)[None, :, None]
    nonlinearity = "tanh" if lstm or not relu else "relu"

    def loss(GX, h0, c0):
        if lstm:
            out, h_n, c_n, steps = ref.lstm_sequence_forward(GX, h0, c0, W_hh, b_hh, mask)
            return (out * d_out).sum() + (h_n * dh_n).sum() + (c_n * dc_n).sum(), steps
        out, h_n, steps = ref.elman_sequence_forward(GX, h0, W_hh, b_hh, mask, nonlinearity)
        return (out * d_out).sum() + (h_n * dh_n).sum(), steps

    _, steps = loss(GX, h0, c0)
    if lstm:
        grads = ref.lstm_sequence_backward(d_out, dh_n, dc_n, steps, W_hh, mask)
        _same(sol.lstm_sequence_backward(d_out, dh_n, dc_n, steps, W_hh, mask), grads, "lstm")
    else:
        grads = ref.elman_sequence_backward(d_out, dh_n, steps, W_hh, mask)
        _same(sol.elman_sequence_backward(d_out, dh_n, steps, W_hh, mask), grads, "elman")
    if mask is not None:  # a padded step's input gets no gradient
        assert np.all(grads[0][~np.broadcast_to(mask, grads[0].shape)] == 0)
    # a random direction V: Σ V ⊙ dL/dGX (and the same for h0, c0) by central differences
    eps = 1e-6
    for k, arg in enumerate((GX, h0, c0)[:3 if lstm else 2]):
        V = rng.standard_normal(arg.shape)
        args = [GX, h0, c0]
        args[k] = arg + eps * V
        plus = loss(*args)[0]
        args[k] = arg - eps * V
        minus = loss(*args)[0]
        analytic = (V * grads[[0, 2, 3][k]]).sum()
        if relu and not lstm and np.any(np.abs(np.concatenate(
                [s.h_t for s in steps])) < 1e-4):
            continue  # a ReLU kink within reach of eps: the difference is not a derivative
        assert abs((plus - minus) / (2 * eps) - analytic) <= 1e-6 * max(1, abs(analytic)), k


# -- hard mode -----------------------------------------------------------------------------
def test_hard_mode_keeps_the_functions_drops_the_todos_and_the_derivations(tmp_path):
    from scratchrnn.exercises.template import HARD_DOCS

    assert set(HARD_DOCS) == {e.name for _, e in EXERCISES if e.kind == "backward"}
    assert run_cli(["exercises", "init", str(tmp_path / "hard"), "--hard"])[0] == 0
    assert run_cli(["exercises", "init", str(tmp_path / "easy")])[0] == 0
    for s in EXERCISE_SETS:
        text = (tmp_path / "hard" / s.file).read_text(encoding="utf-8")
        easy = (tmp_path / "easy" / s.file).read_text(encoding="utf-8")
        assert "# TODO" not in text and "# TODO" in easy
        assert "Hard mode" in ast.get_docstring(ast.parse(text))
        # the given code is the same as in the normal mode
        given = "# Given: copied from the reference"
        assert text[text.index(given):text.index("# Your code")] == \
            easy[easy.index(given):easy.index("# Your code")]
        module = _load(tmp_path / "hard" / s.file, "hard")
        for e in s.exercises:
            ref = getattr(importlib.import_module(e.source), e.name)
            fn = getattr(module, e.name)
            assert inspect.signature(fn) == inspect.signature(ref), e.name
            if e.kind == "backward":
                assert inspect.cleandoc(fn.__doc__) == inspect.cleandoc(HARD_DOCS[e.name])
                # no line of the reference's derivation is left in
                derivation = inspect.cleandoc(ref.__doc__).splitlines()[1:]
                assert not [ln for ln in derivation if "=" in ln and ln in fn.__doc__], e.name
            else:
                assert fn.__doc__ == ref.__doc__, e.name
            required = [p for p in inspect.signature(fn).parameters.values()
                        if p.default is inspect.Parameter.empty]
            with pytest.raises(NotImplementedError, match=f"^{e.name}$"):
                fn(*[None] * len(required))
    assert "Hard mode" in (tmp_path / "hard" / README).read_text(encoding="utf-8")


def test_hard_with_solutions_is_one_line_exit_2_and_writes_nothing(tmp_path):
    code, out, err = run_cli(["exercises", "init", str(tmp_path / "x"), "--hard",
                              "--solutions"])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--hard" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
