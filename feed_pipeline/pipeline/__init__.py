"""Each stage's work as a plain function over the store and the classifier, one module a stage.

The assets (feed_pipeline/assets/) are the Dagster shells around these: resources in, stage function, metadata
out. Nothing here imports Dagster, so a stage can be run, tested and benchmarked without it.
"""
