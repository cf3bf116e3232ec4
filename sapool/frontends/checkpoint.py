"""Front end for sapool checkpoints (.pt written by `sapool train` / `sapool prune`).

sapool.train.checkpoint does the loading (torch.load with weights_only=True, so a pickle's code never runs, and
the pruning record resizes the network before its weights go in); this module turns the result into a
LoadedModel and adds the hint a user with some other .pt needs.
"""

from __future__ import annotations

import re
from pathlib import Path

from sapool.errors import BadInputError
from sapool.frontends.loaded import SAPOOL_CHECKPOINT, LoadedModel
from sapool.data.datasets import FASHION_MNIST

OTHER_MODELS_HINT = ("sapool reads only checkpoints written by sapool train/prune as .pt; "
                     "for another torch model use torch.export.save (.pt2) or export it to ONNX")


def load_sapool_checkpoint(path: Path) -> LoadedModel:
    """The checkpoint's network in eval mode, with what it records (normalisation, class names, data set)."""
    from sapool.train.checkpoint import PRUNED_CHANNELS_KEY, load_checkpoint, restore_model

    try:
        checkpoint = load_checkpoint(path)
    except BadInputError as err:
        refused = _refused_global(err.__cause__)
        if refused:
            raise BadInputError(f"{path} holds pickled Python objects ({refused}), which sapool never unpickles; "
                                f"{OTHER_MODELS_HINT}") from None
        raise BadInputError(f"{err}. {OTHER_MODELS_HINT}") from None
    module = restore_model(checkpoint)
    config = checkpoint.config
    dataset = recorded_dataset(checkpoint.dataset)
    pruned = bool(checkpoint.train_args.get(PRUNED_CHANNELS_KEY))
    description = (f"sapool checkpoint: {config.arch} with {config.pool} pooling ({config.downsample} downsampling, "
                   f"width {config.width:g}){', pruned' if pruned else ''}, {len(checkpoint.class_names)} classes, "
                   f"trained on {checkpoint.dataset if dataset else 'an unusable recorded data set'}")
    return LoadedModel(
        kind=SAPOOL_CHECKPOINT,
        path=path,
        module=module,
        input_shape=(1, config.in_channels, config.input_size, config.input_size),
        normalization=checkpoint.normalization,
        class_names=checkpoint.class_names,
        dataset=dataset,
        description=description,
        checkpoint=checkpoint,
    )


def recorded_dataset(spec: str) -> str | None:
    """The data set a checkpoint records, when sapool may read it without being asked; else None (then the user
    passes --calib/--eval). A checkpoint is data from anywhere: its "" or "/" would have sapool scan the working
    folder or the whole disk for images, so the working folder, the home folder, their ancestors and the root are
    never taken from a file."""
    if not spec or not spec.strip() or "\x00" in spec:
        return None
    if spec == FASHION_MNIST:
        return spec
    from sapool.data.datasets import data_file

    try:
        folder = data_file(spec).expanduser().resolve()
        here = Path.cwd().resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    protected = {Path("/"), Path.home().resolve(), here, *here.parents}
    return None if folder in protected else spec


def _refused_global(cause: BaseException | None) -> str | None:
    """"GLOBAL __main__.Net" when torch's weights-only unpickler refused a class or function in the file."""
    match = re.search(r"[Uu]nsupported (?:global: )?(GLOBAL [\w.]+)", str(cause or ""))
    return match.group(1) if match else None
