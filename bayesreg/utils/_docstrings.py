"""Docstring sections written once and shared by several public objects.

A docstring names a section by a line ``%(key)s`` alone (indented as the
section should be); :func:`fill_doc` replaces that line by the section.
Parameters blocks are not shared this way: each public signature documents
its own arguments, in place.
"""

from __future__ import annotations

import re
import textwrap

_PLACEHOLDER = re.compile(r"^([ \t]*)%\((\w+)\)s[ \t]*$", re.MULTILINE)

#: The fitted attributes every estimator sets through ``validate_data``.
FEATURES_SEEN = """\
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit, when X has string column names.
"""

#: The fitted posterior means of a Bayesian linear model's coefficients.
POSTERIOR_MEANS = """\
coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    Posterior mean of the coefficients (one row per target for a 2-D y).
intercept_ : float or ndarray of shape (n_targets,)
    Posterior mean of the intercept (0.0 when ``fit_intercept=False``).
"""


def fill_doc(**sections: str):
    """Decorator: each ``%(key)s`` line of the docstring becomes
    ``sections[key]``, indented as that line."""

    def decorate(obj):
        def section(match: re.Match) -> str:
            indent, key = match.groups()
            return textwrap.indent(sections[key], indent).rstrip("\n")

        obj.__doc__ = _PLACEHOLDER.sub(section, obj.__doc__)
        return obj

    return decorate
