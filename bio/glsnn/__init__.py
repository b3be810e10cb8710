"""GLSNN: global random-feedback targets with local differential STDP (glsnn.md)."""
from .config import PRESETS, GLSNNConfig
from .learner import GLSNNLearner

__all__ = ["GLSNNConfig", "GLSNNLearner", "PRESETS", "make_learner"]


def make_learner(config: GLSNNConfig) -> GLSNNLearner:
    return GLSNNLearner(config)
