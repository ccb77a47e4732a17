"""Keyward: workspace administration with projects, API keys and management tokens."""


def keyward_version() -> str:
    """The installed distribution's version (pyproject.toml's), or "unknown" when run from a bare source tree.

    importlib.metadata is imported here, not above: every `app.*` import would pay for it, uvicorn's
    worker processes included, which must answer their supervisor within seconds of starting.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("keyward")
    except PackageNotFoundError:
        return "unknown"
