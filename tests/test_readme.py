"""The README's code example runs as written."""

import re
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from bayesreg.datasets import make_seed_problem
from bayesreg.metrics import neg_nlpd_scorer

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["dist"].n == 100
    # Each search's choice, checked against the same comparison by hand.
    X, y = make_seed_problem(100, random_state=0)  # the later blocks reuse X, y
    model = namespace["model"]
    evidence = {
        d: clone(model).set_params(basisexpansion__degree=d).fit(X, y)[-1]
        for d in range(1, 16)
    }
    evidence = {d: est.log_marginal_likelihood_ for d, est in evidence.items()}
    best = max(evidence, key=evidence.get)
    assert namespace["search"].best_params_ == {"basisexpansion__degree": best}
    assert namespace["search"].best_score_ == evidence[best]
    cv = {
        d: cross_val_score(
            clone(model).set_params(basisexpansion__degree=d),
            X, y, scoring=neg_nlpd_scorer, cv=5,
        ).mean()
        for d in (3, 6, 9)
    }  # fmt: skip
    best = max(cv, key=cv.get)
    assert namespace["grid"].best_params_ == {"basisexpansion__degree": best}
    np.testing.assert_allclose(namespace["grid"].best_score_, cv[best], rtol=1e-12)
    assert 4 <= namespace["search"].best_params_["basisexpansion__degree"] <= 12
    merged, direct = namespace["merged"], namespace["posterior"]
    np.testing.assert_allclose(merged.coef_, direct.coef_, rtol=1e-10)
    assert type(namespace["lazy_std"]).__module__.startswith("dask")


def test_readme_quickstart_is_ten_lines_and_consistent():
    quickstart = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    assert len([line for line in quickstart.splitlines() if line.strip()]) <= 10
    namespace: dict = {}
    exec(compile(quickstart, str(README), "exec"), namespace)
    dist, mean, std = namespace["dist"], namespace["mean"], namespace["std"]
    np.testing.assert_allclose(dist.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(dist.std, std, rtol=1e-12)
    # The split, each part by its own route: the noise is the posterior
    # mean of the noise variance, the epistemic part the spread of
    # regression functions drawn from the posterior.
    model = namespace["model"]
    np.testing.assert_allclose(namespace["noise"], model[-1].noise_std_, rtol=1e-10)
    X = namespace["X"][::10]
    f = model[-1].sample_functions(model[0].transform(X), 40_000, random_state=0)
    np.testing.assert_allclose(namespace["epistemic"][::10], f.std(axis=1), rtol=0.03)
    assert np.all(namespace["lower"] < mean) and np.all(mean < namespace["upper"])
