"""A populated workspace built through the public API: people of each role, a project with a
key, management tokens, and a way to get a real object of every node type.

Stale-token reports are written only by the sweep (the worker's job), so one is inserted as the
sweep would; everything else goes through GraphQL.
"""

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app import models
from app.graphql.ids import from_global_id, to_global_id
from tests.support.api import Account, Api

_names = itertools.count(1)

AUDIT_IDS = "query { auditEvents(first: 1) { edges { node { id } } } }"
INVITE = """mutation($email: String!) {
  inviteMember(input: {email: $email, role: MEMBER}) { invitation { id } userErrors { code } } }"""
CREATE_WORKSPACE = """mutation($name: String!) {
  createWorkspace(input: {name: $name}) { sessionToken userErrors { code } } }"""
CREATE_WEBHOOK_ENDPOINT = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { webhookEndpoint { id } userErrors { code } } }"""
DELETE_WEBHOOK_ENDPOINT = """mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { userErrors { code } } }"""
SEND_TEST_WEBHOOK = """mutation($id: ID!) {
  sendTestWebhook(input: {id: $id}) { webhookDelivery { id } userErrors { code } } }"""
# A workspace holds at most 20 endpoints: fresh ones beyond this many are recycled, oldest first.
KEEP_FRESH_ENDPOINTS = 10


@dataclass
class World:
    api: Api
    owner: Account
    admin: Account
    member: Account
    project_id: str
    api_key_id: str
    api_key_secret: str
    token_id: str
    token_secret: str
    existing: dict[str, str] = field(default_factory=dict)
    fresh_endpoints: list[str] = field(default_factory=list)

    @property
    def workspace_pk(self) -> int:
        parsed = from_global_id(self.owner.workspace_id)
        assert parsed is not None
        return parsed[1]

    async def fresh(self, type_name: str) -> str:
        """A new object of `type_name` in this workspace (for calls that change or destroy it)."""
        owner = self.owner.session
        if type_name == "Project":
            return await self.api.create_project(owner, f"project-{next(_names)}")
        if type_name == "ApiKey":
            return (await self.api.create_api_key(owner, self.project_id, f"key-{next(_names)}"))[0]
        if type_name == "ManagementToken":
            # Not "token-N": Api.create_token names its tokens so, from a counter of its own.
            return (await self.api.create_token(self.owner, ["VIEW_PROJECTS"], f"fresh-token-{next(_names)}"))[0]
        if type_name == "StaleTokenReport":
            return await insert_stale_report(self.workspace_pk)
        if type_name == "AuditEvent":
            await self.api.create_project(owner, f"project-{next(_names)}")
            data = await self.api.ok(AUDIT_IDS, token=owner)
            return data["auditEvents"]["edges"][0]["node"]["id"]
        if type_name == "Workspace":
            return self.owner.workspace_id
        if type_name == "WebhookEndpoint":
            return await self._fresh_endpoint()
        if type_name == "Member":
            person = await self.api.add_member(self.owner, "MEMBER")
            row = await models.Membership.get(workspace_id=self.workspace_pk, user__email=person.email)
            return to_global_id("Member", row.id)
        if type_name == "Invitation":
            data = await self.api.ok(INVITE, {"email": f"invited-{next(_names)}@example.com"}, self.owner.session)
            return data["inviteMember"]["invitation"]["id"]
        if type_name == "WebhookDelivery":
            endpoint_id = await self.one("WebhookEndpoint")
            data = await self.api.ok(SEND_TEST_WEBHOOK, {"id": endpoint_id}, owner)
            return data["sendTestWebhook"]["webhookDelivery"]["id"]
        raise AssertionError(
            f"tests/support/populated_workspace.py has no factory for the node type {type_name}: add one"
        )

    async def _fresh_endpoint(self) -> str:
        """An endpoint to a name that never resolves (nothing is ever sent); old fresh ones are deleted."""
        while len(self.fresh_endpoints) >= KEEP_FRESH_ENDPOINTS:
            victim = self.fresh_endpoints.pop(0)  # may be gone already (a test deleted it)
            await self.api.gql(DELETE_WEBHOOK_ENDPOINT, {"id": victim}, self.owner.session)
        events = ["MANAGEMENT_TOKEN_REVOKED", "API_KEY_CREATED"]
        url = f"https://hooks.invalid/{next(_names)}"
        data = await self.api.ok(CREATE_WEBHOOK_ENDPOINT, {"input": {"url": url, "events": events}}, self.owner.session)
        endpoint_id = data["createWebhookEndpoint"]["webhookEndpoint"]["id"]
        self.fresh_endpoints.append(endpoint_id)
        return endpoint_id

    async def one(self, type_name: str) -> str:
        """An existing object of `type_name` (made once)."""
        if type_name not in self.existing:
            self.existing[type_name] = await self.fresh(type_name)
            if self.existing[type_name] in self.fresh_endpoints:  # kept: never recycled
                self.fresh_endpoints.remove(self.existing[type_name])
        return self.existing[type_name]


async def insert_stale_report(workspace_pk: int) -> str:
    report = await models.StaleTokenReport.create(
        workspace_id=workspace_pk,
        generated_at=datetime.now(UTC),
        stale_after_days=90,
        sweep_id=uuid.uuid4().hex,
    )
    return to_global_id("StaleTokenReport", report.id)


async def build_world(api: Api, workspace: str = "Acme") -> World:
    owner = await api.sign_up(workspace=workspace)
    admin = await api.add_member(owner, "ADMIN")
    member = await api.add_member(owner, "MEMBER")
    # The MEMBER is the OWNER of a workspace of their own: the role there must never leak into this one.
    await api.ok(CREATE_WORKSPACE, {"name": f"{workspace} member's own"}, member.session)
    project_id = await api.create_project(owner.session, f"{workspace} website")
    key_id, key_secret = await api.create_api_key(owner.session, project_id, f"{workspace} server")
    token_id, token_secret = await api.create_token(owner, ["VIEW_PROJECTS", "VIEW_API_KEYS"], f"{workspace} ci")
    world = World(api, owner, admin, member, project_id, key_id, key_secret, token_id, token_secret)
    world.existing.update({"Project": project_id, "ApiKey": key_id, "ManagementToken": token_id})
    return world
