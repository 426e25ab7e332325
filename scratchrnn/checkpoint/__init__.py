"""Checkpoints: one ``.npz`` file with the arrays and a JSON manifest, no pickle anywhere.

    format.py    the constants, Checkpoint, CheckpointError, the JSON <-> arrays mapping
    writing.py   save_checkpoint (validate, then an atomic write)
    reading.py   load_checkpoint (sniff, check the manifest and every array)


A checkpoint is a single file written by :func:`save_checkpoint` and read back by
:func:`load_checkpoint`. It is an ordinary NumPy ``.npz`` (zip) archive whose
entries are::

    meta.json             uint8 array: the UTF-8 bytes of the JSON metadata below
    param/<name>          one model parameter, under its torch state_dict name
    optim/<path>          one array of the optimizer state (e.g. optim/buffers/exp_avg/fc.weight)
    extra/<key>           any extra array the caller passes (``extra_arrays``)

and the metadata is strict JSON (no NaN/Infinity)::

    {"format": "scratchrnn-checkpoint", "format_version": 1,
     "kind": "classifier",                       # what the model is; checked on load
     "hyperparameters": {...},                   # enough to rebuild the model
     "vocabularies": {...},
     "optimizer": {...} | null,                  # optimizer state_dict, arrays replaced
                                                 #   by {"__ndarray__": "optim/<path>"}
     "scheduler": {...} | null,                  # e.g. ReduceLROnPlateau.state_dict()
     "epoch": 3,
     "extra": {...},                             # free JSON: early stopping, RNG states, ...
     "params": {"fc.weight": {"shape": [4, 3], "dtype": "float32"}, ...},
     "extra_arrays": {"<key>": {"shape": [...], "dtype": "..."}, ...}}

Everything is read with ``np.load(..., allow_pickle=False)``: loading a checkpoint
never executes code, and an archive holding an object array is rejected. Every
problem on loading (missing file, not an archive, a torch ``.pth``, a truncated
or corrupted file, a newer format, the wrong kind of model, arrays that disagree
with the manifest) raises :class:`CheckpointError`
(a ``ValueError``) with a one-line message that starts with the file's path.

Writes are atomic: the archive goes to a temporary file in the target's
directory, is flushed and ``fsync``-ed, then ``os.replace``-d onto the real name,
so a crash mid-write leaves any earlier checkpoint at that name intact.

Typical use::

    save_checkpoint(path, model.state_dict(), kind="classifier",
                    hyperparameters=hp, optimizer_state=opt.state_dict(),
                    scheduler_state=sched.state_dict(), epoch=epoch,
                    extra={"rng": rng.bit_generator.state})
    ckpt = load_checkpoint(path, kind="classifier")
    model.load_state_dict(ckpt.model_state)
    opt.load_state_dict(ckpt.optimizer_state)
"""

from .format import FORMAT, FORMAT_VERSION, Checkpoint, CheckpointError
from .reading import load_checkpoint
from .writing import save_checkpoint

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
]
