"""Starlette endpoints and middleware outside GraphQL."""
