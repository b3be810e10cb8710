"""The spiking core: surrogates against their definitions, the fused neuron against eager autograd."""
import pytest
import torch

from hybrid.neurons import lif_eager, lif_fused
from hybrid.surrogates import RateGated, Rectangular, Sigmoid, SpatialAdjustment
from snnsuite.errors import SuiteError


def _grads(fn, x, weights, **kwargs):
    x = x.clone().requires_grad_()
    out = fn(x, **kwargs)
    (out * weights).sum().backward()
    return out.detach(), x.grad


@pytest.mark.parametrize("surrogate", [Rectangular(), Rectangular(0.5), SpatialAdjustment()], ids=["rect1", "rect0.5", "bpsa"])
@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.8])
def test_fused_neuron_matches_eager_autograd(surrogate, detach_reset, alpha):
    torch.manual_seed(0)
    x = torch.randn(12, 5, 7, dtype=torch.float64)
    w = torch.randn(12, 5, 7, dtype=torch.float64)
    kwargs = dict(lam=0.8, v_th=0.5, surrogate=surrogate, detach_reset=detach_reset, alpha=alpha)
    out_e, grad_e = _grads(lif_eager, x, w, **kwargs)
    out_f, grad_f = _grads(lif_fused, x, w, **kwargs)
    assert torch.equal(out_e, out_f)
    assert torch.linalg.norm(grad_f - grad_e) <= 1e-5 * torch.linalg.norm(grad_e) + 1e-12


def test_rectangular_surrogate_is_the_derivative_of_its_ramp():
    # Rectangular's derivative is the slope of clamp((u - v_th)/a + 1/2, 0, 1): check by finite differences.
    surrogate, v_th = Rectangular(0.8), 0.5
    u = torch.linspace(-1, 2, 301, dtype=torch.float64)
    u = u[((u - v_th).abs() - 0.4).abs() > 1e-3]   # away from the kinks
    ramp = lambda v: ((v - v_th) / 0.8 + 0.5).clamp(0, 1)  # noqa: E731
    h = 1e-6
    numeric = (ramp(u + h) - ramp(u - h)) / (2 * h)
    torch.testing.assert_close(surrogate.derivative(u, v_th), numeric, rtol=1e-6, atol=1e-6)


def test_bpsa_is_one_over_u_at_spikes_and_zero_elsewhere():
    u = torch.tensor([0.2, 0.49, 0.5, 0.75, 2.0], dtype=torch.float64, requires_grad=True)
    o = SpatialAdjustment().spike(u, 0.5)
    assert o.tolist() == [0, 0, 1, 1, 1]   # the forward value stays exactly 1 at spikes
    o.sum().backward()
    torch.testing.assert_close(u.grad, torch.tensor([0, 0, 1 / 0.5, 1 / 0.75, 1 / 2.0], dtype=torch.float64))


def test_sigmoid_surrogate_is_the_slope_of_its_logistic():
    u = torch.linspace(-1, 2, 61, dtype=torch.float64, requires_grad=True)
    torch.sigmoid((u - 0.5) / 0.2).sum().backward()
    torch.testing.assert_close(Sigmoid(0.2).derivative(u.detach(), 0.5), u.grad)


def test_rate_gate_hands_a_quiet_layer_to_the_warmup_surrogate():
    gated = RateGated(SpatialAdjustment(), min_rate=0.25)
    quiet = torch.tensor([0.1, 0.3, 0.45, 0.8], dtype=torch.float64)      # 1 of 4 spikes: not below 25%
    torch.testing.assert_close(gated.derivative(quiet, 0.5), SpatialAdjustment().derivative(quiet, 0.5))
    quieter = torch.tensor([0.1, 0.3, 0.45, 0.2, 0.8], dtype=torch.float64)   # 1 of 5
    slopes = gated.derivative(quieter, 0.5)
    torch.testing.assert_close(slopes, Sigmoid().derivative(quieter, 0.5))
    assert bool((slopes > 0).all())      # silent neurons get a gradient, unlike under BPSA


