"""The arq worker: scheduled jobs that call app.services and app.usage, never app.graphql."""
