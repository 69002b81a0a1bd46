"""The analyser's learned decisions: small linear models read from a JSON file, scored in pure Python.

Rules and lexicons propose (attack sentences, place mentions, dates, candidate incidents) and describe
each proposal as named features (:mod:`cashwatch.processors.features`); a model trained from the
labelled corpus weighs them (``python -m cashwatch.processors.training train``, scikit-learn's logistic
regression). Only the weights ship: inference here needs no numpy or scikit-learn.

The model file (``processors/data/models.json``)::

    {"format": 1, "trained": {"corpus_sha256", "articles", "libraries", "cv": {...}},
     "models": {"<decision>": {"classes": [...], "features": [...], "mean": [...], "scale": [...],
                               "coef": [[...] one row per class, or one row for two classes], "intercept": [...]}}}

Every decision keeps its evidence: :meth:`LinearModel.explain` gives the features that pushed the
decision hardest, which the analyser attaches to its result so an analyst can see why.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Mapping

MODEL_FORMAT = 1
_FILE = "data/models.json"


@dataclass(frozen=True)
class LinearModel:
    """A logistic-regression model over named features (standardised with the training mean and scale).

    Two classes: one coefficient row, the probability of ``classes[1]``. More: one row per class (softmax).
    A feature missing from the input counts as 0; an input feature the model does not know is ignored.
    """

    name: str
    classes: tuple[str, ...]
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]

    @classmethod
    def from_dict(cls, name: str, d: Mapping) -> "LinearModel":
        m = cls(name, tuple(d["classes"]), tuple(d["features"]), tuple(d["mean"]), tuple(d["scale"]),
                tuple(tuple(r) for r in d["coef"]), tuple(d["intercept"]))
        n = len(m.features)
        if len(m.mean) != n or len(m.scale) != n or any(len(r) != n for r in m.coef):
            raise ValueError(f"model {name!r}: features, mean, scale and coef rows differ in length")
        if len(m.coef) != (1 if len(m.classes) == 2 else len(m.classes)) or len(m.intercept) != len(m.coef):
            raise ValueError(f"model {name!r}: {len(m.coef)} coefficient rows for {len(m.classes)} classes")
        return m

    def _z(self, x: Mapping[str, float]) -> list[float]:
        return [(float(x.get(f, 0.0)) - mu) / sd for f, mu, sd in zip(self.features, self.mean, self.scale)]

    def proba(self, x: Mapping[str, float]) -> dict[str, float]:
        """The probability of each class for feature values ``x``."""
        z = self._z(x)
        logits = [b + sum(w * v for w, v in zip(row, z)) for row, b in zip(self.coef, self.intercept)]
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logits[0]))))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps)}

    def predict(self, x: Mapping[str, float]) -> tuple[str, float]:
        """The most probable class and its probability."""
        p = self.proba(x)
        best = max(self.classes, key=lambda c: p[c])
        return best, p[best]

    def explain(self, x: Mapping[str, float], cls: str, top: int = 5) -> dict[str, float]:
        """The ``top`` features that moved the decision most towards (positive) or away from ``cls``:
        feature name -> its contribution to ``cls``'s log-odds, rounded."""
        z = self._z(x)
        if len(self.classes) == 2:
            sign = 1.0 if cls == self.classes[1] else -1.0
            contrib = [sign * w * v for w, v in zip(self.coef[0], z)]
        else:
            k = self.classes.index(cls)
            # against the mean of the other classes' logits: what singles this class out
            others = [r for j, r in enumerate(self.coef) if j != k]
            contrib = [(self.coef[k][i] - sum(r[i] for r in others) / len(others)) * z[i] for i in range(len(z))]
        ranked = sorted(range(len(z)), key=lambda i: -abs(contrib[i]))[:top]
        return {self.features[i]: round(contrib[i], 3) for i in ranked if abs(contrib[i]) >= 0.005}


@dataclass(frozen=True)
class Models:
    """The shipped models and what they were trained on."""

    models: Mapping[str, LinearModel]
    trained: Mapping

    def get(self, name: str) -> LinearModel | None:
        return self.models.get(name)

    @classmethod
    def from_dict(cls, d: Mapping, source: str = "models") -> "Models":
        if d.get("format") != MODEL_FORMAT:
            raise ValueError(f"{source}: model format {d.get('format')!r}, this cashwatch reads {MODEL_FORMAT}")
        return cls({k: LinearModel.from_dict(k, v) for k, v in d.get("models", {}).items()}, d.get("trained", {}))


@lru_cache(maxsize=1)
def default_models() -> Models:
    """The packaged models (``processors/data/models.json``); none when the file is absent (the rules decide)."""
    path = resources.files("cashwatch.processors").joinpath(_FILE)
    if not path.is_file():
        return Models({}, {})
    return Models.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))
