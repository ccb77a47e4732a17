// Every GraphQL document the console sends: the public API, nothing private.

const USER_ERRORS = "userErrors { field message code }";
const VIEWER = `viewer { kind role email permissions workspace { id name staleAfterDays autoRevokeStaleAfterDays
  maxTokenLifetimeDays } workspaces { id name } }`;

export const SIGN_UP = `mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { sessionToken ${USER_ERRORS} }
}`;

export const LOG_IN = `mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { sessionToken ${USER_ERRORS} }
}`;

export const LOG_OUT = `mutation LogOut { logOut { ok } }`;

export const VIEWER_QUERY = `query Viewer { ${VIEWER} }`;

const TOKEN = `id name keyPrefix permissions status createdAt lastUsedAt lastUsedIp revokedAt staleSince
  expiresAt allowedIps projects { id name }
  createdBy { kind label }
  replaces { id name keyPrefix } replacedBy { id name keyPrefix }`;

export const MANAGEMENT_TOKENS = `query ManagementTokens($first: Int, $after: String) {
  managementTokens(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${TOKEN} } }
  }
}`;

export const CREATE_MANAGEMENT_TOKEN = `mutation CreateManagementToken($input: CreateManagementTokenInput!) {
  createManagementToken(input: $input) { secret managementToken { id name keyPrefix } ${USER_ERRORS} }
}`;

export const ROTATE_MANAGEMENT_TOKEN = `mutation RotateManagementToken($input: RotateManagementTokenInput!) {
  rotateManagementToken(input: $input) { secret managementToken { id name keyPrefix } ${USER_ERRORS} }
}`;

export const UPDATE_MANAGEMENT_TOKEN = `mutation UpdateManagementToken($input: UpdateManagementTokenInput!) {
  updateManagementToken(input: $input) { managementToken { id name permissions allowedIps } ${USER_ERRORS} }
}`;

export const PROJECT_CHOICES = `query ProjectChoices { projects(first: 100) { edges { node { id name } } } }`;

export const REVOKE_MANAGEMENT_TOKEN = `mutation RevokeManagementToken($input: RevokeManagementTokenInput!) {
  revokeManagementToken(input: $input) { managementToken { id status revokedAt } ${USER_ERRORS} }
}`;

export const PROJECTS = `query Projects($first: Int, $after: String) {
  projects(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name description createdAt updatedAt } }
  }
}`;

export const PROJECT = `query Project($id: ID!) {
  node(id: $id) { ... on Project { id name description createdAt updatedAt } }
}`;

export const CREATE_PROJECT = `mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) { project { id name } ${USER_ERRORS} }
}`;

export const UPDATE_PROJECT = `mutation UpdateProject($input: UpdateProjectInput!) {
  updateProject(input: $input) { project { id name description } ${USER_ERRORS} }
}`;

export const DELETE_PROJECT = `mutation DeleteProject($input: DeleteInput!) {
  deleteProject(input: $input) { deletedId ${USER_ERRORS} }
}`;

export const API_KEYS = `query ApiKeys($projectId: ID, $first: Int, $after: String) {
  apiKeys(projectId: $projectId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name keyPrefix status expiresAt createdAt lastUsedAt createdBy { kind label } } }
  }
}`;

export const CREATE_API_KEY = `mutation CreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id name keyPrefix } ${USER_ERRORS} }
}`;

export const ROTATE_API_KEY = `mutation RotateApiKey($input: RotateApiKeyInput!) {
  rotateApiKey(input: $input) { secret apiKey { id name keyPrefix } ${USER_ERRORS} }
}`;

export const TOKEN_LIFETIME_POLICY = `query TokenLifetimePolicy { viewer { workspace { maxTokenLifetimeDays } } }`;

export const DELETE_API_KEY = `mutation DeleteApiKey($input: DeleteInput!) {
  deleteApiKey(input: $input) { deletedId ${USER_ERRORS} }
}`;

export const STALE_REPORT = `query StaleReport {
  staleTokenReports(first: 1) {
    totalCount
    edges { node { id generatedAt staleAfterDays entries {
      reason lastUsedAt idleDays autoRevoked token { id name keyPrefix status }
    } expiringApiKeys { expiresAt lastUsedAt apiKey { id name keyPrefix project { id name } } } } }
  }
}`;

export const UPDATE_WORKSPACE_SETTINGS = `mutation UpdateWorkspaceSettings($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) {
    workspace { id staleAfterDays autoRevokeStaleAfterDays maxTokenLifetimeDays } ${USER_ERRORS}
  }
}`;

export const SIGN_UP_OPEN = `query SignUpOpen { signUpOpen }`;

