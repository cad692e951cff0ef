"""Stand-in for a partner's webhook receiving nidb's outbound change feed (issue 4).

Build the app with `create_app` (and run it on a thread with
`nidb.sim.population.BackgroundServer` in tests) or serve it with `serve` /
`nidb sim webhook`. Events are POSTed to ``/events``; ``/received`` and ``/stats`` show what
arrived; ``PUT /admin/faults`` injects faults.
"""

from nidb.sim.webhook.app import SERVICE, UNKNOWN_KEY, FaultSettings, Receiver, create_app
from nidb.sim.webhook.server import serve

__all__ = ["SERVICE", "UNKNOWN_KEY", "FaultSettings", "Receiver", "create_app", "serve"]
