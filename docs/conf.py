"""Sphinx configuration of pgwire's documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(``scripts/docs.sh`` does it, with the pure-Python build loaded so that
autodoc sees every signature).  The pages are Markdown (MyST); the API
reference is generated from the docstrings (docs/api/).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
# Autodoc reads signatures from the Python sources, not the compiled modules.
os.environ.setdefault("PGWIRE_NO_EXTENSIONS", "1")

import pgwire  # noqa: E402

project = "pgwire"
author = "the pgwire authors"
copyright = "2026, the pgwire authors"
release = getattr(pgwire, "__version__", "0.1.0")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options = {
    "members": True,
    "undoc-members": False,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
# Inherited docstrings would bring SQLAlchemy's (with its own roles) into the dialect page.
autodoc_inherit_docstrings = False

html_theme = "furo"
html_title = "pgwire"
html_theme_options = {"source_directory": "docs/"}
