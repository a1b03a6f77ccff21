"""Customer lifetime value: probabilistic models of purchasing, spending and retention.

* `BetaGeo` (BG/NBD, Fader, Hardie & Lee 2005) — how often a customer buys and whether they
  are still "alive", from frequency, recency and age;
* `ParetoNBD` (Schmittlein, Morrison & Colombo 1987) — the same question, with dropout at any
  time rather than only after a purchase;
* `GammaGamma` (Fader, Hardie & Lee 2005, "RFM and CLV") — how much they spend per purchase;
* `ShiftedBetaGeometric` (sBG, Fader & Hardie 2007) — retention of subscription cohorts.

Each is fitted by maximum likelihood with vectorised numpy/scipy; customers with the same
summary are grouped and weighted, so a million customers fit in seconds.
"""

from cxlens.models.clv.bgnbd import BetaGeo
from cxlens.models.clv.gamma_gamma import GammaGamma
from cxlens.models.clv.pareto_nbd import ParetoNBD
from cxlens.models.clv.sbg import ShiftedBetaGeometric
from cxlens.models.clv.value import clv_interval, expected_clv

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "clv_interval",
    "expected_clv",
]
