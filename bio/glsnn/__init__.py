"""GLSNN: global random-feedback targets with local differential STDP (glsnn.md)."""
from .config import PRESETS, GLSNNConfig
from .learner import GLSNNLearner

__all__ = ["GLSNNConfig", "GLSNNLearner", "PRESETS", "make_learner"]


def make_learner(config: GLSNNConfig):
    """The Brian2 network on a Brian2 device, or its independent torch twin for device='torch'."""
    if config.device == "torch":
        from hybrid.glsnn_twin import GLSNNTwin

        from .learner import initial_state

        return GLSNNTwin(config, initial_state(config))
    return GLSNNLearner(config)
