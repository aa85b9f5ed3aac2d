"""Maximum likelihood over log-parameters with scipy's L-BFGS-B, shared by both models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from guanxi.analytics.estimation.inputs import FloatArray

# Log-parameters stay within e^±30 (about 1e-13 to 1e13): a fit that ends there has not converged.
LOG_BOUND = 30.0
# Near the optimum L-BFGS-B may stop on a line search that cannot improve the last digits ("ABNORMAL");
# with the mean log-likelihood's gradient this small in every log-parameter the fit is at its maximum.
GRADIENT_TOLERANCE = 1e-6


def dot(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """Σ a·b in numpy's own loop: `a @ b` goes to OpenBLAS, whose threads, on a machine whose cores are
    busy, made the fits several times slower (a 600k-row dot: 0.36 ms on one thread, 4.4 ms on two)."""
    return float(np.einsum("i,i->", a, b))


@dataclass(frozen=True)
class Outcome:
    parameters: FloatArray  # at the maximum, no longer in logs
    mean_log_likelihood: float
    iterations: int
    converged: bool
    message: str


def maximize(
    objective: Callable[[FloatArray], tuple[float, FloatArray]], start: FloatArray, *, max_iterations: int
) -> Outcome:
    """Maximise a mean log-likelihood given as `objective(log_params) -> (minus it, minus its gradient)`."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    options = {"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10}
    result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    iterations = int(result.nit)
    if not result.success:  # once more from where it stopped: L-BFGS-B's memory of curvature is short
        result = minimize(objective, result.x, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        iterations += int(result.nit)
    at_bound = bool(np.any(np.abs(result.x) >= LOG_BOUND - 1e-6))
    flat = bool(np.max(np.abs(result.jac)) < GRADIENT_TOLERANCE)
    message = str(result.message)
    if at_bound:
        message = f"a parameter reached its bound (e^±{LOG_BOUND:g}): the data do not pin it down. {message}"
    return Outcome(
        parameters=np.exp(result.x),
        mean_log_likelihood=-float(result.fun),
        iterations=iterations,
        converged=(bool(result.success) or flat) and not at_bound,
        message=message,
    )
