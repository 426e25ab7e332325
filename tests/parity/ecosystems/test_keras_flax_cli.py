"""``python -m parity check --keras / --flax``: exit 0 when equal, 1 with the table and the
named convention, 2 with one stderr line. Needs the shared checker (branch onnx) and both
extras."""

import importlib.util
import re

import pytest

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("flax") is None:
    pytest.skip("keras or flax is not installed (pip install -e '.[keras,flax]')",
                allow_module_level=True)
pytest.importorskip("parity.ecosystems.check", reason="the shared checker is not merged yet")

from parity.__main__ import main  # noqa: E402

GRU = ("import keras\n\ndef make():\n    return keras.layers.GRU(4, "
       "bias_initializer='random_normal'), 3\n")
CHO = ("import keras\n\ndef make():\n    return keras.layers.GRU(4, reset_after=False, "
       "bias_initializer='random_normal'), 3\n")
SWAPPED = """import keras
import numpy as np
import torch

def make():  # torch's r, z, n blocks copied into Keras' z, r, h: keras#8720
    torch.manual_seed(0)
    ref = torch.nn.GRU(3, 4).double()
    gru = keras.layers.GRU(4)
    gru.build((None, None, 3))
    sd = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    gru.cell.set_weights([sd["weight_ih_l0"].T, sd["weight_hh_l0"].T,
                          np.stack([sd["bias_ih_l0"], sd["bias_hh_l0"]])])
    return gru, 3, ref
"""
SELU = "import keras\n\ndef make():\n    return keras.layers.SimpleRNN(4, activation='selu'), 3\n"
LSTM = "import flax.linen as nn\n\ndef make():\n    return nn.LSTMCell(features=4), 3\n"


def run(tmp_path, capsys, flag, source, *extra):
    f = tmp_path / "layer.py"
    f.write_text(source)
    code = main(["check", flag, f"{f}:make", "--examples", "2", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_keras_gru_passes(tmp_path, capsys):
    code, out, err = run(tmp_path, capsys, "--keras", GRU)
    assert code == 0, out + err
    assert "GRU gate order z,r,h (torch: r,z,n)" in out


def test_keras_reset_after_false_fails_named(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--keras", CHO)
    assert code == 1
    assert "reset applied before the hidden projection" in out and "reset_after=False" in out


def test_weights_loaded_in_torch_order_are_diagnosed_as_swapped(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "--keras", SWAPPED)
    assert code == 1
    assert re.search(r"(r and z|z and r)[^\n]*swapped", out), out


def test_a_refused_activation_is_one_line_exit_2(tmp_path, capsys):
    code, out, err = run(tmp_path, capsys, "--keras", SELU)
    assert code == 2 and "selu" in err and len(err.strip().splitlines()) == 1


def test_flax_lstm_passes_as_the_subset_with_input_biases_missing(tmp_path, capsys):
    code, out, err = run(tmp_path, capsys, "--flax", LSTM)
    assert code == 0, out + err
    assert "input biases missing" in out
