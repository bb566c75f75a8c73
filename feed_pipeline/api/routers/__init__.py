"""One router per resource: health, jobs, feeds, runs; plus aliases, the routes of the systems this replaces."""
