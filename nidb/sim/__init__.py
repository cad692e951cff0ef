"""Stand-ins for other organisations' systems and the synthetic data generator."""
