"""The arq worker: flushes last-used times and runs the stale-token sweep (never imports app.graphql)."""
