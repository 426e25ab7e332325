"""One config per job: flag names == field names, defaults written once (in the dataclass),
the config stored in the checkpoint and the JSON output, and checkpoints of the layout
before the configs still load with the same predictions."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from scratchrnn import classify, config, generate
from scratchrnn.checkpoint import load_checkpoint
from scratchrnn.cli import build_parser, main
from tests.conftest import write_synthetic_csv

LEGACY = Path(__file__).parent / "fixtures" / "legacy"

# (argv that selects the command, its config class); OUT is required by the studies
COMMANDS = [
    (["classify", "train"], config.ClassifierConfig),
    (["generate", "train"], config.GeneratorConfig),
    (["study", "jacobian", "--out", "OUT"], config.JacobianConfig),
    (["study", "gradflow", "--out", "OUT"], config.GradflowConfig),
    (["study", "adding", "--out", "OUT"], config.AddingConfig),
    (["study", "gates", "--model", "M", "--out", "OUT"], config.GatesConfig),
]
NOT_SETTINGS = {"help", "json", "progress", "overwrite", "lab", "command"}  # run control


def subparser(argv: list[str]) -> argparse.ArgumentParser:
    p = build_parser()
    for word in argv[:2]:
        action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        p = action.choices[word]
    return p


@pytest.mark.parametrize(("argv", "cls"), COMMANDS)
def test_every_flag_is_a_field_of_the_config(argv, cls):
    names = {f.name for f in fields(cls)}
    for action in subparser(argv)._actions:
        if action.dest in NOT_SETTINGS:
            continue
        assert action.dest in names, f"{action.option_strings} has no field in {cls.__name__}"
        flag = "--" + action.dest.replace("_", "-")
        negated = "--no-" + action.dest.replace("_", "-")
        assert flag in action.option_strings or negated in action.option_strings, (
            f"field {action.dest} is set by {action.option_strings}, not {flag}")


@pytest.mark.parametrize(("argv", "cls"), COMMANDS)
def test_flags_not_given_keep_the_dataclass_defaults(argv, cls):
    """Defaults written once: the parser has none of its own for the job's settings."""
    ns = build_parser().parse_args(argv)
    cfg = config.from_namespace(cls, ns)
    given = {k: getattr(cfg, k) for k in ("out", "model") if k in {f.name for f in fields(cls)}}
    assert cfg == cls(**given)
    for action in subparser(argv)._actions:
        if action.dest not in NOT_SETTINGS and action.dest not in given:
            assert action.default is None, f"{action.option_strings} has its own default"


def test_every_training_or_study_command_but_gates_takes_reference():
    for argv, cls in COMMANDS:
        dests = {a.dest for a in subparser(argv)._actions}
        assert ("reference" in dests) == (cls is not config.GatesConfig), argv


def test_forget_bias_defaults_by_cell():
    assert config.ClassifierConfig(cell="lstm").forget_bias == 1.0
    assert config.ClassifierConfig(cell="gru").forget_bias == 0.0
    assert config.ClassifierConfig(cell="lstm", forget_bias=0.0).forget_bias == 0.0


@pytest.mark.parametrize("bad", [dict(cell="rnn"), dict(backend="jax")])
def test_a_bad_setting_is_a_value_error(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        config.ClassifierConfig(**bad)


# ---------------------------------------------------------------------------
# the same names in the checkpoint and the JSON output
# ---------------------------------------------------------------------------
def test_the_config_is_stored_in_the_checkpoint_and_the_json(tmp_path, capsys):
    data = write_synthetic_csv(tmp_path / "s.csv")
    out = tmp_path / "run"
    code = main(["classify", "train", "--cell", "gru", "--hidden", "5", "--embedding", "3",
                 "--epochs", "1", "--batch-size", "8", "--no-class-weights", "--reference",
                 "--data", str(data), "--out", str(out), "--no-progress", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = config.to_dict(config.ClassifierConfig(
        cell="gru", hidden=5, embedding=3, epochs=1, batch_size=8, class_weights=False,
        reference=True, data=str(data), out=str(out)))
    assert printed["config"] == expected
    assert json.loads((out / "metrics.json").read_text())["config"] == expected
    for name in ("model.npz", "last.npz"):
        assert load_checkpoint(out / name).hyperparameters["config"] == expected
    _, _, hp = classify.load_model(out)
    assert hp["config"] == expected


# ---------------------------------------------------------------------------
# checkpoints written before the configs (tests/fixtures/legacy, see its README)
# ---------------------------------------------------------------------------
def test_a_legacy_classifier_checkpoint_loads_and_predicts_as_before():
    expected = json.loads((LEGACY / "expected.json").read_text())
    model, _, hp = classify.load_model(LEGACY / "classifier.npz")
    assert "hidden_size" in load_checkpoint(LEGACY / "classifier.npz").hyperparameters
    cfg = hp["config"]
    assert (cfg["cell"], cfg["hidden"], cfg["embedding"], cfg["layers"]) == ("lstm", 4, 3, 1)
    assert cfg["forget_bias"] == 1.0 and hp["num_classes"] == 3
    got = classify.predict(LEGACY / "classifier.npz", ["Kamura", "Smith"], topk=3)
    for g, e in zip(got, expected["classify_predict"], strict=True):
        assert [p["nationality"] for p in g["predictions"]] == [
            p["nationality"] for p in e["predictions"]]
        np.testing.assert_allclose([p["probability"] for p in g["predictions"]],
                                   [p["probability"] for p in e["predictions"]], rtol=1e-6)


def test_a_legacy_generator_checkpoint_loads_and_scores_as_before():
    expected = json.loads((LEGACY / "expected.json").read_text())
    model, _, hp = generate.load_model(LEGACY / "generator.npz")
    assert hp["config"]["conditioned"] and hp["config"]["hidden"] == 4
    assert len(hp["prior"]) == hp["num_nationalities"] == 3
    for got, exp in ((generate.score(LEGACY / "generator.npz", ["Kamura", "Smith"]),
                      expected["generate_score"]),
                     (generate.score(LEGACY / "generator.npz", ["Kamura"], "Japanese"),
                      expected["generate_score_japanese"])):
        np.testing.assert_allclose([r["log_prob"] for r in got], [r["log_prob"] for r in exp],
                                   rtol=1e-6)


def test_a_checkpoint_with_an_unknown_setting_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown settings.*wobble"):
        config.checkpoint_hyperparameters(config.ClassifierConfig, {"config": {"wobble": 1}})
