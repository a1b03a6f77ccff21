"""cxlens: open-source customer intelligence.

>>> import cxlens
>>> ws = cxlens.Workspace("path/to/workspace")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cxlens.errors import CxlensError
    from cxlens.workspace import Workspace

__all__ = ["CxlensError", "Workspace", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use so that `import cxlens` stays light.
    if name == "Workspace":
        from cxlens.workspace import Workspace

        return Workspace
    if name == "CxlensError":
        from cxlens.errors import CxlensError

        return CxlensError
    raise AttributeError(f"module 'cxlens' has no attribute {name!r}")
