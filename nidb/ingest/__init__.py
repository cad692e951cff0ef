"""Reading, validating and writing the interchange files; quarantine of bad rows."""
