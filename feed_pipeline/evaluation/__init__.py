"""`feed-pipeline evaluate` and `calibrate`: classify and route jobs outside a run, compare with labels, report.

The figures themselves are pure functions in `core.evaluation`; this package reads feeds, label files and
review decisions, runs the configured classifier and writes the markdown and PNG reports.
"""
