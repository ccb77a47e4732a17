"""The baseline of the GraphQL row: a bare strawberry schema answering the same-shaped query from static data.

`projects(first: 20) { edges { node { id name } } }` on a schema with strawberry's ParserCache and
ValidationCache, mounted with strawberry's ASGI view on Starlette, served by uvicorn with the same
flags as the real app. No authentication, no database: what strawberry + Starlette + uvicorn cost
by themselves on this machine. `/readyz` exists so the harness starts it like the real app.
"""

import base64

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Project:
    id: strawberry.ID
    name: str


@strawberry.type
class ProjectEdge:
    cursor: str
    node: Project


@strawberry.type
class ProjectConnection:
    edges: list[ProjectEdge]


PROJECTS = [
    Project(id=strawberry.ID(base64.b64encode(f"Project:{pk}".encode()).decode()), name=f"project {pk:02d}")
    for pk in range(1, 26)
]


@strawberry.type
class Query:
    @strawberry.field
    async def projects(self, first: int | None = None) -> ProjectConnection:
        rows = PROJECTS[: 20 if first is None else first]
        return ProjectConnection(edges=[ProjectEdge(cursor=row.id, node=row) for row in rows])


schema = strawberry.Schema(
    query=Query,
    extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)


async def readyz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    graphql = GraphQL(schema, graphql_ide=None)
    return Starlette(routes=[Route("/readyz", readyz), Route("/graphql", graphql, methods=["GET", "POST"])])
