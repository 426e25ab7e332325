"""The Flax linen adapter (parity.ecosystems.flax): each cell equals its torch twin in outputs
and gradients, the biases a cell lacks are named and zero on the torch side, and torch's
weights load into it (folded) exactly."""

import numpy as np
import pytest

pytest.importorskip("flax", reason="flax is not installed (pip install -e '.[flax]')")
pytest.importorskip("torch", reason="torch is not installed")

from parity.ecosystems import flax as F  # noqa: E402
from parity.kit.cli import UserMistake  # noqa: E402

from .twin import checked_vector_rows, compare, each_loadable_vector, golden_vector_errors  # noqa: E402

jax, nn = F._jax()
BIAS = {"bias_init": nn.initializers.normal(1.0)}  # non-zero biases: the mapping shows

CELLS = {
    "simple-tanh": (lambda: nn.SimpleCell(4, **BIAS), "rnn_tanh", ["recurrent biases b_hh"]),
    "simple-relu": (lambda: nn.SimpleCell(4, activation_fn=nn.relu, **BIAS), "rnn_relu",
                    ["recurrent biases b_hh"]),
    "simple-residual": (lambda: nn.SimpleCell(4, residual=True, **BIAS), "rnn_tanh",
                        ["recurrent biases b_hh"]),
    "lstm": (lambda: nn.LSTMCell(4, **BIAS), "lstm", ["input biases b_ih"]),
    "optimized-lstm": (lambda: nn.OptimizedLSTMCell(4, **BIAS), "lstm", ["input biases b_ih"]),
    "gru": (lambda: nn.GRUCell(4, **BIAS), "gru", ["recurrent biases b_hr, b_hz"]),
}


@pytest.mark.parametrize("name,h0", [(n, True) for n in sorted(CELLS)]
                         + [("lstm", False), ("gru", False), ("simple-tanh", False)])
def test_each_cell_equals_its_torch_twin(name, h0):
    factory, cell, missing = CELLS[name]
    layer = F.foreign_layer(factory(), 3, seed=len(name))
    assert (layer.cell, layer.dtype, layer.missing) == (cell, "float64", missing)
    err = compare(layer, h0=h0, seed=len(name))
    assert {"output", "h_n", "d_input", "d_weight_ih_l0", "d_weight_hh_l0"} <= set(err)
    assert ("d_h0" in err) == h0 and ("d_c0" in err) == (h0 and cell == "lstm")
    assert max(err.values()) < 1e-9, err


def test_lstm_input_biases_missing_named_and_zero_on_the_torch_side():
    layer = F.foreign_layer(CELLS["lstm"][0](), 3)
    text = "\n".join(layer.conventions)
    assert "input biases missing (google/flax#3746)" in text
    assert "LSTM carry is (c, h)" in text and "ii/if/ig/io" in text
    assert not np.any(layer.state_dict["bias_ih_l0"]) and np.any(layer.state_dict["bias_hh_l0"])
    # no gradient is claimed for a parameter the cell does not hold
    g = layer.gradients(np.ones((2, 1, 3)), None, None, np.ones((2, 1, 4)))
    assert "d_bias_ih_l0" not in g and "d_bias_hh_l0" in g


def test_gru_reset_acts_after_the_hidden_projection():
    layer = F.foreign_layer(CELLS["gru"][0](), 3)
    text = "\n".join(layer.conventions)
    assert "reset applied after the hidden projection" in text
    assert "h = (1-z)*n + z*h_prev" in text
    assert np.any(layer.state_dict["bias_hh_l0"][8:])  # b_hn is flax's hn bias
    assert not np.any(layer.state_dict["bias_hh_l0"][:8])


def test_params_set_from_torch_in_the_wrong_gate_order_differ():
    # torch's i, f, g, o blocks written into flax's ii, ig, if, io (f and g swapped)
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4, bias=False).double()
    W_ih, W_hh = (ref.state_dict()[k].numpy() for k in ("weight_ih_l0", "weight_hh_l0"))
    params = {}
    for name, g in zip("ifgo", [0, 2, 1, 3], strict=True):
        params["i" + name] = {"kernel": W_ih[g * 4:(g + 1) * 4].T}
        params["h" + name] = {"kernel": W_hh[g * 4:(g + 1) * 4].T, "bias": np.zeros(4)}
    layer = F.foreign_layer(nn.LSTMCell(4), 3, params, reference=ref)
    assert compare(layer)["output"] > 1e-3
    order = [0, 2, 1, 3]
    layer.state_dict = {k: np.concatenate([v[g * 4:(g + 1) * 4] for g in order])
                        for k, v in layer.state_dict.items()}
    assert max(compare(layer).values()) < 1e-9


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_from_torch_state_dict_folds_the_biases_exactly(cell):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN)
    kw = {"nonlinearity": cell[4:]} if cell.startswith("rnn_") else {}
    ref = cls(3, 4, **kw).double()
    with torch.no_grad():
        for p in ref.parameters():
            p.normal_()
    layer = F.from_torch_state_dict(cell, {k: v.numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((5, 2, 3))
    want = ref(torch.tensor(x))[0].detach().numpy()
    assert np.max(np.abs(layer.run(x)["output"] - want)) < 1e-9


@each_loadable_vector
def test_golden_vectors_load(name, spec, arrays):
    errors, tol = golden_vector_errors(F, spec, arrays)
    assert max(errors.values()) < tol, (name, errors)


@pytest.mark.parametrize("factory,words", [
    (lambda: nn.SimpleCell(4, activation_fn=nn.gelu), "activation_fn 'gelu'"),
    (lambda: nn.GRUCell(4, gate_fn=nn.hard_sigmoid), "hard_sigmoid"),
    (lambda: nn.MGUCell(4), "got MGUCell"),
])
def test_refused_with_one_line(factory, words):
    with pytest.raises(UserMistake) as exc:
        F.foreign_layer(factory(), 3)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_load_reads_a_module_file(tmp_path):
    f = tmp_path / "mycell.py"
    f.write_text("import flax.linen as nn\n\ndef make():\n    return nn.GRUCell(features=5), 2\n")
    layer = F.load(f"{f}:make")
    assert (layer.cell, layer.input_size, layer.hidden_size) == ("gru", 2, 5)
    assert max(compare(layer).values()) < 1e-9
    f.write_text("def make():\n    return 3\n")
    with pytest.raises(UserMistake, match=r"must return \(cell, input_size\)"):
        F.load(f"{f}:make")


@pytest.mark.filterwarnings("ignore:LSTM with projections")  # torch writing the vectors
def test_the_vectors_hook_checks_the_golden_vectors_in_flax(tmp_path):
    rows = checked_vector_rows("flax", tmp_path)
    assert {r["name"] for r in rows} >= {"elman-tanh-float64", "lstm-float64", "gru-float64"}
    assert all(r["ok"] for r in rows), rows
