"""The Keras 3 adapter (parity.ecosystems.keras): every layer type equals its torch twin in
outputs and gradients, each Keras convention is named, and what has no torch twin is either
refused with one line or shown to differ."""

import importlib.util
import sys
import types

import numpy as np
import pytest

# not importorskip("keras"): that would import it on its default (TensorFlow) backend
if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
    pytest.skip("keras or torch is not installed (pip install -e '.[keras]')",
                allow_module_level=True)

from parity.ecosystems import keras as K  # noqa: E402
from parity.kit.cli import UserMistake  # noqa: E402

from .twin import checked_vector_rows, compare, each_loadable_vector, golden_vector_errors, twin  # noqa: E402

keras = K._keras()
RANDOM_BIAS = {"bias_initializer": "random_normal"}


def make(factory, input_size=3, dtype="float64"):
    with K._floatx(keras, dtype):
        layer = factory()
    return K.foreign_layer(layer, input_size)


LAYERS = {
    "simple-tanh": (lambda: keras.layers.SimpleRNN(4, **RANDOM_BIAS), "rnn_tanh", "float32"),
    "simple-relu": (lambda: keras.layers.SimpleRNN(4, activation="relu", **RANDOM_BIAS),
                    "rnn_relu", "float32"),
    "lstm": (lambda: keras.layers.LSTM(4, **RANDOM_BIAS), "lstm", "float64"),
    "gru": (lambda: keras.layers.GRU(4, **RANDOM_BIAS), "gru", "float64"),
    "rnn-grucell": (lambda: keras.layers.RNN(keras.layers.GRUCell(4, **RANDOM_BIAS)), "gru",
                    "float32"),
    "bi-lstm": (lambda: keras.layers.Bidirectional(keras.layers.LSTM(3, **RANDOM_BIAS)),
                "lstm", "float64"),
    "bi-gru": (lambda: keras.layers.Bidirectional(keras.layers.GRU(3, **RANDOM_BIAS)), "gru",
               "float64"),
    "gru-backwards": (lambda: keras.layers.GRU(4, go_backwards=True, **RANDOM_BIAS), "gru",
                      "float64"),
    "lstm-dropout": (lambda: keras.layers.LSTM(4, dropout=0.5, **RANDOM_BIAS), "lstm",
                     "float64"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("h0", [True, False])
def test_each_layer_equals_its_torch_twin(name, h0):
    factory, cell, dtype = LAYERS[name]
    layer = make(factory)
    assert (layer.cell, layer.dtype) == (cell, dtype)
    err = compare(layer, h0=h0, seed=len(name))
    assert {"output", "h_n", "d_input", "d_weight_ih_l0", "d_bias_hh_l0"} <= set(err)
    assert ("d_h0" in err) == h0
    tol = 1e-9 if dtype == "float64" else 1e-4
    assert max(err.values()) < tol, err
    assert not layer.missing


def test_the_gate_orders_and_transposes_are_named():
    gru = "\n".join(make(LAYERS["gru"][0]).conventions)
    assert "GRU gate order z,r,h (torch: r,z,n)" in gru
    assert "W_ih, W_hh transposed" in gru and "reset_after=True" in gru
    lstm = "\n".join(make(LAYERS["lstm"][0]).conventions)
    assert "LSTM gate order i,f,c,o" in lstm and "unit_forget_bias=True" in lstm
    back = "\n".join(make(LAYERS["gru-backwards"][0]).conventions)
    assert "go_backwards=True" in back and "time-flipped" in back


def test_the_generic_loop_is_reported_as_float32():
    # SimpleRNN runs Keras' cell loop, whose matmul computes float64 in float32: float64
    # weights and inputs still give errors of float32 size
    layer = make(LAYERS["simple-tanh"][0])
    assert layer.dtype == "float32"
    assert any("computes float64 in float32" in c for c in layer.conventions)
    assert 1e-12 < compare(layer)["output"] < 1e-4


def test_reset_after_false_has_no_torch_twin_and_says_so():
    layer = make(lambda: keras.layers.GRU(4, reset_after=False, **RANDOM_BIAS))
    assert any("reset applied before the hidden projection (Cho v3)" in c and
               "reset_after=False" in c for c in layer.conventions)
    err = compare(layer)
    assert err["output"] > 1e-3  # torch's form differs (by far more than float32 error)
    # …and it is Cho's form: n = tanh(W_in x + b_in + W_hn (r ⊙ h))
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((4, 2, 3)), np.zeros((2, 4))
    W_ih, W_hh, b = (layer.state_dict[k] for k in ("weight_ih_l0", "weight_hh_l0",
                                                   "bias_ih_l0"))
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for x_t in x:
        gi = x_t @ W_ih.T + b
        r_t = sig(gi[:, :4] + h @ W_hh[:4].T)
        z_t = sig(gi[:, 4:8] + h @ W_hh[4:8].T)
        n_t = np.tanh(gi[:, 8:] + (r_t * h) @ W_hh[8:].T)
        h = (1 - z_t) * n_t + z_t * h
    assert np.max(np.abs(layer.run(x)["h_n"][0] - h)) < 1e-5


def test_use_bias_false_is_the_subset_with_biases_missing():
    layer = make(lambda: keras.layers.LSTM(4, use_bias=False))
    assert layer.missing == ["biases b_ih", "biases b_hh"]
    assert any("biases missing" in c for c in layer.conventions)
    assert not np.any(layer.state_dict["bias_ih_l0"]) and not np.any(
        layer.state_dict["bias_hh_l0"])
    err = compare(layer)
    assert "d_bias_ih_l0" not in err and max(err.values()) < 1e-9


def test_a_gru_loaded_in_torch_block_order_differs_by_the_z_r_swap():
    # the keras#8720 mistake: torch's W_ir, W_iz, W_in copied into Keras' z, r, h blocks
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.GRU(3, 4).double()
    with K._floatx(keras, "float64"):
        gru = keras.layers.GRU(4)
        gru.build((None, None, 3))
    sd = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    gru.cell.set_weights([sd["weight_ih_l0"].T, sd["weight_hh_l0"].T,
                          np.stack([sd["bias_ih_l0"], sd["bias_hh_l0"]])])
    layer = K.foreign_layer(gru, reference=ref)
    assert any("reference torch weights" in c for c in layer.conventions)
    assert compare(layer)["output"] > 1e-3
    # the Keras layer is torch's GRU with the r and z blocks swapped
    layer.state_dict = {k: np.concatenate([v[4:8], v[:4], v[8:]])
                        for k, v in layer.state_dict.items()}
    assert max(compare(layer).values()) < 1e-9


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_from_torch_state_dict_holds_torch_weights(cell, bidirectional):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN)
    kw = {"nonlinearity": cell[4:]} if cell.startswith("rnn_") else {}
    ref = cls(3, 4, bidirectional=bidirectional, **kw).double()
    sd = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
    layer = K.from_torch_state_dict(cell, sd)
    assert (layer.cell, layer.bidirectional) == (cell, bidirectional)
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    got = layer.run(x)["output"]
    want = ref(torch.tensor(x))[0].detach().numpy()
    assert np.max(np.abs(got - want)) < (1e-9 if layer.dtype == "float64" else 1e-5)


@each_loadable_vector
def test_golden_vectors_load(name, spec, arrays):
    errors, tol = golden_vector_errors(K, spec, arrays)
    assert max(errors.values()) < tol, (name, errors)


@pytest.mark.parametrize("factory,words", [
    (lambda: keras.layers.SimpleRNN(4, activation="selu"), "activation 'selu'"),
    (lambda: keras.layers.LSTM(4, recurrent_activation="hard_sigmoid"), "hard_sigmoid"),
    (lambda: keras.layers.Bidirectional(keras.layers.GRU(4), merge_mode="sum"), "merge_mode"),
    (lambda: keras.layers.GRU(4, stateful=True), "stateful"),
    (lambda: keras.layers.Dense(4), "expected a keras SimpleRNN"),
])
def test_refused_with_one_line(factory, words):
    with pytest.raises(UserMistake) as exc:
        make(factory)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_an_unbuilt_layer_needs_its_input_size():
    with pytest.raises(UserMistake, match="not built"):
        K.foreign_layer(keras.layers.GRU(4))


def test_keras_on_another_backend_is_refused(monkeypatch):
    fake = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: "jax"))
    monkeypatch.setitem(sys.modules, "keras", fake)
    with pytest.raises(UserMistake, match="KERAS_BACKEND=torch"):
        K._keras()


def test_load_reads_a_module_file(tmp_path):
    f = tmp_path / "mylayer.py"
    f.write_text("import keras\n\ndef make():\n    return keras.layers.GRU(5), 2\n")
    layer = K.load(f"{f}:make")
    assert (layer.cell, layer.input_size, layer.hidden_size, layer.dtype) == (
        "gru", 2, 5, "float64")
    assert max(compare(layer).values()) < 1e-9
    assert twin(layer).hidden_size == 5


def test_a_reference_that_does_not_fit_is_one_line():
    torch = pytest.importorskip("torch")
    with K._floatx(keras, "float64"):
        gru = keras.layers.GRU(4)
    with pytest.raises(UserMistake) as exc:
        K.foreign_layer(gru, 3, reference=torch.nn.LSTM(3, 4))
    assert "do not fit the layer" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.filterwarnings("ignore:LSTM with projections")  # torch writing the vectors
def test_the_vectors_hook_checks_the_golden_vectors_in_keras(tmp_path):
    rows = checked_vector_rows("keras", tmp_path)
    assert {r["name"] for r in rows} >= {"elman-tanh-float64", "lstm-float64", "gru-float64"}
    assert all(r["ok"] for r in rows), rows
