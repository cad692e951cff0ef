"""Identity: verification against the population registry, matching, duplicates, merges."""
