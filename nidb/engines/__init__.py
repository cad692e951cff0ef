"""Batch engines other capabilities run their work on (the Spark runtime); no capability imports."""
