"""The web front ends: citizen portal (cổng công dân) and staff console, server-rendered."""
