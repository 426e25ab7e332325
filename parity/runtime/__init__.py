"""The torch runtime of the labs and the adding problem (not the comparison harness).

* :mod:`parity.runtime.models` — torch twins of the lab models (same ``state_dict`` names);
* :mod:`parity.runtime.backend` — ``TorchBackend``, the labs' torch backend (CPU or CUDA),
  an implementation of :class:`scratchrnn.backend.Backend`;
* :mod:`parity.runtime.adding` — the adding problem trained in torch.

``scratchrnn`` never imports these: its command line (:mod:`scratchrnn.cli`, the one
composition root) picks them when a user asks for ``--backend torch`` and hands them in.
"""
