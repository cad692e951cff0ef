"""The outbound change feed: outbox events, subscriptions, signed webhook delivery."""
