"""Run directories on disk: safe targets, atomic commits, the manifest, and reading and writing
tables (CSV and parquet)."""
