"""IDE: implicit gradients against unrolled autograd, the SNN's approach to its equilibrium, solvers."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hybrid.ide import IDEConfig, make_learner
from hybrid.ide.implicit import implicit_readout
from hybrid.ide.model import FeedbackSNN
from hybrid.ide.solvers import broyden, fixed_point
from snnsuite.errors import DivergenceError, SuiteError


def _model(network="F400", leak=1.0, layers=1):
    torch.manual_seed(0)
    model = FeedbackSNN(network, threshold=2.0, leak=leak, max_feedback_norm=1.0, dropout=0.0, layers=layers).double()
    with torch.no_grad():
        model.feedback.weight.mul_(20)   # a strong feedback: the equilibrium is far from the input's
    return model.eval()


def _equilibrium(model, drive, gain, iterations=2000):
    a = torch.zeros_like(drive)
    with torch.no_grad():
        for _ in range(iterations):
            a = model.fixed_point_map(a, drive, torch.ones_like(a), gain)
    return a


def _grads(model):
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


@pytest.mark.parametrize("solver, layers", [("broyden", 1), ("fixed_point", 1), ("broyden", 3)])
def test_implicit_gradient_equals_unrolled_autograd(mnist, solver, layers):
    model = _model(layers=layers)
    images = torch.from_numpy(mnist.train.images[:16]).double().unsqueeze(1)
    labels = torch.from_numpy(mnist.train.labels[:16])

    drive = model.drive(images)
    gain = model.feedback_gain()
    a_star = _equilibrium(model, drive.detach(), gain.detach())
    ones = torch.ones_like(a_star)
    out = implicit_readout(model, a_star, drive, ones, gain, solver=solver, max_iter=200, tol=1e-12)
    F.cross_entropy(out.logits, labels).backward()
    implicit = _grads(model)
    assert out.solve.converged

    model.zero_grad()
    drive = model.drive(images)
    gain = model.feedback_gain()
    a = a_star.clone()
    for _ in range(300):  # autograd through a long unrolled iteration at the same equilibrium
        a = model.fixed_point_map(a, drive, ones, gain)
    F.cross_entropy(model.readout(model.downstream(a).flatten(1)), labels).backward()
    unrolled = _grads(model)
    assert torch.linalg.norm(implicit - unrolled) / torch.linalg.norm(unrolled) < 1e-4


@pytest.mark.parametrize("leak", [1.0, 0.95])
def test_average_rate_approaches_the_fixed_point_as_T_grows(mnist, leak):
    model = _model(leak=leak)
    with torch.no_grad():
        drive = model.drive(torch.from_numpy(mnist.train.images[:32]).double().unsqueeze(1))
        gain = model.feedback_gain()
        ones = torch.ones_like(drive)
        _, _, history = model.simulate(drive, ones, gain, 400, trace=True)
        gaps = [float((model.fixed_point_map(a, drive, ones, gain) - a).norm() / a.norm().clamp_min(1e-12))
                for a in history]
    if leak == 1.0:   # Theorem 2: IF rates converge to the fixed point
        assert gaps[399] < gaps[99] < gaps[9] and gaps[399] < 0.02
    else:             # Proposition 2: LIF approaches it up to a bounded (not vanishing) error
        assert gaps[99] < gaps[4] / 5 and gaps[399] < 1.2 * gaps[99]


def test_bfloat16_simulation_reaches_the_float32_equilibrium(mnist):
    """The reduced-precision feedback product changes spikes near threshold, not where the rates go."""
    rates, gaps = {}, {}
    for precision in ("float32", "bfloat16"):
        torch.manual_seed(0)
        model = FeedbackSNN("F64C5", 2.0, 1.0, 1.0, 0.0, simulation_precision=precision)
        with torch.no_grad():
            model.feedback_sigma(100)   # converge the power iteration (training mode), then evaluate
            model.eval()
            drive = model.drive(torch.from_numpy(mnist.train.images[:16]).unsqueeze(1) * 4)
            gain, ones = model.feedback_gain(), torch.ones_like(drive)
            (a,), _, _ = model.simulate(drive, ones, gain, 100)
            gaps[precision] = float((model.fixed_point_map(a, drive, ones, gain) - a).norm() / a.norm())
        rates[precision] = a
    assert rates["float32"].mean() > 0.05   # the network is active, so the comparison means something
    assert (rates["bfloat16"] - rates["float32"]).abs().mean() < 1e-3
    assert gaps["bfloat16"] < 1.1 * gaps["float32"] + 1e-3


def test_unknown_simulation_precision_is_named():
    with pytest.raises(SuiteError, match="simulation_precision 'float16'"):
        IDEConfig(simulation_precision="float16").validate()


def test_solvers_solve_a_known_linear_system():
    torch.manual_seed(1)
    A = torch.randn(3, 20, 20, dtype=torch.float64) * 0.1   # one contraction per sample
    v = torch.randn(3, 20, dtype=torch.float64)
    vjp = lambda g: torch.einsum("bij,bi->bj", A, g)  # noqa: E731  (J^T g with J = A)
    exact = torch.linalg.solve(torch.eye(20, dtype=torch.float64) - A.transpose(1, 2), v)
    for solver in (broyden, fixed_point):
        g, report = solver(vjp, v, max_iter=100, tol=1e-10)
        assert report.converged
        torch.testing.assert_close(g, exact, rtol=1e-8, atol=1e-9)


def _operator_norm(apply, shape, iterations: int = 300) -> float:
    """||A||_2 of a linear map by power iteration on A^T A, the transpose taken by autograd:
    independent of the model's own spectral normalisation."""
    x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
    for _ in range(iterations):
        x = x.requires_grad_(True)
        (adjoint,) = torch.autograd.grad(apply(x), x, apply(x).detach())
        x = (adjoint / adjoint.norm()).detach()
    with torch.no_grad():
        return float(apply(x).norm())


