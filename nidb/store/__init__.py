"""The register: SQLAlchemy models, sessions, migrations and bulk loading."""