def test_bpta_adds_exactly_lam_alpha_g_prime_across_a_spike():
    # Two steps; the neuron spikes at t=0. Only do[1]/dx[0] differs between alpha = 0 and alpha > 0.
    lam, alpha, v_th = 0.8, 0.8, 0.5
    surrogate = Rectangular()
    x = torch.tensor([[0.9], [0.3]], dtype=torch.float64)   # u[0] = 0.9 spikes; u[1] = 0.3 (reset)
    w = torch.tensor([[0.0], [1.0]], dtype=torch.float64)   # the loss reads o[1] only
    _, without = _grads(lif_fused, x, w, lam=lam, v_th=v_th, surrogate=surrogate, detach_reset=True)
    _, with_bpta = _grads(lif_fused, x, w, lam=lam, v_th=v_th, surrogate=surrogate, detach_reset=True, alpha=alpha)
    g = lambda u: float(surrogate.derivative(torch.tensor(u), v_th))  # noqa: E731
    # dL/do[0] gains lam*alpha*g'(u[1]); through g'(u[0]) it reaches x[0].
    assert float(with_bpta[0] - without[0]) == pytest.approx(lam * alpha * g(0.3) * g(0.9))
    assert float(with_bpta[1]) == float(without[1])


def _eq7_eq10_input_gradient(u, weights, lam, v_th, surrogate, alpha):
    """bpsta.md Eq. 6-10 by hand, in reverse time, for a loss sum(o * weights) and a detached reset.
    Eq. 7: delta[t] = weights[t] + delta[t+1] do[t+1]/do[t], with Eq. 10's
    do[t+1]/do[t] = g'(u[t+1]) lam (1 - o[t]) / g'(u[t]) + lam alpha g'(u[t+1]). Eq. 6 needs only
    g'(u[t]) delta[t], so the recursion runs on that product and the 1/g'(u[t]) of Eq. 8 cancels."""
    slope = [surrogate.derivative(u, v_th)[t] for t in range(u.shape[0])]
    spiked = [(u[t] >= v_th).to(u.dtype) for t in range(u.shape[0])]
    grad_u = [None] * u.shape[0]
    grad_u[-1] = slope[-1] * weights[-1]
    for t in range(u.shape[0] - 2, -1, -1):
        delta_next_times_slope = grad_u[t + 1]                       # g'(u[t+1]) delta[t+1]
        grad_u[t] = (slope[t] * weights[t]
                     + delta_next_times_slope * lam * (1 - spiked[t])            # Eq. 8 path, times g'(u[t])
                     + slope[t] * lam * alpha * delta_next_times_slope)          # Eq. 10 residual, times g'(u[t])
    return torch.stack(grad_u)


SURROGATES = {"rect": Rectangular(), "sigmoid": Sigmoid(), "bpsa": SpatialAdjustment()}
# The rate gate sees a whole sequence in the fused op, one step at a time in the eager step.
BACKWARDS = [pytest.param(lif_fused, s, id=f"fused-{name}") for name, s in {**SURROGATES, "bpsa-gated": RateGated(SpatialAdjustment(), 0.3)}.items()]
BACKWARDS += [pytest.param(lif_eager, s, id=f"eager-{name}") for name, s in SURROGATES.items()]


@pytest.mark.parametrize("fn, surrogate", BACKWARDS)
@pytest.mark.parametrize("alpha", [0.0, 0.2, 0.8])
def test_backward_is_eq7_with_eq10_as_printed(fn, surrogate, alpha):
    torch.manual_seed(1)
    lam, v_th = 0.9, 0.5
    x = 0.6 * torch.rand(16, 4, 6, dtype=torch.float64)      # several spikes per neuron in 16 steps
    w = torch.randn(16, 4, 6, dtype=torch.float64)
    _, grad = _grads(fn, x, w, lam=lam, v_th=v_th, surrogate=surrogate, detach_reset=True, alpha=alpha)
    u, previous = torch.empty_like(x), torch.zeros_like(x[0])
    for t in range(x.shape[0]):                                # Eq. 3 with reset to 0
        u[t] = lam * previous + x[t]
        previous = torch.where(u[t] >= v_th, 0.0, u[t])
    expected = _eq7_eq10_input_gradient(u, w, lam, v_th, surrogate, alpha)
    assert torch.linalg.norm(grad - expected) <= 1e-10 * torch.linalg.norm(expected)


@pytest.mark.parametrize("kwargs, needle", [(dict(v_th=0.0), "threshold v_th=0.0"), (dict(lam=1.5), "leak lam=1.5")])
def test_invalid_neuron_parameters(kwargs, needle):
    with pytest.raises(SuiteError, match=needle):
        lif_fused(torch.zeros(2, 1), **kwargs)
