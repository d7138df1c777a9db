"""Package-level promises: lazy imports and the public names."""

import subprocess
import sys

import bayesreg


def test_import_does_not_load_torch_or_pyro():
    code = (
        "import sys, bayesreg\n"
        "from bayesreg import RidgeMAP, BasisExpansion\n"
        "import bayesreg.distributions, bayesreg.datasets\n"
        "bad = [m for m in ('torch', 'pyro') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_public_names_resolve():
    for name in bayesreg.__all__:
        assert getattr(bayesreg, name).__name__ == name
    assert set(bayesreg.__all__) <= set(dir(bayesreg))
