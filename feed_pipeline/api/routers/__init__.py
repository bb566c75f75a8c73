"""One router per resource: health, jobs, feeds, runs."""
