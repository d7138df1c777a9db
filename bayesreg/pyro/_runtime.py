"""Isolation, devices and seeds: what every Pyro fit in bayesreg runs inside.

Every fit runs inside :func:`isolated_pyro`: a process-wide lock and a
forked, privately seeded torch generator. Pyro's global parameter store is
never read or written by a fit: the guide's parameters live in the guide
(module-local tensors, created outside Pyro's ``PyroModule.__call__``
context, which is what routes them to the global store) and NUTS runs on a
potential function, which has no parameters. A user's params, and threads
that create and read them during a fit, are untouched. Fitted state is
returned as NumPy arrays, so a fitted estimator holds no Pyro objects at all.

Nothing is compiled with ``torch.jit``: a traced function stays in torch's
process-wide compilation unit for the life of the process (10-20 MiB per
fit), so repeated fits would grow without bound.

Pyro draws from torch's *global* generator and offers no way to pass a
private one. :func:`isolated_pyro` therefore forks the global state
(``torch.random.fork_rng``), seeds it from the estimator's ``random_state``
and restores the caller's state on exit. The lock makes this safe between
bayesreg fits in different threads (they run one after the other, which also
makes threaded fits equal to sequential ones); code in *other* threads that
draws from torch's global generator during a bayesreg fit is not protected
and can perturb that fit's reproducibility. Posterior draws after fitting use
a NumPy ``Generator`` and never touch torch's random state.

Pyro's effect-handler stack (``pyro.poutine.runtime._PYRO_STACK``) is one
list for the whole process. A fit puts handlers on it only while Pyro runs
the model: once per SVI fit to read the model's latent sites, and at every
step with ``jit=False`` (Pyro's ``Trace_ELBO``). A ``pyro.param`` statement
of another thread in that window passes through them (the guide's prototype
run hides every param site from its trace; the ELBO's traces may record it
and ignore it), so it reads and writes the user's store as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import torch

__all__ = [
    "as_tensor",
    "batched_forward",
    "compiled_function_count",
    "generator_state",
    "isolated_pyro",
    "resolve_device",
    "seed_from",
    "set_generator_state",
]

# Serialises every bayesreg fit in the process: Pyro's effect-handler stack
# and torch's global generator are process-wide.
_FIT_LOCK = threading.RLock()


def resolve_device(device: str | torch.device) -> torch.device:
    """Map ``"cpu" | "cuda" | "auto"`` (or a torch device) to a torch device.

    ``"auto"`` picks CUDA when available. Asking for CUDA without it is an
    error that says so.
    """
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        resolved = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device='cuda' was requested but torch reports no CUDA device; "
            "use device='cpu' or device='auto'."
        )
    return resolved


def seed_from(rng: np.random.Generator) -> int:
    """A 63-bit torch seed drawn from a NumPy generator."""
    return int(rng.integers(0, 2**63 - 1))


@contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Set torch's intra-op thread count to ``n_threads`` for the block (if
    given) and restore it on exit, however the block ends."""
    old = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        if n_threads is not None:
            torch.set_num_threads(old)


@contextmanager
def isolated_pyro(
    seed: int, device: torch.device | None = None, n_threads: int | None = None
) -> Iterator[None]:
    """Run Pyro code under the fit lock with a privately seeded RNG.

    On entry the process-wide lock is taken and torch's global generator (and
    that of ``device`` when it is a CUDA device) is forked and seeded with
    ``seed``. ``n_threads`` (if given) temporarily sets torch's intra-op
    thread count: small models run fastest on one thread, and much faster
    than on several when the cores are shared. On exit all of these are
    restored exactly, however the block ends (an exception or a
    KeyboardInterrupt included). Pyro's parameter store is not touched: the
    code inside must keep its parameters itself (see the module docstring).
    """
    cuda = device is not None and device.type == "cuda"
    cuda_index = (
        (device.index if device.index is not None else torch.cuda.current_device())
        if cuda
        else None
    )
    with _FIT_LOCK:
        with torch.random.fork_rng(devices=[cuda_index] if cuda else []):
            # Seed only the generators that were forked: torch.manual_seed
            # would also reseed every other CUDA device.
            torch.default_generator.manual_seed(seed)
            if cuda:
                with torch.cuda.device(cuda_index):
                    torch.cuda.manual_seed(seed)
            with torch_threads(n_threads):
                yield


def generator_state(device: torch.device) -> tuple:
    """The state of torch's global generator, and of ``device``'s when it is a
    CUDA device: what :func:`set_generator_state` puts back, so that a
    private random stream continues across :func:`isolated_pyro` blocks."""
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda


def set_generator_state(state: tuple, device: torch.device) -> None:
    """Put back a :func:`generator_state` of the same ``device``."""
    cpu, cuda = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state(cuda, device)


def compiled_function_count() -> int:
    """Functions in torch's process-wide TorchScript compilation unit.

    Every ``torch.jit.trace`` or ``torch.jit.script`` of a function adds one
    for the life of the process; a fit must add none.
    """
    return len(torch.jit._state._python_cu.get_functions())


def as_tensor(a, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    t = torch.as_tensor(np.ascontiguousarray(a))
    return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)


def batched_forward(
    forward: Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor],
    X: np.ndarray,
    params: Mapping[str, np.ndarray],
    *,
    batch_size: int = 4096,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> np.ndarray:
    """Evaluate ``forward`` for every posterior draw, in batches of rows of X.

    ``forward(x, params)`` receives a batch ``x`` of shape (b, d) and the
    draws ``params`` (each with a leading axis of S draws) and returns the
    regression function of every draw at every row, shape (S, b). The result
    is (n, S), the ``locs`` of a :class:`~bayesreg.distributions.NormalMixture`.
    No gradients, no randomness.
    """
    device = resolve_device(device)
    p = {k: as_tensor(v, device, dtype) for k, v in params.items()}
    out = []
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            xb = as_tensor(X[start : start + batch_size], device, dtype)
            out.append(forward(xb, p).to("cpu", torch.float64).numpy().T)
    return np.concatenate(out, axis=0) if out else np.empty((0, 0))
