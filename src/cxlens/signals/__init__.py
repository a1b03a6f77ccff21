"""Real-time signals: events over the API, rules over the event and the customer's profile,
alerts stored once, playbook tasks for the front line, notifications, and whether it works.

Import the parts: `cxlens.signals.service.Signals` (what `Workspace.signals` returns),
`cxlens.signals.rules` (the rules file), `cxlens.signals.channels` (notifications)."""
