"""`python -m cxlens.cli`."""

from cxlens.cli import main

main()
