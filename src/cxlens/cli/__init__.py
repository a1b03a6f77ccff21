"""The `cxlens` command line: thin commands over `cxlens.workspace.Workspace`.

Exit codes: 0 success; 1 other cxlens error; 2 configuration; 3 store; 4 unreadable source;
5 load refused or failed (the store is unchanged); 6 identity (unknown master, record or
decision); 7 a model or metric cannot be computed from the data; 130 interrupted.
"""

from __future__ import annotations

from cxlens.cli import adhoc as _adhoc  # noqa: F401  (registers its commands)
from cxlens.cli import identity as _identity  # noqa: F401
from cxlens.cli import risk as _risk  # noqa: F401
from cxlens.cli import signals as _signals  # noqa: F401
from cxlens.cli import value as _value  # noqa: F401
from cxlens.cli import voc as _voc  # noqa: F401
from cxlens.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
