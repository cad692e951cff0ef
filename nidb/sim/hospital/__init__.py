"""A hospital's information system (HIS) stand-in: it checks cards and sends visits to nidb."""

from nidb.sim.hospital.app import create_app

__all__ = ["create_app"]
