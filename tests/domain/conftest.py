"""Hypothesis profiles for the domain tests.

The default profile keeps the suite fast; `pytest --hypothesis-profile=thorough tests/domain`
runs fifty times as many examples, worth doing after changing a parser or normaliser.
"""

from hypothesis import settings

settings.register_profile("thorough", max_examples=5000)
