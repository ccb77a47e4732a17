"""Verified credentials on the request path: a per-process cache kept honest by a revocation epoch.

`checker.CredentialChecker` is the one path from a presented API key or management token to what
it may do, shared by `POST /v1/keys/verify` and the GraphQL authentication; `cache` keeps what the
database decided; `epoch.bump_revocation_epoch()` is what every revoking mutation calls.
"""
