"""Identity resolution: one master customer per real person, one master account per company.

Ingestion gives every record a provisional master of its own (`provisional`); `resolve` unites
them: normalisation, deterministic rules, Splink probabilistic matching, clustering that
honours analysts' decisions, stable ids, golden records, an audit log, and explanations.
"""

from cxlens.identity.explain import MasterExplanation
from cxlens.identity.resolve import ResolveReport
from cxlens.identity.service import Identity

__all__ = ["Identity", "MasterExplanation", "ResolveReport"]
