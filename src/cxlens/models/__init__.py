"""Models: dataframes (or arrays) in, scores out. Models never hold a database connection.

Layout: `clv/` (lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma, sBG, expected CLV), `rfm`
(recency / frequency / monetary scores and segments).
"""
