"""`keyward config`: the effective configuration, every setting, with secrets masked."""

import json
from typing import Any

from pydantic import SecretStr

from app.observability.startup import MASK, without_password
from app.settings import Settings
from app.settings_errors import variable_name


def shown(value: Any) -> Any:
    """What may be printed: a secret as *** (when set), a URL without its password."""
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else ""
    if isinstance(value, str) and "://" in value:
        return without_password(value)
    return value


def _env_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def effective_configuration(settings: Settings, output: str = "env") -> str:
    """`env`: `KEYWARD_NAME=value` lines, `# default` beside values nobody set; `json`: one object."""
    values = {variable_name(name): shown(getattr(settings, name)) for name in type(settings).model_fields}
    if output == "json":
        return json.dumps(values, indent=2) + "\n"
    lines = []
    for name in type(settings).model_fields:
        line = f"{variable_name(name)}={_env_text(values[variable_name(name)])}"
        if name not in settings.model_fields_set:
            line += "  # default"
        lines.append(line)
    return "\n".join(lines) + "\n"