const MEMBER = "id email role joinedAt lastSeenAt";
const INVITATION = "id email role status createdAt expiresAt acceptedAt revokedAt invitedBy { kind label }";

export const MEMBERS = `query Members($first: Int, $after: String) {
  members(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${MEMBER} } }
  }
}`;

export const INVITATIONS = `query Invitations($first: Int, $after: String) {
  invitations(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${INVITATION} } }
  }
}`;

export const INVITE_MEMBER = `mutation InviteMember($input: InviteMemberInput!) {
  inviteMember(input: $input) { invitation { ${INVITATION} } inviteUrl ${USER_ERRORS} }
}`;

export const REVOKE_INVITATION = `mutation RevokeInvitation($input: DeleteInput!) {
  revokeInvitation(input: $input) { invitation { id status revokedAt } ${USER_ERRORS} }
}`;

export const ACCEPT_INVITATION = `mutation AcceptInvitation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { sessionToken ${USER_ERRORS} }
}`;

export const CHANGE_MEMBER_ROLE = `mutation ChangeMemberRole($input: ChangeMemberRoleInput!) {
  changeMemberRole(input: $input) { member { ${MEMBER} } ${USER_ERRORS} }
}`;

export const REMOVE_MEMBER = `mutation RemoveMember($input: DeleteInput!) {
  removeMember(input: $input) { deletedId ${USER_ERRORS} }
}`;

export const LEAVE_WORKSPACE = `mutation LeaveWorkspace { leaveWorkspace { deletedId ${USER_ERRORS} } }`;

export const CHANGE_PASSWORD = `mutation ChangePassword($input: ChangePasswordInput!) {
  changePassword(input: $input) { sessionToken ${USER_ERRORS} }
}`;

export const CREATE_WORKSPACE = `mutation CreateWorkspace($input: CreateWorkspaceInput!) {
  createWorkspace(input: $input) { sessionToken ${USER_ERRORS} }
}`;

export const SWITCH_WORKSPACE = `mutation SwitchWorkspace($input: SwitchWorkspaceInput!) {
  switchWorkspace(input: $input) { sessionToken ${USER_ERRORS} }
}`;

export const AUDIT_EVENTS = `query AuditEvents($first: Int, $after: String) {
  auditEvents(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id occurredAt action targetType targetId ipAddress actor { kind label } } }
  }
}`;

const WEBHOOK_ENDPOINT = "id url events description enabled createdAt disabledAt failingSince secretLeakedAt";
const WEBHOOK_DELIVERY = `id event eventId status createdAt attempts lastStatusCode lastError deliveredAt
  nextAttemptAt`;

export const WEBHOOK_ENDPOINTS = `query WebhookEndpoints($first: Int, $after: String) {
  webhookEndpoints(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${WEBHOOK_ENDPOINT} } }
  }
}`;

export const WEBHOOK_ENDPOINT_DELIVERIES = `query WebhookDeliveries($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on WebhookEndpoint { ${WEBHOOK_ENDPOINT}
    deliveries(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { ${WEBHOOK_DELIVERY} } }
    } } }
}`;

export const CREATE_WEBHOOK_ENDPOINT = `mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { signingSecret webhookEndpoint { ${WEBHOOK_ENDPOINT} } ${USER_ERRORS} }
}`;

export const UPDATE_WEBHOOK_ENDPOINT = `mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) { webhookEndpoint { ${WEBHOOK_ENDPOINT} } ${USER_ERRORS} }
}`;

export const DELETE_WEBHOOK_ENDPOINT = `mutation DeleteWebhookEndpoint($input: DeleteInput!) {
  deleteWebhookEndpoint(input: $input) { deletedId ${USER_ERRORS} }
}`;

export const ROLL_WEBHOOK_ENDPOINT_SECRET = `mutation RollWebhookEndpointSecret($input: RollWebhookEndpointSecretInput!) {
  rollWebhookEndpointSecret(input: $input) { signingSecret webhookEndpoint { ${WEBHOOK_ENDPOINT} } ${USER_ERRORS} }
}`;

export const SEND_TEST_WEBHOOK = `mutation SendTestWebhook($input: DeleteInput!) {
  sendTestWebhook(input: $input) { webhookDelivery { ${WEBHOOK_DELIVERY} } ${USER_ERRORS} }
}`;

export const REDELIVER_WEBHOOK = `mutation RedeliverWebhook($input: DeleteInput!) {
  redeliverWebhook(input: $input) { webhookDelivery { ${WEBHOOK_DELIVERY} } ${USER_ERRORS} }
}`;
