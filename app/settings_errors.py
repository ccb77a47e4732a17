"""Configuration problems as one line each: which variable, what is wrong, and no secret.

Every command loads its settings through `load_settings()` at start-up (app/cli.py); anything
else that reports on configuration (a `keyward check`) can use the same functions.
"""

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from pydantic import ValidationError

from app.settings import ENV_PREFIX, Settings, get_settings

# Variables with the prefix that are not settings of the server: the test suite's own
# (KEYWARD_TEST_*), the benchmarks' (KEYWARD_BENCH*), the on-demand profiles of the long tests, a
# token kept for the CLI user's scripts, the password `keyward create-owner` reads, and the README's example
# webhook receiver.
TOOLING_PREFIXES = ("KEYWARD_TEST_", "KEYWARD_BENCH")
TOOLING_VARIABLES = frozenset(
    {
        "KEYWARD_FUZZ_EXAMPLES",
        "KEYWARD_LOAD_SECONDS",
        "KEYWARD_LOAD_CONNECTIONS",
        "KEYWARD_TIMING_SAMPLES",
        "KEYWARD_TOKEN",
        "KEYWARD_OWNER_PASSWORD",
        "KEYWARD_WEBHOOK_SECRET",
    }
)
SETTINGS_WITH_URLS = ("database_url", "redis_url")
_LONGEST_VALUE_SHOWN = 60
_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@]*@", re.IGNORECASE)


class ConfigurationError(Exception):
    """A setting that cannot work. ``str()`` is one line that names the variable, secrets masked."""


def variable_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def known_variables() -> list[str]:
    return sorted(variable_name(field) for field in Settings.model_fields)


def _passwords(environ: Mapping[str, str]) -> set[str]:
    found = set()
    for field in SETTINGS_WITH_URLS:
        value = environ.get(variable_name(field)) or ""
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            found.add(password)
    return found


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with the password of every URL in it, and of the configured URLs, replaced by ***."""
    text = _PASSWORD_IN_URL.sub(r"\g<head>***@", text)
    for password in _passwords(os.environ if environ is None else environ):
        text = text.replace(password, "***")
    return text


def _shown(value: object) -> str:
    text = str(value)
    if len(text) > _LONGEST_VALUE_SHOWN:
        text = text[:_LONGEST_VALUE_SHOWN] + "…"
    return repr(text)


def validation_error_lines(exc: ValidationError) -> list[str]:
    """One line per invalid setting, e.g. ``KEYWARD_SESSION_TTL_HOURS='twelve': input should be a valid number``."""
    lines = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if message[1:2].islower():  # "Input should be…" reads on after the name; "KEYWARD_…" stays as it is
            message = message[:1].lower() + message[1:]
        location = error.get("loc") or ()
        if location:
            value = error.get("input")
            shown = f"={_shown(value)}" if isinstance(value, str | int | float) else ""
            lines.append(redact(f"{variable_name(str(location[0]))}{shown}: {message}"))
        else:
            lines.append(redact(message))
    return [" ".join(line.split()) for line in lines]


def schedule_problems(settings: Settings) -> list[str]:
    """The schedules a service would run, checked the way the worker and the embedded sweep read them."""
    from app.cron import InvalidCron, cron_options, is_off

    if is_off(settings.stale_sweep_cron):
        return []
    try:
        cron_options(settings.stale_sweep_cron)
    except InvalidCron as exc:
        return [f"{variable_name('stale_sweep_cron')}={_shown(settings.stale_sweep_cron)}: {exc}"]
    return []


def load_settings() -> Settings:
    """The settings, validated, schedules included; a `ConfigurationError` of one line per problem otherwise."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise ConfigurationError("\n".join(validation_error_lines(exc))) from None
    problems = schedule_problems(settings)
    if problems:
        raise ConfigurationError("\n".join(problems))
    return settings


def _is_tooling(name: str) -> bool:
    return name in TOOLING_VARIABLES or name.startswith(TOOLING_PREFIXES)


def unknown_variable_warnings(environ: Iterable[str]) -> list[str]:
    """A warning for each ``KEYWARD_*`` variable that is no setting, naming the closest one."""
    known = known_variables()
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or _is_tooling(upper):
            continue
        # Compared without the prefix, which every candidate shares and would make anything look close.
        closest = difflib.get_close_matches(
            upper.removeprefix(ENV_PREFIX), [k.removeprefix(ENV_PREFIX) for k in known], n=1, cutoff=0.6
        )
        hint = f" (did you mean {ENV_PREFIX}{closest[0]}?)" if closest else ""
        warnings.append(f"{name} is not a Keyward setting and is ignored{hint}")
    return warnings
