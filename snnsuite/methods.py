"""The registry of learning methods: id -> side, config class, learner factory, presets.

Imports are lazy, so `snn --help`, data commands and compare never load Brian2 or torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from .errors import SuiteError

METHODS = ("glsnn", "balanced", "stbp", "backeisnn", "bpsta", "ide")


@dataclass(frozen=True)
class Method:
    id: str
    side: str
    module: str        # module with the config class, make_learner and PRESETS
    config_class: str
    paper: str

    def load(self):
        module = import_module(self.module)
        return getattr(module, self.config_class), module.make_learner, getattr(module, "PRESETS", {})


REGISTRY = {
    "glsnn": Method("glsnn", "bio", "bio.glsnn", "GLSNNConfig", "glsnn.md"),
    "balanced": Method("balanced", "bio", "bio.balanced", "BalancedConfig", "balanced-tuning.md"),
    "stbp": Method("stbp", "hybrid", "hybrid.stbp", "STBPConfig", "backeisnn.md / bpsta.md baseline"),
    "backeisnn": Method("backeisnn", "hybrid", "hybrid.backeisnn", "BackEISNNConfig", "backeisnn.md"),
    "bpsta": Method("bpsta", "hybrid", "hybrid.bpsta", "BPSTAConfig", "bpsta.md"),
    "ide": Method("ide", "hybrid", "hybrid.ide", "IDEConfig", "ide-fsnn.md"),
}


def get(method_id: str) -> Method:
    if method_id not in METHODS:
        raise SuiteError(f"method '{method_id}': unknown; choose one of {', '.join(METHODS)}")
    if method_id not in REGISTRY:
        raise SuiteError(f"method '{method_id}': not implemented yet in this version; available: {', '.join(REGISTRY)}")
    return REGISTRY[method_id]
