"""BackEISNN gates: what each switch does."""
import pytest
import torch

from hybrid.backeisnn import BackEISNN, BackEISNNConfig, GatedLIFConv, _SignGate
from hybrid.neurons import lif_fused
from hybrid.surrogates import Rectangular
from snnsuite.errors import SuiteError


def _config(**values):
    return BackEISNNConfig.from_dict({"time_steps": 4, **values})


def _lif_reference(current: torch.Tensor, decay: float = 0.2, threshold: float = 0.5, keep_after_spike: float = 0.0) -> torch.Tensor:
    """backeisnn.md Eq. 3 written out: V keeps `decay` of itself, and a spike multiplies V by keep_after_spike (0: reset)."""
    v, fired, out = torch.zeros_like(current[0]), torch.zeros_like(current[0]), []
    for x in current:
        v = decay * v * (1 - fired * (1 - keep_after_spike)) + x
        fired = (v >= threshold).to(current.dtype)
        out.append(fired)
    return torch.stack(out)


def test_without_gates_the_layer_is_the_plain_lif():
    layer = GatedLIFConv(3, _config(sfbm=False, beim=False))
    current = torch.rand(6, 2, 3, 5, 5)
    spikes = layer(current)
    assert 0 < spikes.mean() < 1
    torch.testing.assert_close(spikes, _lif_reference(current))


def test_sfbm_scales_the_input_by_its_sigmoid_gate():
    layer = GatedLIFConv(3, _config(sfbm=True, beim=False))
    with torch.no_grad():
        layer.sfb.weight.zero_()
        layer.sfb.bias.fill_(0.0)          # gate = sigmoid(0) = 1/2 whatever the last spikes
    current = torch.rand(6, 2, 3, 5, 5)
    torch.testing.assert_close(layer(current), _lif_reference(current / 2))


def test_beim_emits_signed_spikes_where_the_neuron_fires():
    layer = GatedLIFConv(3, _config(sfbm=False, beim=True))
    current = torch.rand(6, 2, 3, 5, 5) * 2
    out = layer(current)
    fired = lif_fused(current, 0.2, 0.5, Rectangular())
    assert set(out.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert torch.equal(out.abs(), fired) and (out < 0).any() and (out > 0).any()


@pytest.mark.parametrize("signed_reset, keep_after_spike", [("unsigned", 0.0), ("literal", 2.0)])
def test_a_negative_spike_resets_or_doubles_v_by_the_reset_reading(signed_reset, keep_after_spike):
    layer = GatedLIFConv(3, _config(sfbm=False, beim=True, signed_reset=signed_reset))
    with torch.no_grad():
        layer.ei.weight.zero_()
        layer.ei.bias.fill_(-1.0)          # EI = sign(-1): every spike is a -1 spike
    current = torch.rand(6, 2, 3, 5, 5)
    # Eq. 8 read literally: V (1 - delta) with delta = -1 keeps 2 V.
    torch.testing.assert_close(layer(current), -_lif_reference(current, keep_after_spike=keep_after_spike))


def test_sign_gate_gradient_is_the_rectangular_window_around_zero():
    x = torch.tensor([-1.0, -0.4, 0.1, 0.49, 0.6], requires_grad=True)
    _SignGate.apply(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_network_output_shape_and_bad_input():
    model = BackEISNN(_config())
    assert model(torch.rand(4, 2, 28, 28)).shape == (4, 2, 10)
    with pytest.raises(SuiteError, match="input shape"):
        model(torch.rand(4, 2, 784))
    with pytest.raises(SuiteError, match="gate_kernel=4"):
        _config(gate_kernel=4)
