// People: the members (everyone sees the list; admins change roles and remove, with confirmations),
// invitations (admins invite, copy the link once, revoke), and leaving the workspace.

import { gql, session } from "../api.js";
import { confirmDialog, copyOnceDialog, formDialog, openDialog, submitMutation } from "../dialogs.js";
import { field, h, timeCell } from "../dom.js";
import { optionsMenu } from "../menu.js";
import {
  CHANGE_MEMBER_ROLE, INVITATIONS, INVITE_MEMBER, LEAVE_WORKSPACE, MEMBERS, REMOVE_MEMBER, REVOKE_INVITATION,
} from "../queries.js";
import { pagedList, section, table } from "./common.js";

const ROLES = ["MEMBER", "ADMIN", "OWNER"];

/** The roles this viewer may hand out or change: only an OWNER touches the OWNER role. */
function assignableRoles(ctx) {
  return ctx.viewer.role === "OWNER" ? ROLES : ROLES.filter((role) => role !== "OWNER");
}

export function renderPeople(main, ctx, { onSignedOut }) {
  main.append(h("header", { class: "page-header" },
    h("h1", {}, "People"),
    h("p", { class: "muted" }, ctx.viewer.workspace.name)));
  const invitations = ctx.isAdmin ? renderInvitationsSection(main, ctx) : null;
  const members = renderMembersSection(main, ctx, { onSignedOut });
  if (invitations) invitations.onAccepted = () => members.reload();
}

function renderMembersSection(container, ctx, { onSignedOut }) {
  const leave = h("button", { type: "button", class: "button secondary" }, "Leave workspace");
  const { el, body, errors } = section("Members", {
    id: "members",
    actions: [leave],
    description: ctx.isAdmin
      ? "Owners and admins manage tokens, settings and people; members view projects and API keys. " +
        "Only an owner changes or removes an owner."
      : "The people of this workspace. Owners and admins manage them.",
  });
  container.append(el);

  async function reload() {
    await pagedList(body, errors, {
      load: async (page) => (await gql(MEMBERS, page)).members,
      render: (people) => table("Members", ["Email", "Role", "Joined", "Last seen", ""],
        people.map((person) => memberRow(person, ctx, { reload, onSignedOut }))),
    });
  }
  leave.addEventListener("click", () => leaveDialog(ctx, onSignedOut));
  reload();
  return { reload };
}

function mayManage(ctx, person) {
  if (!ctx.isAdmin) return false;
  return person.role !== "OWNER" || ctx.viewer.role === "OWNER";
}

function memberRow(person, ctx, actions) {
  const you = person.email === ctx.viewer.email;
  const items = mayManage(ctx, person) ? [
    { label: "Change role", onSelect: () => changeRoleDialog(person, ctx, actions) },
    { label: "Remove", danger: true, onSelect: () => removeDialog(person, actions) },
  ] : [];
  return h("tr", { dataset: { memberId: person.id } },
    h("th", { scope: "row" }, person.email, you ? h("span", { class: "badge" }, "You") : null),
    h("td", { class: "role" }, h("span", { class: "badge role" }, person.role)),
    h("td", {}, timeCell(person.joinedAt, { relativeText: false })),
    h("td", {}, timeCell(person.lastSeenAt)),
    h("td", { class: "row-actions" }, items.length ? optionsMenu(`Options for ${person.email}`, items) : null));
}

function changeRoleDialog(person, ctx, { reload, onSignedOut }) {
  const role = h("select", { name: "role" }, assignableRoles(ctx).map((value) =>
    h("option", { value, selected: value === person.role }, value)));
  formDialog({
    title: "Change role",
    submitLabel: "Change role",
    fields: [
      h("p", {}, "Change the role of ", h("strong", {}, person.email), ". A lower role ends their sessions in " +
        "this workspace at once."),
      field("Role", role),
    ],
    onSubmit: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(CHANGE_MEMBER_ROLE, { input: { id: person.id, role: role.value } })).changeMemberRole);
      if (!payload) return false;
      if (person.email === ctx.viewer.email && payload.member.role !== person.role) {
        session.clear();
        onSignedOut(`Your role is now ${payload.member.role}.`);
        return true;
      }
      reload();
      return true;
    },
  });
}

