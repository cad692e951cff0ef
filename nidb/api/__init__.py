"""The HTTP API (`nidb serve`): thin FastAPI routers over the capabilities."""
