"""Lab 2: sampling, scoring, the generative classifier and the generate CLI.

Synthetic data only (tests/test_reliability.synthetic_csv); tiny models.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchrnn import classify, generate
from scratchrnn.cli import main
from tests.conftest import NATIONS, synthetic_csv

TINY = dict(hidden=6, embedding=5, batch_size=8, progress=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synthetic_csv(tmp_path_factory.mktemp("gen-data"), n_train=48)


@pytest.fixture(scope="module")
def cond_dir(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("cond")
    generate.train(data=str(data), out=out, conditioned=True, epochs=3, **TINY)
    return out


@pytest.fixture(scope="module")
def uncond_dir(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("uncond")
    generate.train(data=str(data), out=out, cell="lstm", epochs=2, **TINY)
    return out


def test_train_metrics_keys(cond_dir):
    m = json.loads((cond_dir / "metrics.json").read_text())
    for key in ("test_loss", "test_acc", "test_perplexity", "epochs", "seconds_per_epoch",
                "generative_classifier_test_acc"):
        assert key in m
    assert math.isclose(m["test_perplexity"], math.exp(m["test_loss"]))


def test_log_probability_is_the_sum_of_next_character_log_probs(uncond_dir):
    """log P(s) from a batch equals the step-by-step product of the model's conditionals."""
    model, vec, _ = generate.load_model(uncond_dir)
    for surname in ["Abc", "Zu", "Kowalski"]:
        (lp,) = generate.log_probability(model, vec, [surname])
        state, x_t, total = None, np.array([vec.char_vocab.begin_seq_index]), 0.0
        for ch in [*surname, None]:
            logits, state = model.step(x_t, state)
            z = logits[0].astype(np.float64)
            logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
            target = (vec.char_vocab.end_seq_index if ch is None
                      else vec.char_vocab.lookup_token(ch))
            total += logp[target]
            x_t = np.array([target])
        assert lp == pytest.approx(total, rel=1e-5, abs=1e-5)


def test_posterior_is_bayes_rule(cond_dir, data):
    model, vec, hp = generate.load_model(cond_dir)
    names = ["Abc", "Lorem"]
    ll = generate.log_probability_by_nationality(model, vec, names)
    post = generate.nationality_posterior(model, vec, names, np.asarray(hp["prior"]))
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    expected = np.exp(ll) * np.asarray(hp["prior"])
    np.testing.assert_allclose(post, expected / expected.sum(axis=1, keepdims=True), rtol=1e-6)


@given(n=st.integers(1, 6), temperature=st.floats(0.05, 3.0), top_k=st.none() | st.integers(1, 5),
       seed=st.integers(0, 1000))
@settings(max_examples=20)
def test_sampling_properties(uncond_dir, n, temperature, top_k, seed):
    model, vec, _ = generate.load_model(uncond_dir)
    a = generate.sample(model, vec, n=n, temperature=temperature, top_k=top_k, rng=seed)
    b = generate.sample(model, vec, n=n, temperature=temperature, top_k=top_k, rng=seed)
    assert a == b and len(a) == n  # seeded
    specials = {"<MASK>", "<UNK>", "<BEGIN>"}
    assert all(not any(s in name for s in specials) for name in a)
    assert all(len(name) <= vec.max_length for name in a)


def test_top_k_one_is_greedy(uncond_dir):
    model, vec, _ = generate.load_model(uncond_dir)
    names = generate.sample(model, vec, n=4, top_k=1, rng=0)
    assert len(set(names)) == 1  # no randomness left


def test_conditioned_sampling_needs_a_known_nationality(cond_dir):
    model, vec, _ = generate.load_model(cond_dir)
    assert len(generate.sample(model, vec, n=3, nationality=NATIONS[0].upper(), rng=0)) == 3
    with pytest.raises(ValueError, match="Czech"):  # the error lists the valid names
        generate.sample(model, vec, n=3, nationality="Martian", rng=0)
    with pytest.raises(ValueError, match="conditioned"):
        generate.sample(model, vec, n=3, rng=0)


@pytest.mark.parametrize("kw, needle", [({"temperature": 0}, "temperature"),
                                        ({"temperature": -1}, "temperature"),
                                        ({"top_k": 0}, "top-k"), ({"n": 0}, "n must")])
def test_sampling_bad_arguments(uncond_dir, kw, needle):
    model, vec, _ = generate.load_model(uncond_dir)
    with pytest.raises(ValueError, match=needle):
        generate.sample(model, vec, **{"n": 2, **kw})


def test_score_unknown_characters_warn_and_use_unk(uncond_dir):
    with pytest.warns(UserWarning, match="<UNK>"):
        (r,) = generate.score(uncond_dir, ["Ab漢"])
    assert np.isfinite(r["log_prob"])


def test_score_conditioned_without_nationality_gives_posterior(cond_dir):
    (r,) = generate.score(cond_dir, ["Abc"])
    assert set(r["posterior"]) == set(NATIONS)
    assert sum(r["posterior"].values()) == pytest.approx(1.0)
    (r2,) = generate.score(cond_dir, ["Abc"], nationality=NATIONS[1])
    assert r2["log_prob"] == pytest.approx(r["log_prob_by_nationality"][NATIONS[1]], rel=1e-6)


# -- CLI ----------------------------------------------------------------------------
def _run(argv, capsys):
    capsys.readouterr()  # drop earlier output (e.g. a fixture's training log)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _user_error(code, err):
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_cli_sample_and_score(cond_dir, capsys):
    code, out, _ = _run(["generate", "sample", "--model", str(cond_dir), "--nationality",
                         NATIONS[2], "-n", "4", "--seed", "1", "--json"], capsys)
    assert code == 0 and len(json.loads(out.strip().splitlines()[-1])) == 4
    code, out, _ = _run(["generate", "score", "--model", str(cond_dir), "Abc", "--json"],
                        capsys)
    assert code == 0 and "posterior" in json.loads(out.strip().splitlines()[-1])[0]


@pytest.mark.parametrize("extra", [["--temperature", "0"], ["--temperature", "-2"],
                                   ["--top-k", "0"], ["-n", "0"], ["--nationality", "Martian"]])
def test_cli_sample_bad_input(cond_dir, capsys, extra):
    code, _, err = _run(["generate", "sample", "--model", str(cond_dir), *extra], capsys)
    _user_error(code, err)


def test_cli_classifier_checkpoint_given_to_generate(data, tmp_path, capsys):
    classify.train(data=str(data), out=tmp_path, hidden=4, embedding=4, epochs=1,
                   batch_size=8, progress=False)
    code, _, err = _run(["generate", "sample", "--model", str(tmp_path)], capsys)
    _user_error(code, err)
    assert "classifier" in err and "generator" in err


def test_cli_missing_model_dir(tmp_path, capsys):
    code, _, err = _run(["generate", "score", "--model", str(tmp_path / "nope"), "Abc"], capsys)
    _user_error(code, err)
