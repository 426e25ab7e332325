"""``python -m parity check`` / ``vectors`` exit codes and output, and the pytest plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")

from parity.__main__ import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
ZOO = Path(__file__).with_name("zoo.py")

USER_FILE = textwrap.dedent('''
    import numpy as np
    import sys
    sys.path.insert(0, {root!r})
    from tests.parity.kit.zoo import lstm_concat_forward, lstm_concat_backward, make_lstm
    from parity.kit.stateful import StepCell

    step_forward = lstm_concat_forward
    step_backward = lstm_concat_backward
    carry_forward, carry_backward = make_lstm(drop_carry=True)

    def three_args(x, h, c, W, b):
        pass

    class Cell(StepCell):
        def __init__(self, input_size, hidden_size, bias):
            H, I = hidden_size, input_size
            p = {{"W": np.zeros((4 * H, H + I))}}
            if bias:
                p["b"] = np.zeros(4 * H)
            super().__init__(lstm_concat_forward, lstm_concat_backward, p)
''')


@pytest.fixture(scope="module")
def user_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("user") / "mycell.py"
    path.write_text(USER_FILE.format(root=str(ROOT)))
    return str(path)


def test_correct_step_exits_0(user_file, capsys):
    rc = main(["check", f"{user_file}:step_forward", "--cell", "lstm", "--layout", "concat",
               "--examples", "10"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "equals torch.nn.LSTMCell on 10 hypothesis cases" in out
    assert "forward and backward" in out  # step_backward found by name


def test_wrong_step_exits_1_with_the_report(user_file, capsys):
    rc = main(["check", f"{user_file}:carry_forward", "--cell", "lstm", "--examples", "10",
               "--json"])
    rec = json.loads(capsys.readouterr().out)
    assert rc == 1 and rec["passed"] is False
    failed = [q["name"] for q in rec["diagnosis"]["quantities"] if not q["passed"]]
    assert failed == ["d_c_prev"]


def test_cell_class_runs_the_state_machine(user_file, capsys):
    rc = main(["check", f"{user_file}:Cell", "--cell", "lstm", "--layout", "concat",
               "--examples", "5"])
    assert rc == 0, capsys.readouterr().out


@pytest.mark.parametrize("args,needle", [
    (["nosuchmodule_xyz:f"], "cannot import nosuchmodule_xyz"),
    (["{user}:nothing"], "has no attribute 'nothing'"),
    (["{user}:three_args"], "cannot be called as forward(x, state, params)"),
    (["{user}:step_forward", "--layout", "diagonal"], "unknown layout 'diagonal'"),
    (["{user}:step_forward", "--layout", "concat", "--cell", "gru"], "b_hn sits inside"),
    (["{user}:step_forward", "--cell", "lstm", "--order", "ifgx"], "not a permutation"),
    (["{user}:step_forward", "--cell", "hopfield"], "invalid choice: 'hopfield'"),
])
def test_user_mistakes_are_one_line_and_exit_2(user_file, capsys, args, needle):
    args = [a.format(user=user_file) for a in args]
    if "--cell" not in args:
        args += ["--cell", "lstm"]
    rc = main(["check", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_plain_parity_keeps_its_report_flags(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--json" in out and "--device" in out and "check" in out


def test_the_module_entry_point_and_the_pytest_plugin(tmp_path):
    """As a user runs them: a subprocess, and a suite using the rnn_parity fixture."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["parity.kit.plugin"]\n')
    (tmp_path / "test_mine.py").write_text(textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.parity.kit import zoo

        def test_good(rnn_parity):
            rnn_parity.cell(zoo.lstm_concat_forward, zoo.lstm_concat_backward, "lstm",
                            "concat")

        def test_bad(rnn_parity):
            rnn_parity.cell(*zoo.make_gru(swap_z=True), cell="gru")
    '''))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--parity-examples", "10", str(tmp_path)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert "1 failed, 1 passed" in r.stdout, r.stdout + r.stderr
    assert "z (update gate" in r.stdout
    r = subprocess.run([sys.executable, "-m", "parity", "check", "nosuch:f", "--cell", "gru"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
