"""Voice of the customer: satisfaction, and sentiment, themes, drivers and emerging issues of
every customer text, run over the store and kept per run."""

from cxlens.voc.analysis import VocRun
from cxlens.voc.service import NoVocRun, Voice

__all__ = ["NoVocRun", "VocRun", "Voice"]
