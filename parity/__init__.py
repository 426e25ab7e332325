"""parity: the only home of torch in this project.

Weight conversion between scratchrnn and torch.nn, torch twins, comparisons of
outputs and gradients, and hypothesis strategies a user can reuse.
torch is imported lazily, inside the functions that need it.
"""
