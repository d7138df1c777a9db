"""Docstrings of the public API: numpydoc structure and runnable examples.

Walks ``__all__`` of every public module and checks each public class and
function defined in bayesreg (and the public methods and properties that
bayesreg defines on those classes):

- it has a numpydoc ``Examples`` section with ``>>>`` lines (the doctests
  themselves run with ``pytest --doctest-modules``);
- ``numpydoc.validate`` reports none of the errors in ``CHECKED_CODES``: a
  missing docstring or summary, parameters undocumented or unknown to the
  signature, sections out of order, ...

The ``>>>`` examples of the hand-written documentation pages (docs/*.rst)
run here too, so the user guide cannot drift from the code.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
from pathlib import Path

import pytest
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

PUBLIC_MODULES = (
    "bayesreg",
    "bayesreg.distributions",
    "bayesreg.metrics",
    "bayesreg.plotting",
    "bayesreg.datasets",
    "bayesreg.basis",
    "bayesreg.conjugate",
    "bayesreg.ridge",
    "bayesreg.model_selection",
    "bayesreg.utils",
    "bayesreg.utils.estimator_checks",
    "bayesreg.pyro",
    "bayesreg.pyro.linear",
    "bayesreg.pyro.bnn",
)

# numpydoc validation codes that must not occur (numpydoc.validate.ERROR_MSGS).
# Left out on purpose: style preferences (SS05 infinitive verb, PR08/RT04
# capitalisation), optional sections (ES01, SA01, EX01: Examples is checked
# below) and per-item descriptions and returns (PR07, RT01-RT03).
CHECKED_CODES = {
    "GL02",  # closing quotes on their own line
    "GL03",  # double line break
    "GL05",  # tabs
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "GL09",  # deprecation warning placement
    "GL10",  # malformed ..versionadded
    "SS01",  # no summary
    "SS03",  # summary does not end with a period
    "SS04",  # summary starts with whitespace
    "PR01",  # a parameter of the signature is not documented
    "PR02",  # a documented parameter is not in the signature
    "PR03",  # parameters documented in the wrong order
    "PR05",  # parameter type ends with a period
    "PR06",  # "integer"/"boolean"/"string" instead of int/bool/str
    "PR10",  # "name: type" without the space before the colon
    "YD01",  # generator without Yields
}


def _public_objects() -> dict[str, object]:
    """Public classes and functions defined in bayesreg, by canonical name."""
    found: dict[str, object] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:  # no __all__: the public names defined in the module
            names = [
                n
                for n, v in vars(module).items()
                if not n.startswith("_")
                and getattr(v, "__module__", None) == module_name
            ]
        for name in names:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # scorer instances: documented by their class
            if not obj.__module__.startswith("bayesreg"):
                continue
            found.setdefault(f"{_public_module(obj)}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


def _public_module(obj) -> str:
    """The module a user imports ``obj`` from: its defining module without the
    private tail (``bayesreg.metrics._scorers`` -> ``bayesreg.metrics``), as
    the packages re-export what their private modules define."""
    parts = obj.__module__.split(".")
    while len(parts) > 1 and parts[-1].startswith("_"):
        parts.pop()
    return ".".join(parts)


def _documented_name(cls: type, attr: str) -> str | None:
    """Where the docstring of ``cls.attr`` that Sphinx shows is defined.

    autodoc inherits docstrings (``autodoc_inherit_docstrings``), so an
    override without one is documented by the method it overrides; that is
    the docstring validated. None for members bayesreg does not define.
    """
    owners = [k for k in cls.__mro__ if attr in vars(k)]
    if not owners or not owners[0].__module__.startswith("bayesreg"):
        return None
    for klass in owners:
        member = vars(klass)[attr]
        doc = member.fget.__doc__ if isinstance(member, property) else member.__doc__
        if doc and klass.__module__.startswith("bayesreg"):
            return f"{klass.__module__}.{klass.__qualname__}.{attr}"
    return f"{owners[0].__module__}.{owners[0].__qualname__}.{attr}"


def _validated_names() -> list[str]:
    names = []
    for name, obj in _public_objects().items():
        names.append(name)
        if not inspect.isclass(obj):
            continue
        for attr in dir(obj):
            if attr.startswith("_") and attr != "__call__":
                continue
            static = inspect.getattr_static(obj, attr)
            if not (inspect.isfunction(static) or isinstance(static, property)):
                continue
            documented = _documented_name(obj, attr)
            if documented is not None:
                names.append(documented)
    return sorted(set(names))


PUBLIC_OBJECTS = _public_objects()
VALIDATED = _validated_names()


def test_the_walk_finds_the_public_api():
    # Guards the walk itself: an empty or truncated list would pass trivially.
    expected = {
        "bayesreg.conjugate.ConjugateLinearRegression",
        "bayesreg.ridge.RidgeMAP",
        "bayesreg.pyro.linear.PyroBayesianLinear",
        "bayesreg.pyro.bnn.PyroBNNRegressor",
        "bayesreg.metrics.predict_dist",
        "bayesreg.metrics.mean_crps",
        "bayesreg.plotting.PredictiveBandDisplay",
        "bayesreg.datasets.load_uci",
        "bayesreg.utils.check_generator",
        "bayesreg.utils.estimator_checks.check_predictive_contract",
    }
    assert expected <= set(PUBLIC_OBJECTS)
    assert "bayesreg._base.BayesianRegressorMixin.predict_std" in VALIDATED
    assert "bayesreg.distributions._base.PredictiveDistribution.mean" in VALIDATED


def _examples_failure(obj) -> str | None:
    doc = inspect.getdoc(obj) or ""
    examples = NumpyDocString(doc)["Examples"]
    if not any(line.lstrip().startswith(">>>") for line in examples):
        return "no Examples section with >>> lines"
    return None


@pytest.mark.parametrize("name", list(PUBLIC_OBJECTS))
def test_public_object_has_examples(name):
    failure = _examples_failure(PUBLIC_OBJECTS[name])
    assert failure is None, f"{name}: {failure}"


def _errors(name: str) -> list[tuple[str, str]]:
    return [(c, m) for c, m in validate(name)["errors"] if c in CHECKED_CODES]


@pytest.mark.parametrize("name", VALIDATED)
def test_numpydoc_validation(name):
    errors = _errors(name)
    assert not errors, f"{name}:\n" + "\n".join(f"  {c}: {m}" for c, m in errors)


def test_validation_can_fail():
    # The checks catch what they claim to catch.
    def undocumented(a, b):
        """Summary line.

        Parameters
        ----------
        a : int
            Documented.
        c : int
            Not in the signature.
        """

    globals()["_undocumented_for_test"] = undocumented
    try:
        codes = {c for c, _ in _errors(f"{__name__}._undocumented_for_test")}
    finally:
        del globals()["_undocumented_for_test"]
    assert {"PR01", "PR02"} <= codes
    assert _examples_failure(undocumented) is not None


DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC_PAGES = sorted(
    page
    for page in DOCS.rglob("*.rst")
    if not page.relative_to(DOCS).parts[0].startswith(("_", "generated", "auto_"))
    and ">>>" in page.read_text(encoding="utf-8")
)


def test_doc_pages_are_found():
    names = {page.relative_to(DOCS).as_posix() for page in DOC_PAGES}
    assert {"getting_started.rst", "user_guide/linear.rst"} <= names


@pytest.mark.parametrize(
    "page", DOC_PAGES, ids=[p.relative_to(DOCS).as_posix() for p in DOC_PAGES]
)
def test_doc_page_examples(page):
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