def test_feedback_norm_is_bounded_and_the_bound_reported(mnist, tmp_path):
    config = IDEConfig.from_dict(dict(dataset="mnist", epochs=1, train_samples=256, batch_size=64))
    learner = make_learner(config)
    model = learner.model
    with torch.no_grad():
        model.feedback_scale.fill_(3.0)   # above the bound of 1: only the clamp keeps the norm at 1
    stats = learner.train_epoch(mnist.train.head(256), np.random.default_rng(0), lambda it, **_: it)
    model.eval()
    with torch.no_grad():
        gain = model.feedback_gain()
    measured = _operator_norm(lambda x: model.feedback(x) * gain, model.state_shape)
    assert measured == pytest.approx(1.0, rel=0.02)
    assert stats["feedback_norm"] == pytest.approx(measured, rel=0.02)
    assert 0 <= stats["solver_unconverged"] <= 1 and stats["solver_iterations"] >= 1


def test_a_feedback_norm_over_the_bound_stops_training_only_when_it_persists(mnist):
    learner = make_learner(IDEConfig.from_dict(dict(dataset="mnist", network="F400", train_samples=64, batch_size=64)))
    model = learner.model
    model.feedback_gain = lambda: 1.2 / model.feedback_sigma()      # ||W_eff||_2 = 1.2 > 1.0
    images = mnist.train.head(64)
    stats = learner.train_epoch(images, np.random.default_rng(0), lambda it, **_: it)
    assert stats["feedback_norm"] == pytest.approx(1.2)              # reported, tolerated once
    with pytest.raises(DivergenceError, match=r"spectral norm 1.2000 exceeds the bound 1.0 at the end of two epochs"):
        learner.train_epoch(images, np.random.default_rng(1), lambda it, **_: it)


def test_multilayer_simulation_follows_eq10():
    model = _model(layers=2)
    drive = torch.full((1, 400), 3.0, dtype=torch.float64)   # first layer fires at every step
    ones = torch.ones_like(drive)
    with torch.no_grad():
        model.forward_layers[0].weight.zero_()
        model.forward_layers[0].bias.fill_(0.5)   # second layer: constant input 0.5, V_th = 2
        rates, spikes, _ = model.simulate(drive, ones, model.feedback_gain() * 0, 8)
    assert torch.all(rates[0] == 1)                  # u = 3 every step, reset by 2: fires always
    torch.testing.assert_close(rates[1], torch.full_like(rates[1], 2 / 8))  # fires at steps 4 and 8
    assert spikes == 400 * 8 + 400 * 2


@pytest.mark.parametrize("values, needle", [
    (dict(network="F999"), "network 'F999'"),
    (dict(neuron="Izhikevich"), "neuron 'Izhikevich'"),
    (dict(solver="newton"), "solver 'newton'"),
    (dict(threshold=0.0), "threshold=0.0"),
    (dict(time_steps=0), "time_steps=0"),
])
def test_bad_config(values, needle):
    with pytest.raises(SuiteError, match=needle):
        IDEConfig.from_dict(values)
