"""torch twins of the labs' models, with the same ``state_dict`` names as scratchrnn's.

These are also the labs' torch backend (CPU or GPU). torch is imported lazily:
the classes are built on first use by :func:`torch_classes`.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from scratchrnn.models import SurnameClassifier, SurnameGenerator

from .._torch import import_torch, torch_dtype


@cache
def torch_classes():
    """(TorchSurnameClassifier, TorchSurnameGenerator), defined once torch is imported."""
    torch = import_torch()
    nn, F = torch.nn, torch.nn.functional
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    def dropout(x, p, training, mask):
        """F.dropout, or inverted dropout with a given 0/1 mask (drawn by NumPy)."""
        if mask is None:
            return F.dropout(x, p, training)
        return x * mask * (0.0 if p == 1 else 1.0 / (1.0 - p))

    def make_rnn(cell, input_size, hidden_size, num_layers, bidirectional):
        cls = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        return cls(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                   bidirectional=bidirectional)

    class TorchSurnameClassifier(nn.Module):
        """torch twin of :class:`scratchrnn.models.SurnameClassifier`."""

        def __init__(self, embedding_size, num_embeddings, num_classes, rnn_hidden_size,
                     cell="elman", num_layers=1, bidirectional=False, padding_idx=0,
                     dropout_p=0.5):
            super().__init__()
            self.cell, self.hidden_size, self.dropout_p = cell, rnn_hidden_size, dropout_p
            self.bidirectional = bidirectional
            self.emb = nn.Embedding(num_embeddings, embedding_size, padding_idx=padding_idx)
            self.rnn = make_rnn(cell, embedding_size, rnn_hidden_size, num_layers, bidirectional)
            D = 2 if bidirectional else 1
            self.fc1 = nn.Linear(D * rnn_hidden_size, rnn_hidden_size)
            self.fc2 = nn.Linear(rnn_hidden_size, num_classes)

        def forward(self, x_in, lengths, masks=(None, None)):
            """``masks``: the two dropout keep-masks (B, D·H) and (B, H), or None each."""
            B, T = x_in.shape
            x = self.emb(x_in)
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
            H = self.hidden_size
            feat = out[torch.arange(B, device=out.device), lengths - 1, :H]
            if self.bidirectional:
                feat = torch.cat([feat, out[:, 0, H:]], dim=1)
            p, training = self.dropout_p, self.training
            y = F.relu(self.fc1(dropout(feat, p, training, masks[0])))
            return self.fc2(dropout(y, p, training, masks[1]))

    class TorchSurnameGenerator(nn.Module):
        """torch twin of :class:`scratchrnn.models.SurnameGenerator`."""

        def __init__(self, char_embedding_size, char_vocab_size, rnn_hidden_size, cell="gru",
                     num_nationalities=None, num_layers=1, padding_idx=0, dropout_p=0.5):
            super().__init__()
            self.cell, self.num_layers, self.dropout_p = cell, num_layers, dropout_p
            self.conditioned = num_nationalities is not None
            self.char_emb = nn.Embedding(char_vocab_size, char_embedding_size,
                                         padding_idx=padding_idx)
            if self.conditioned:
                self.nation_emb = nn.Embedding(num_nationalities, rnn_hidden_size)
            self.rnn = make_rnn(cell, char_embedding_size, rnn_hidden_size, num_layers, False)
            self.fc = nn.Linear(rnn_hidden_size, char_vocab_size)

        def initial_state(self, nationality_index):
            if not self.conditioned:
                return None
            h0 = self.nation_emb(nationality_index).unsqueeze(0)
            h0 = h0.expand(self.num_layers, -1, -1).contiguous()
            return (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0

        def forward(self, x_in, nationality_index=None, masks=(None,)):
            """``masks``: the dropout keep-mask (B, T, H) of the RNN output, or None."""
            out, _ = self.rnn(self.char_emb(x_in), self.initial_state(nationality_index))
            return self.fc(dropout(out, self.dropout_p, self.training, masks[0]))

    return TorchSurnameClassifier, TorchSurnameGenerator


def hyperparameters(model) -> dict:
    """Constructor arguments of a NumPy lab model (enough to build either twin)."""
    if isinstance(model, SurnameClassifier):
        return dict(embedding_size=model.emb.embedding_dim,
                    num_embeddings=model.emb.num_embeddings,
                    num_classes=model.fc2.params["weight"].shape[0],
                    rnn_hidden_size=model.hidden_size, cell=model.cell,
                    num_layers=model.rnn.num_layers, bidirectional=model.rnn.bidirectional,
                    padding_idx=model.emb.padding_idx, dropout_p=model.drop1.p)
    if isinstance(model, SurnameGenerator):
        return dict(char_embedding_size=model.char_emb.embedding_dim,
                    char_vocab_size=model.char_emb.num_embeddings,
                    rnn_hidden_size=model.hidden_size, cell=model.cell,
                    num_nationalities=(model.nation_emb.num_embeddings
                                       if model.conditioned else None),
                    num_layers=model.num_layers, padding_idx=model.char_emb.padding_idx,
                    dropout_p=model.drop.p)
    raise TypeError(f"not a lab model: {type(model).__name__}")


def to_torch_model(model, device: str = "cpu"):
    """The torch twin of a NumPy lab model, with the same weights and dtype."""
    torch = import_torch()
    Clf, Gen = torch_classes()
    cls = Clf if isinstance(model, SurnameClassifier) else Gen
    twin = cls(**hyperparameters(model)).to(dtype=torch_dtype(model.dtype), device=device)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.state_dict().items()}
    twin.load_state_dict(state)
    twin.train(model.training)
    return twin


def load_numpy_from_torch(model, twin) -> None:
    """Copy a torch twin's weights into the NumPy model (names match one to one)."""
    model.load_state_dict({k: v.detach().cpu().numpy() for k, v in twin.state_dict().items()})