function removeDialog(person, { reload }) {
  confirmDialog({
    title: "Remove member",
    confirmLabel: "Remove",
    message: [
      h("p", {}, "Remove ", h("strong", { class: "member-email" }, person.email), " from this workspace?"),
      h("p", {}, "Their sessions in this workspace end at once. Management tokens they created keep working: " +
        "revoke them separately if needed."),
    ],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(REMOVE_MEMBER, { input: { id: person.id } })).removeMember);
      if (!payload) return false;
      reload();
      return true;
    },
  });
}

function leaveDialog(ctx, onSignedOut) {
  confirmDialog({
    title: "Leave workspace",
    confirmLabel: "Leave workspace",
    message: [
      h("p", {}, "Leave ", h("strong", {}, ctx.viewer.workspace.name), "? You will need a new invitation to " +
        "come back."),
    ],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () => (await gql(LEAVE_WORKSPACE)).leaveWorkspace);
      if (!payload) return false;
      session.clear();
      onSignedOut(`You left ${ctx.viewer.workspace.name}.`);
      return true;
    },
  });
}

function renderInvitationsSection(container, ctx) {
  const invite = h("button", { type: "button", class: "button primary" }, "+ Invite member");
  const { el, body, errors } = section("Invitations", {
    id: "invitations",
    actions: [invite],
    description: "An invitation link works once and expires after a week. The person sets their own password.",
  });
  container.append(el);
  const handle = { onAccepted: null, reload };

  async function reload() {
    await pagedList(body, errors, {
      load: async (page) => (await gql(INVITATIONS, page)).invitations,
      render: (items) => table("Invitations", ["Email", "Role", "Status", "Invited by", "Expires", ""],
        items.map((item) => invitationRow(item, { reload })),
        { empty: "No invitations yet." }),
    });
  }
  invite.addEventListener("click", () => inviteDialog(ctx, { reload }));
  reload();
  return handle;
}

function invitationRow(item, actions) {
  const pending = item.status === "PENDING";
  const items = pending ? [{ label: "Revoke", danger: true, onSelect: () => revokeDialog(item, actions) }] : [];
  return h("tr", { dataset: { invitationId: item.id } },
    h("th", { scope: "row" }, item.email),
    h("td", {}, h("span", { class: "badge role" }, item.role)),
    h("td", { class: "status" }, h("span", { class: `badge ${pending ? "active" : "revoked"}` },
      item.status[0] + item.status.slice(1).toLowerCase())),
    h("td", {}, item.invitedBy.label),
    h("td", {}, timeCell(item.expiresAt, { relativeText: false })),
    h("td", { class: "row-actions" }, items.length ? optionsMenu(`Options for ${item.email}`, items) : null));
}

function inviteDialog(ctx, { reload }) {
  const email = h("input", { name: "email", type: "email", autocomplete: "off" });
  const role = h("select", { name: "role" }, assignableRoles(ctx).map((value) => h("option", { value }, value)));
  formDialog({
    title: "Invite member",
    submitLabel: "Invite",
    fields: [field("Email", email), field("Role", role)],
    onSubmit: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(INVITE_MEMBER, { input: { email: email.value, role: role.value } })).inviteMember);
      if (!payload) return false;
      reload();
      if (payload.inviteUrl) {
        const url = payload.inviteUrl;
        payload.inviteUrl = null;
        copyOnceDialog({
          title: "Copy the invitation link",
          intro: h("p", {}, "Send this link to ", h("strong", {}, payload.invitation.email),
            " through a channel you trust. It works once, until ",
            timeCell(payload.invitation.expiresAt, { relativeText: false }), "."),
          label: "Invitation link",
          value: url,
          warning: "You cannot see this link again after closing this dialog: revoke the invitation and invite " +
            "again if it is lost.",
          doneLabel: "I have copied the link",
        });
      } else {
        const done = h("button", { type: "button", class: "button primary" }, "Done");
        const dialog = openDialog({ title: "Invitation sent", actions: [done], body: h("p", { role: "status" },
          "The invitation was mailed to ", h("strong", {}, payload.invitation.email),
          ". Only the person who receives it can accept it.") });
        done.addEventListener("click", () => dialog.close());
      }
      return true;
    },
  });
}

function revokeDialog(item, { reload }) {
  confirmDialog({
    title: "Revoke invitation",
    confirmLabel: "Revoke invitation",
    message: [h("p", {}, "The link sent to ", h("strong", {}, item.email), " stops working at once.")],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(REVOKE_INVITATION, { input: { id: item.id } })).revokeInvitation);
      if (!payload) return false;
      reload();
      return true;
    },
  });
}
