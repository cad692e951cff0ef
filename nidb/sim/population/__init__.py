"""Stand-in for the national population database (CSDLQG về dân cư) used for Đề án 06 checks.

A real HTTP service that holds a `registry` extract in memory and answers field-by-field
verification, demographic search (tra cứu), look-up by a citizen's old 9-digit ID number (số
CMND, kept when the registry file has the optional `old_id` column) and a change feed, with
fault injection so that
nidb's connector can be tested against an unreliable partner. Run it with `serve`, or build the
app with `create_app` (and `BackgroundServer` to run it on a thread in tests and demos).
"""

from nidb.sim.population.app import create_app
from nidb.sim.population.faults import FaultConfig
from nidb.sim.population.loading import RegistryFileError, load_registry
from nidb.sim.population.registry import Registry
from nidb.sim.population.server import BackgroundServer, serve

__all__ = [
    "BackgroundServer",
    "FaultConfig",
    "Registry",
    "RegistryFileError",
    "create_app",
    "load_registry",
    "serve",
]
