# SPDX-License-Identifier: GPL-3.0-or-later
"""train.json: the one record of a training run, read and written only here.

`amc train` writes it last (its presence marks a finished run); `amc evaluate`,
`export`, `quantize`, `prune` and `train --init` read it. A pruned copy of a run is a
run too, with `pruned` set.
"""

from __future__ import annotations

import dataclasses
import json
import os

from ..runtime import features
from ..runtime.atomic import write_json

FILE = "train.json"


@dataclasses.dataclass
class TrainRecord:
    model: str  # zoo name (ml.models.MODELS)
    params: int
    classes: list[str]
    spec: dict  # runtime.features.VectorSpec fields; window = the first length trained on
    variable_length: bool
    data: str  # the dataset file (absolute path)
    data_sha256: str
    seed: int
    command: str = ""
    lengths: list[int] | None = None  # every length trained on (None: spec's window)
    data_attrs: dict = dataclasses.field(default_factory=dict)
    config: dict = dataclasses.field(default_factory=dict)  # TrainConfig, less model/data/out
    epochs_run: int | None = None
    seconds_per_epoch: float | None = None
    history: dict = dataclasses.field(default_factory=dict)  # metric -> one value per epoch
    pruned: dict | None = None  # set on runs written by amc prune

    @property
    def trained_lengths(self) -> list[int]:
        return list(self.lengths or [self.spec["window"]])

    def vector_spec(self, window: int | None = None) -> features.VectorSpec:
        """The vectorizer parameters of the model, at `window` (default: the first length)."""
        return features.VectorSpec(**{**self.spec, **({} if window is None else {"window": window})})

    def validate(self, where: str = "") -> TrainRecord:
        where = where or "train.json"
        if not isinstance(self.classes, list) or len(self.classes) < 2:
            raise ValueError(f"{where}: classes must list at least two names")
        try:
            self.vector_spec()
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: spec {self.spec}: {e}") from None
        if not all(isinstance(n, int) and n >= features.MIN_WINDOW for n in self.trained_lengths):
            raise ValueError(f"{where}: lengths {self.lengths} must be integers >= {features.MIN_WINDOW}")
        return self

    @classmethod
    def read(cls, run_dir: str) -> TrainRecord:
        """The record of a finished run; ValueError naming the file when it is missing or malformed."""
        path = os.path.join(run_dir, FILE)
        if not os.path.isfile(path):
            raise ValueError(f"{run_dir} is not a finished run (no {FILE})")
        with open(path) as f:
            try:
                raw = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: not JSON ({e})") from None
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: not a JSON object")
        missing = sorted(f.name for f in dataclasses.fields(cls)
                         if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                         and f.name not in raw)  # fmt: skip
        if missing:
            raise ValueError(f"{path}: lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in raw.items() if k in names}).validate(path)

    def write(self, run_dir: str) -> None:
        write_json(os.path.join(run_dir, FILE), self.to_dict())

    def to_dict(self) -> dict:
        return {
            k: v for k, v in dataclasses.asdict(self).items() if v is not None or k == "seconds_per_epoch"
        }
