"""Tests of fraud detection (nidb.detect)."""
