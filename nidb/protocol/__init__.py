"""The partner protocol both sides speak: canonical JSON, Ed25519 keys, signed envelopes, refusal codes, a partner's client.

Pure and free of the store: a partner (and every stand-in under ``nidb.sim``) imports only these.
"""
