"""One router per resource: events, alerts and tasks, customers, metrics, voice, risk."""
