"""Stand-in for a payment gateway (cổng thanh toán) that nidb's online services pay through.

`create_app` builds it (run it on a thread with `nidb.sim.population.server.BackgroundServer`
in tests) and `nidb sim payment --port P --secret S` serves it. A merchant creates a payment
(`POST /v1/payments`), sends the payer to its pay page (`/pay/{id}`, one button), and gets a
signed callback: HMAC-SHA256 with the shared secret over the canonical JSON body (sorted keys,
no spaces, UTF-8), which carries a Unix `timestamp`, in the header
`X-Signature: sha256=<hex>`. Callbacks are retried until answered 2xx; `PUT /admin/mode` makes
the gateway send them twice, add a stale one out of order, sign them badly or date them late.
"""

from nidb.sim.payment.app import GatewayMode, create_app, sign

__all__ = ["GatewayMode", "create_app", "sign"]
