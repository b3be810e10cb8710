"""Physical parameters of the bio side, in one place, with units and validation.

Validation runs before any network is built or compiled, so a bad value fails in milliseconds
rather than after a compile.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from brian2 import Quantity, get_dimensions, have_same_dimensions, mV, ms, nS, second, volt

from snnsuite.errors import SuiteError


def quantity(value: Quantity):
    """A dataclass default for a Brian2 quantity (arrays are not allowed as plain defaults)."""
    return field(default_factory=lambda: value)


def _check_unit(name: str, value, unit) -> None:
    if not have_same_dimensions(value, unit):
        raise SuiteError(f"{name}={value}: wrong dimensions, expected a quantity in {unit} ({get_dimensions(unit)})")


def check_time_constants(dt, **time_constants) -> None:
    """All time constants positive, dt positive and at most a tenth of the fastest one."""
    _check_unit("dt", dt, second)
    if not dt > 0 * second:
        raise SuiteError(f"dt={dt}: must be > 0")
    for name, tau in time_constants.items():
        _check_unit(name, tau, second)
        if not tau > 0 * second:
            raise SuiteError(f"{name}={tau}: time constants must be > 0")
    fastest_name, fastest = min(time_constants.items(), key=lambda kv: float(kv[1]))
    if dt > fastest / 10:
        raise SuiteError(f"dt={dt}: larger than a tenth of the fastest time constant ({fastest_name}={fastest})")


def check_fraction(name: str, value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise SuiteError(f"{name}={value}: must lie in [0, 1]")
    return float(value)


@dataclass(frozen=True)
class ConductanceLIFParams:
    """balanced-tuning.md Eq. 1: tau_m dV/dt = -(V - V_L) - g_E/g_L (V - V_E) - g_I/g_L (V - V_I) + I_syn/g_L.

    The paper gives no values; these are cortical textbook values (Gerstner et al. 2014, ch. 1.3)
    chosen so that dt = 0.5 ms resolves every time constant.
    """

    V_L: Quantity = quantity(-65 * mV)  # leak reversal = resting potential
    V_E: Quantity = quantity(0 * mV)  # excitatory reversal (AMPA)
    V_I: Quantity = quantity(-80 * mV)  # inhibitory reversal (GABA_A)
    V_th: Quantity = quantity(-52 * mV)  # firing threshold, 13 mV above rest
    V_reset: Quantity = quantity(-65 * mV)  # reset to rest
    tau_m: Quantity = quantity(20 * ms)  # membrane time constant C_m / g_L
    g_L: Quantity = quantity(10 * nS)  # leak conductance (C_m = 200 pF)
    tau_E: Quantity = quantity(5 * ms)  # excitatory conductance decay
    tau_I: Quantity = quantity(10 * ms)  # inhibitory conductance decay (GABA_A is slower)
    tau_syn: Quantity = quantity(5 * ms)  # decay of the STP-driven current I_syn (Eq. 9, tau_s)
    refractory: Quantity = quantity(2 * ms)  # absolute refractory period

    def validate(self, dt) -> "ConductanceLIFParams":
        for name in ("V_L", "V_E", "V_I", "V_th", "V_reset"):
            _check_unit(name, getattr(self, name), volt)
        _check_unit("g_L", self.g_L, nS)
        if not self.g_L > 0 * nS:
            raise SuiteError(f"g_L={self.g_L}: must be > 0")
        if not self.V_th > self.V_reset:
            raise SuiteError(f"V_th={self.V_th}: must lie above V_reset={self.V_reset}")
        _check_unit("refractory", self.refractory, second)
        check_time_constants(dt, tau_m=self.tau_m, tau_E=self.tau_E, tau_I=self.tau_I, tau_syn=self.tau_syn)
        return self

    def namespace(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class GLSNNNeuronParams:
    """glsnn.md Sec. 4 constants for Eq. 2-3 (dimensionless potentials, times in seconds)."""

    V_E: float = 0.2
    V_I: float = 0.0
    V_L: float = 0.0
    V_th: float = 0.0009
    V_reset: float = 0.0
    tau_m: Quantity = quantity(0.5 * second)
    tau_E: Quantity = quantity(0.2 * second)
    tau_out: float = 0.01           # the paper's tau in S_i = sum_j w_ji S_j + tau * delta_i
    g_leak: float = 20.0            # g_L; g_E is measured in the same (arbitrary) unit
    dt: Quantity = quantity(0.01 * second)
    T: Quantity = quantity(0.1 * second)

    def validate(self) -> "GLSNNNeuronParams":
        # The paper's dt equals tau_E / 20 and tau_m / 50: the discrete Eq. 3 is the model, not a
        # discretisation of a faster ODE, so the generic dt <= tau/10 check applies unchanged.
        check_time_constants(self.dt, tau_m=self.tau_m, tau_E=self.tau_E)
        if not self.V_th > self.V_reset:
            raise SuiteError(f"V_th={self.V_th}: must lie above V_reset={self.V_reset}")
        if not self.g_leak > 0:
            raise SuiteError(f"g_leak={self.g_leak}: must be > 0")
        steps = self.T / self.dt
        if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
            raise SuiteError(f"T={self.T}: must be a positive multiple of dt={self.dt}")
        return self

    @property
    def steps(self) -> int:
        return int(round(self.T / self.dt))


@dataclass(frozen=True)
class STPParams:
    """Tsodyks-Markram parameters of balanced-tuning.md Eq. 7-8."""

    U: float
    tau_f: Quantity
    tau_d: Quantity

    def validate(self, dt) -> "STPParams":
        if not 0 < self.U <= 1:
            raise SuiteError(f"U={self.U}: must lie in (0, 1]")
        check_time_constants(dt, tau_f=self.tau_f, tau_d=self.tau_d)
        return self


# Named parameter sets (Tsodyks, Pawelzik & Markram 1998; Markram et al. 1998): the paper's Fig. 6
# contrasts a facilitating and a depressing synapse without giving values.
STF = STPParams(U=0.15, tau_f=750 * ms, tau_d=50 * ms)   # facilitation dominates
STD = STPParams(U=0.45, tau_f=50 * ms, tau_d=750 * ms)   # depression dominates


@dataclass(frozen=True)
class STDPParams:
    """Trace-based pair STDP: dw = A_plus exp(-dt/tau_plus) for pre-before-post, A_minus exp(dt/tau_minus) otherwise."""

    tau_plus: Quantity = quantity(20 * ms)  # Bi & Poo (1998) window
    tau_minus: Quantity = quantity(20 * ms)
    A_plus: float = 0.01
    A_minus: float = -0.0105        # slightly depression-dominated keeps rates bounded (Song et al. 2000)
    w_max: float = 1.0

    def validate(self, dt) -> "STDPParams":
        check_time_constants(dt, tau_plus=self.tau_plus, tau_minus=self.tau_minus)
        if not self.w_max > 0:
            raise SuiteError(f"w_max={self.w_max}: must be > 0")
        return self
