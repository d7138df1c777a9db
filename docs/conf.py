"""Sphinx configuration: user guide, numpydoc API pages and the example gallery.

The build is offline by design (``make docs`` runs with ``-W``, CI has no
network): no intersphinx, MathJax served from ``_static/mathjax``, and a
theme that ships its own fonts and icons.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import warnings

import bayesreg

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "sphinxext"))

project = "bayesreg"
author = "bayesreg developers"
copyright = "bayesreg developers"
release = bayesreg.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "_templates", "**/README.md"]
templates_path = ["_templates"]
default_role = "literal"

# -- API pages -----------------------------------------------------------------
# autosummary writes one page per object into generated/ (gitignored); the
# class template lists the methods itself, so numpydoc must not list them too.
autosummary_generate = True
autodoc_typehints = "none"
# "fit()" in the page's table of contents, not "ConjugateLinearRegression.fit()".
toc_object_entries_show_parents = "hide"
autodoc_default_options = {"member-order": "groupwise"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Methods that bayesreg estimators inherit from scikit-learn and that belong on
# their pages; every other inherited sklearn member (set_*_request,
# get_metadata_routing, set_output) is sklearn's business, documented there.
_SKLEARN_MEMBERS_SHOWN = {"get_params", "set_params", "score", "fit_transform"}


def _defined_in_bayesreg(member) -> bool:
    if isinstance(member, property):
        member = member.fget
    member = inspect.unwrap(member) if callable(member) else member
    return getattr(member, "__module__", "").startswith("bayesreg")


def _show_member(name: str, member) -> bool:
    return name in _SKLEARN_MEMBERS_SHOWN or _defined_in_bayesreg(member)


def _documented_methods() -> dict[str, list[str]]:
    """Public methods shown on each class page, by the class's public name."""
    out = {}
    for module_name in _API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            cls = getattr(module, name)
            if not inspect.isclass(cls):
                continue
            out[f"{module_name}.{name}"] = [
                m
                for m in dir(cls)
                if not m.startswith("_")
                and callable(getattr(cls, m))
                and _show_member(m, inspect.getattr_static(cls, m))
            ]
    return out


_API_MODULES = (
    "bayesreg",
    "bayesreg.distributions",
    "bayesreg.metrics",
    "bayesreg.plotting",
    "bayesreg.datasets",
    "bayesreg.utils",
    "bayesreg.utils.estimator_checks",
)
# A plain dict (not a function), so that Sphinx can cache the configuration.
autosummary_context = {"documented_methods": _documented_methods()}


def _skip_member(app, what, name, obj, skip, options):
    if what == "class" and not name.startswith("_") and not _show_member(name, obj):
        return True
    return None


def _resolve_public_path(app, env, node, contnode):
    """Resolve ``bayesreg.module.Name`` to ``bayesreg.Name`` when only the
    latter has a page (estimators are documented under their public path)."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("bayesreg."):
        return None
    name = target.rpartition(".")[2]
    if name not in bayesreg.__all__ or target == f"bayesreg.{name}":
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], f"bayesreg.{name}",
        node, contnode,
    )  # fmt: skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("missing-reference", _resolve_public_path)


# -- Gallery -------------------------------------------------------------------
# The examples shrink themselves when BAYESREG_EXAMPLES_QUICK is set (the test
# suite does that); the gallery always shows them at full size.
os.environ.pop("BAYESREG_EXAMPLES_QUICK", None)
# Agg for the examples; sphinx-gallery collects their figures from pyplot.
os.environ["MPLBACKEND"] = "Agg"
warnings.filterwarnings(
    "ignore",
    message="Matplotlib is currently using agg, which is a non-GUI backend",
    category=UserWarning,
)

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|quickstart\.py",
    # The reading order that examples/README.txt lists.
    "within_subsection_order": "gallery_order.ReadingOrder",
    "doc_module": ("bayesreg",),
    # API pages embed the examples that use each object (minigallery).
    "backreferences_dir": "generated/backreferences",
    "reset_modules": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "min_reported_time": 10,
    # Show what the examples print, not the repr of a block's last expression
    # (the Legend or Text that a plotting call returns).
    "capture_repr": (),
    # Timings would land in docs/sg_execution_times.rst, outside the ignored
    # build folders; each example page states its own running time.
    "write_computation_times": False,
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": False,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"bayesreg {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "secondary_sidebar_items": ["page-toc"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "install": [], "getting_started": []}

# MathJax from _static (Sphinx resolves a relative path against it), not a CDN.
mathjax_path = "mathjax/tex-chtml-full.js"
