"""The demo company: a B2B SaaS business over three years, written as its sources' exports.

`generate_demo` writes one file per source preset under `data/` and the planted ground truth
(duplicate people and accounts, churn causes, text themes) under `truth/`.
"""

from cxlens.demo.clock import REFERENCE_DATE
from cxlens.demo.generate import MAX_CUSTOMERS, DemoManifest, generate_demo
from cxlens.demo.layout import SOURCE_FILES, SourceFile, demo_identity, demo_sources, demo_value

__all__ = [
    "MAX_CUSTOMERS",
    "REFERENCE_DATE",
    "SOURCE_FILES",
    "DemoManifest",
    "SourceFile",
    "demo_identity",
    "demo_sources",
    "demo_value",
    "generate_demo",
]
