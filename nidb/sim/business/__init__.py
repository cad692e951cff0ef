"""Stand-in for the national business registry (CSDL quốc gia về đăng ký doanh nghiệp).

A real HTTP service holding enterprises (10-digit enterprise / tax code, name, province,
address, business line, registered workers, status) with a change feed of `registered`,
`changed` and `closed` events (`GET /v1/changes?after=CURSOR&limit=N`, oldest first), admin
endpoints that make events (tests and demos), and the population stand-in's fault injection.
Run it with `serve` (`nidb sim business`), or build the app with `create_app` and run it on a
thread with `nidb.sim.population.BackgroundServer`.
"""

from nidb.sim.business.app import create_app, serve
from nidb.sim.business.feed import EventFeed
from nidb.sim.business.registry import BusinessRegistry, DataFileError, Enterprise, load_enterprises

__all__ = [
    "BusinessRegistry",
    "DataFileError",
    "Enterprise",
    "EventFeed",
    "create_app",
    "load_enterprises",
    "serve",
]
