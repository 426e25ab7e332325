"""scratchrnn: Elman RNN, LSTM and GRU in NumPy, forward and BPTT by hand.

Never imports torch. See ``parity`` for the comparisons with ``torch.nn``.
"""

__version__ = "0.1.0"
