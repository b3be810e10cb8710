"""CUDA against the CPU: torch models (float64) and Brian2 networks (brian2cuda against C++
standalone) must agree within CUDA_TOLERANCE. Marked `gpu`: run with -m gpu on a machine with an
NVIDIA GPU (scripts/gpu-check.sh); they skip with the reason elsewhere."""
import numpy as np
import pytest

from figures.gpu import CUDA_TOLERANCE, brian2_epoch, torch_train_steps

pytestmark = pytest.mark.gpu


def _require_cuda():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")


def _require_brian2cuda():
    from bio.devices import gpu_available

    pytest.importorskip("brian2cuda", reason="brian2cuda is not installed (./install.sh --cuda)")
    if not gpu_available():
        pytest.skip("no NVIDIA GPU (nvidia-smi and /dev/nvidia0)")


@pytest.mark.parametrize("method, values", [
    ("stbp", dict(hidden=(64,), time_steps=4)),
    ("backeisnn", dict(time_steps=4, sfbm=True, beim=True)),
    ("ide", dict(network="F400", time_steps=5, dropout=0.0)),
])
def test_torch_training_steps_on_cuda_equal_the_cpu(mnist, method, values):
    _require_cuda()
    images, labels = mnist.train.images[:64], mnist.train.labels[:64]
    cpu, _ = torch_train_steps(method, values, images, labels, "cpu", batch=16)
    cuda, _ = torch_train_steps(method, values, images, labels, "cuda", batch=16)
    for key in cpu:
        np.testing.assert_allclose(cuda[key].numpy(), cpu[key].numpy(), **CUDA_TOLERANCE, err_msg=key)


@pytest.mark.parametrize("method, values", [
    ("glsnn", dict(hidden=(24, 16), chunk_samples=20, input_spikes="encoder", optimizer="adam", eta_w=1e-3)),
    ("balanced", dict(hidden=20, batch_size=10)),
])
def test_brian2cuda_equals_cpp_standalone(mnist, method, values):
    _require_brian2cuda()
    split = mnist.train.head(20)
    cpp_state, cpp_spikes, _ = brian2_epoch(method, values, split, "cpp")
    cuda_state, cuda_spikes, _ = brian2_epoch(method, values, split, "cuda")
    assert cuda_spikes == cpp_spikes > 0
    for key in cpp_state:
        np.testing.assert_allclose(cuda_state[key], cpp_state[key], **CUDA_TOLERANCE, err_msg=key)
