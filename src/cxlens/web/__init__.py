"""The web dashboard's presentation: server-rendered pages with inline SVG charts.

`render(page, context)` turns a page name and plain data into HTML; the data each page takes is
written down in `cxlens.web.contexts`; `STATIC_DIR` holds the stylesheet the pages link to
(serve it at the context's `static_url`, "/static" unless told otherwise). Nothing is loaded
from elsewhere and no script runs: the pages work offline and without JavaScript.
"""

from __future__ import annotations

from cxlens.web.render import PAGES, STATIC_DIR, render

__all__ = ["PAGES", "STATIC_DIR", "render"]
