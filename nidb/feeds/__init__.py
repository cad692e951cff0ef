"""Inbound change feeds: what other registries tell nidb (deaths, enterprises, welfare, visits)."""
