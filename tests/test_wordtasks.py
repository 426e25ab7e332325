"""The word-level slides (scratchrnn.studies.wordlm, .sentiment) and the examples' settings.

Properties of the language model (log P of a sentence is the sum of its words' terms, the
next-word distribution sums to 1 and agrees with those terms, padding changes nothing),
of the corpora (deterministic per seed; every phrase's label follows from its words by
the stated rule), of the bag of words (order-blind, hence linear in "not"), and two small
trainings: the LM ranks "sat" above "sad" after "the cat", and the RNN beats the bag of
words on negated phrases.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchrnn.models import SurnameGenerator
from scratchrnn.studies import lecture, sentiment, wordlm

CORPUS = wordlm.lm_corpus(n=200, seed=0)
VOCAB = wordlm.build_vocabulary(CORPUS)
WORDS = VOCAB.tokens[4:]


def _untrained(cell: str, seed: int) -> SurnameGenerator:
    return SurnameGenerator(8, len(VOCAB), 8, cell=cell, dropout_p=0.0, dtype=np.float64,
                            rng=seed).eval()


sentences = st.lists(st.sampled_from(WORDS + ["zebra"]), min_size=1, max_size=7).map(" ".join)


CORPORA = {"lm": wordlm.lm_corpus, "sentiment": sentiment.sentiment_corpus}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(CORPORA)), st.integers(0, 2**16), st.integers(1, 60))
def test_corpora_are_deterministic_per_seed(name, seed, n):
    assert CORPORA[name](n=n, seed=seed) == CORPORA[name](n=n, seed=seed)
    assert len(CORPORA[name](n=n, seed=seed)) == n


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_corpora_of_other_seeds_differ(name):
    assert CORPORA[name](n=50, seed=0) != CORPORA[name](n=50, seed=1)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 60))
def test_lm_corpus_follows_its_grammar(seed, n):
    for s in wordlm.lm_corpus(n=n, seed=seed):
        w = wordlm.words(s)
        assert w[0] == "the"
        for before, word in zip(w, w[1:], strict=False):
            if word in wordlm.MOODS:  # "sad" after "was" or "the", never after an animal
                assert before in ("was", "the"), s


@settings(max_examples=25, deadline=None)
@given(st.lists(sentences, min_size=1, max_size=4), st.sampled_from(["elman", "lstm", "gru"]),
       st.integers(0, 100))
def test_sentence_log_prob_is_the_sum_of_its_words_and_padding_changes_nothing(
        batch, cell, seed):
    model = _untrained(cell, seed)
    x, y = wordlm.encode_lm(VOCAB, batch)
    assert np.all(x[:, 0] == VOCAB.begin_seq_index)
    rows = wordlm.token_log_probs(model, x, y, VOCAB.mask_index)
    assert np.all(rows <= 0) and np.all(rows[y == VOCAB.mask_index] == 0)
    for sentence, row in zip(batch, rows, strict=True):
        tokens, logp = wordlm.sentence_log_prob(model, VOCAB, sentence)  # alone: no padding
        assert len(tokens) == len(logp) == len(wordlm.words(sentence)) + 1
        assert tokens[-1] == VOCAB.END
        assert np.isclose(logp.sum(), row.sum(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(logp, row[: len(logp)], rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(sentences, st.sampled_from(["elman", "lstm", "gru"]), st.integers(0, 100))
def test_next_word_distribution_sums_to_one_and_matches_the_chain_rule(sentence, cell, seed):
    model = _untrained(cell, seed)
    tokens, logp = wordlm.sentence_log_prob(model, VOCAB, sentence)
    words = wordlm.words(sentence)
    for t, token in enumerate(tokens):
        p = wordlm.next_word_distribution(model, VOCAB, " ".join(words[:t]))
        assert p.shape == (len(VOCAB),) and np.all(p >= 0)
        assert np.isclose(p.sum(), 1.0, rtol=1e-12)
        assert np.isclose(np.log(p[VOCAB.lookup_token(token)]), logp[t], rtol=1e-10)


@pytest.fixture(scope="module")
def trained_lm():
    model, vocab, losses = wordlm.train_lm(CORPUS, cell="elman", hidden=16, steps=80, seed=0)
    return model, vocab, losses


def test_the_trained_lm_ranks_sat_above_sad(trained_lm):
    model, vocab, losses = trained_lm
    assert losses[-1] < losses[0]
    p = wordlm.next_word_distribution(model, vocab, "the cat")
    assert p[vocab.lookup_token("sat")] > 10 * p[vocab.lookup_token("sad")]
    good, bad = wordlm.SLIDE_PAIRS[0]
    assert wordlm.sentence_log_prob(model, vocab, good)[1].sum() > \
        wordlm.sentence_log_prob(model, vocab, bad)[1].sum()


def _label_by_rule(text: str) -> int:
    """The corpus's rule, read back from the words: the clause after "but" decides; its
    polarity word decides, flipped by "not"."""
    clause = text.split(" but ")[-1].split()
    positive = {*sentiment.POSITIVE, "like", "love", "enjoy", "liked", "loved", "enjoyed"}
    negative = {*sentiment.NEGATIVE, "hate", "dislike", "hated", "disliked"}
    (polar,) = [w for w in clause if w in positive | negative]
    return int((polar in positive) != ("not" in clause))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 80))
def test_sentiment_corpus_is_labelled_by_its_rule(seed, n):
    for p in sentiment.sentiment_corpus(n=n, seed=seed):
        assert p.label == _label_by_rule(p.text), p
        assert p.kind in sentiment.KINDS
        assert ("not" in p.text.split()) == (p.kind == "negated") or p.kind == "contrast"
        assert (" but " in p.text) == (p.kind == "contrast")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=9), st.randoms())
def test_bag_of_words_counts_words_and_ignores_their_order(words, random):
    shuffled = list(words)
    random.shuffle(shuffled)
    phrases = [sentiment.Phrase(" ".join(w), 0, "plain") for w in (words, shuffled)]
    x, lengths, _ = sentiment.encode_phrases(VOCAB, phrases)
    counts = sentiment.bag_of_words(x, len(VOCAB))
    assert np.array_equal(counts[0], counts[1])
    assert counts[0].sum() == lengths[0] == len(words)


@pytest.fixture(scope="module")
def comparison():
    return sentiment.compare(n_train=300, n_test=200, cell="elman", epochs=15, seed=0)


def test_rnn_reads_negation_that_a_bag_of_words_cannot(comparison):
    bow, rnn = comparison["bag_of_words"], comparison["rnn"]
    assert comparison["n_test"] > 0
    assert rnn["negated"] > bow["negated"] + 20 and rnn["all"] > bow["all"] + 20


def test_a_bag_of_words_is_linear_in_not():
    """score(good) − score(not good) = score(bad) − score(not bad), whatever the weights:
    it cannot flip both, which is why it fails the negated phrases."""
    phrases = sentiment.sentiment_corpus(n=200, seed=3)
    vocab = wordlm.build_vocabulary([p.text for p in phrases])
    x, _, y = sentiment.encode_phrases(vocab, phrases)
    bow = sentiment.train_bag_of_words(x, y, len(vocab), steps=50, seed=3)
    probes = [sentiment.Phrase(t, 0, "") for t in (
        "the movie was good", "the movie was not good", "the movie was bad",
        "the movie was not bad")]
    px, _, _ = sentiment.encode_phrases(vocab, probes)
    logits = bow.forward(sentiment.bag_of_words(px, len(vocab)))[0]
    s = logits[:, 1] - logits[:, 0]
    assert np.isclose(s[0] - s[1], s[2] - s[3], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name, value", [("SCRATCHRNN_EPOCHS", "abc"), ("SCRATCHRNN_EPOCHS", "0"),
                                         ("SCRATCHRNN_CELL", "rnn")])
def test_a_wrong_example_setting_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path,
                                                        name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        lecture.example_settings(tmp_path, "x")
    assert exc.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{name} must be") and repr(value) in line


def test_example_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SCRATCHRNN_EPOCHS", "7")
    monkeypatch.delenv("SCRATCHRNN_CELL", raising=False)
    s = lecture.example_settings(tmp_path, "04_x", cell="gru")
    assert s == (tmp_path / "data" / "surnames", tmp_path / "runs" / "examples" / "04_x", 7,
                 "gru")
    monkeypatch.setenv("SCRATCHRNN_CELL", "lstm")
    assert lecture.example_settings(tmp_path, "04_x").cell == "lstm"
