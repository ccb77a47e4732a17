"""Applying the committed migrations, the way Django and Rails do it.

- One migrator at a time per database (`lock.py`): a concurrent `keyward migrate`, or the
  workers of `keyward serve --workers 2` on a fresh SQLite file, wait for the one that migrates
  and then find nothing to do.
- Each migration and its record commit together (`executor.py`): a migrate killed at any point
  leaves a database that the next migrate finishes.
- A failure names the migration, is rolled back, and ends the command; nothing is left running
  that could keep the process from exiting.
"""

from app.migrating.executor import MigrationFailed
from app.migrating.run import migrate

__all__ = ["MigrationFailed", "migrate"]
