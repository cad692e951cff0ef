"""Data exchange with partner systems: partners and grants, signed envelopes, the access log."""
