"""Print the schema's SDL (what scripts/export-schema commits as app/graphql/schema.graphql)."""

from pathlib import Path

from app.graphql.schema import schema

COMMITTED_SDL = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
