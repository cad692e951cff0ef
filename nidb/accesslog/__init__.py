"""The append-only, hash-chained access log: every partner request and every read of personal data."""
