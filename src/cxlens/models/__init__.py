"""Models: dataframes (or arrays) in, scores out. Models never hold a database connection."""
