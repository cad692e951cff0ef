"""A stand-in for VNeID (định danh điện tử), the national electronic identity: an OpenID Connect
provider (authorization code + PKCE, EdDSA-signed id_tokens) over a seeded list of citizens."""
