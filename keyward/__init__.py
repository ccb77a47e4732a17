"""The `keyward` command: starts the API (app/) or the worker (workers/), and runs one-off jobs.

It sits above both packages: workers/ depends on app/, and neither imports this one.
"""
