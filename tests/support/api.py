"""Factories and a small GraphQL client for tests: everything goes through the public HTTP API."""

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

_counter = itertools.count(1)
PASSWORD = "correct horse battery"
ALL_PERMISSIONS = ["VIEW_PROJECTS", "MANAGE_PROJECTS", "VIEW_API_KEYS", "DELETE_API_KEYS", "CREATE_API_KEY"]


@dataclass
class Account:
    email: str
    session: str
    workspace_id: str


@dataclass
class Api:
    http: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token)
        assert response.status_code in (200, 401), response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        """Data of a query that must succeed: no GraphQL errors, no userErrors in any payload."""
        body = await self.gql(query, variables, token)
        assert "errors" not in body, body
        for value in (body["data"] or {}).values():
            if isinstance(value, dict) and "userErrors" in value:
                assert value["userErrors"] == [], value
        return body["data"]

    async def sign_up(self, email: str | None = None, workspace: str = "Acme") -> Account:
        email = email or f"person{next(_counter)}@example.com"
        data = await self.ok(SIGN_UP, {"input": {"email": email, "password": PASSWORD, "workspaceName": workspace}})
        payload = data["signUp"]
        return Account(email, payload["sessionToken"], payload["viewer"]["workspace"]["id"])

    async def invite(self, inviter: Account, role: str, email: str | None = None) -> tuple[str, str]:
        """(email, kwi_ token) of a new invitation to the inviter's workspace."""
        email = email or f"member{next(_counter)}@example.com"
        data = await self.ok(INVITE_MEMBER, {"input": {"email": email, "role": role}}, inviter.session)
        return email, data["inviteMember"]["inviteToken"]

    async def accept(self, invite_token: str, password: str | None = PASSWORD, token: str | None = None) -> str:
        """The session token that accepting the invitation opens."""
        data = await self.ok(ACCEPT_INVITATION, {"input": {"inviteToken": invite_token, "password": password}}, token)
        return data["acceptInvitation"]["sessionToken"]

    async def add_member(self, owner: Account, role: str, email: str | None = None) -> Account:
        """A person invited by `owner` with `role`, who accepted (a new account, or an existing one by its
        password) and is signed in to the owner's workspace."""
        email, invite_token = await self.invite(owner, role, email)
        return Account(email, await self.accept(invite_token), owner.workspace_id)

    async def create_token(
        self, account: Account, permissions: list[str], name: str | None = None, **more: Any
    ) -> tuple[str, str]:
        """(global id, secret) of a new management token; `more`: other input fields (e.g. expiresAt)."""
        data = await self.ok(
            CREATE_TOKEN,
            {"input": {"name": name or f"token-{next(_counter)}", "permissions": permissions, **more}},
            account.session,
        )
        payload = data["createManagementToken"]
        return payload["managementToken"]["id"], payload["secret"]

    async def create_project(self, token: str, name: str = "Website") -> str:
        data = await self.ok(CREATE_PROJECT, {"input": {"name": name}}, token)
        return data["createProject"]["project"]["id"]

    async def create_api_key(self, token: str, project_id: str, name: str = "server", **more: Any) -> tuple[str, str]:
        """(global id, secret) of a new API key; `more`: other input fields (e.g. expiresAt, meta)."""
        data = await self.ok(CREATE_API_KEY, {"input": {"projectId": project_id, "name": name, **more}}, token)
        payload = data["createApiKey"]
        return payload["apiKey"]["id"], payload["secret"]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) {
    sessionToken
    viewer { kind role email permissions workspace { id name staleAfterDays autoRevokeStaleAfterDays } }
    userErrors { field message code }
  }
}"""

LOG_IN = """
mutation($input: LogInInput!) {
  logIn(input: $input) { sessionToken viewer { kind role email } userErrors { field message code } }
}"""

INVITE_MEMBER = """
mutation($input: InviteMemberInput!) {
  inviteMember(input: $input) {
    invitation { id email role status createdAt expiresAt invitedBy { kind id label } }
    inviteToken inviteUrl userErrors { field message code }
  }
}"""

ACCEPT_INVITATION = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    sessionToken viewer { kind role email workspace { id name } } userErrors { field message code }
  }
}"""

TOKEN_FIELDS = """
  id name keyPrefix permissions status createdAt lastUsedAt revokedAt staleSince
  createdBy { kind id label }
  replaces { id name } replacedBy { id name }
"""

CREATE_TOKEN = f"""
mutation($input: CreateManagementTokenInput!) {{
  createManagementToken(input: $input) {{
    secret managementToken {{ {TOKEN_FIELDS} }} userErrors {{ field message code }}
  }}
}}"""

CREATE_PROJECT = """
mutation($input: CreateProjectInput!) {
  createProject(input: $input) { project { id name description createdAt updatedAt } userErrors { field message code } }
}"""

CREATE_API_KEY = """
mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    secret apiKey { id name keyPrefix createdAt lastUsedAt createdBy { kind id label } project { id name } }
    userErrors { field message code }
  }
}"""
