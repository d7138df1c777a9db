"""scikit-learn style Display objects for predictive distributions.

Each display follows sklearn's visualisation API: build it with
``from_estimator(...)`` or ``from_predictions(...)``, or construct it from
precomputed values and call ``.plot(ax=...)``. After plotting, ``ax_`` and
``figure_`` hold the matplotlib axes and figure and the drawn artists are
attributes (``line_``, ``bands_``, ``bars_``...), so figures can be restyled
and tested.

matplotlib is imported only inside the plotting methods: ``import
bayesreg.plotting`` does not import it.

* :class:`PredictiveBandDisplay`: the predictive mean and central bands over
  a one-dimensional input, with the data and functions drawn from the
  posterior (or from the prior of an unfitted estimator);
* :class:`ReliabilityDisplay`: observed against nominal coverage;
* :class:`PITDisplay`: histogram of probability integral transform values;
* :class:`LossCurveDisplay`: the loss (negative ELBO) curve of an SVI fit.

One Display per module, as in scikit-learn's ``metrics/_plot/``; what they
share (axes, artist keywords, argument checks) is in ``_common``.
"""

from __future__ import annotations

from ._loss_curve import LossCurveDisplay
from ._pit import PITDisplay
from ._predictive_band import PredictiveBandDisplay
from ._reliability import ReliabilityDisplay

__all__ = [
    "LossCurveDisplay",
    "PITDisplay",
    "PredictiveBandDisplay",
    "ReliabilityDisplay",
]
