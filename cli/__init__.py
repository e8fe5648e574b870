"""The `cuabot` command: composes ingest, bot, ui and eval (nothing imports it)."""
