"""Recording when a credential was last used, without a database write per request (a leaf package).

`runtime.UsageRuntime` is what the API process holds; `flush.flush` is what the worker (or the
embedded mode) runs; `keys` names every Redis key.
"""

from app.usage.model import UsageKind, Use

__all__ = ["UsageKind", "Use"]
