"""HTTP clients of other organisations' services (retries, circuit breaker, batching)."""
