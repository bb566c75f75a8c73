"""The `feeds` dynamic partitions: one partition key per feed id, shared by the assets and the automation."""
import dagster as dg

feeds_partitions = dg.DynamicPartitionsDefinition(name="feeds")
