"""Early warning over the store: health scorecards with daily history, churn models trained on
point-in-time features and back-tested, scores with reasons, time to churn, revenue at risk.

`service.Risk` is the entry point (`Workspace.risk`); `features` and `frames` are importable
without the model libraries."""
