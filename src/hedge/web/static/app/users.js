// Users (clients): PC status live, create a user (its token shown once, with a copy button),
// rotate a token and deactivate, when the server has those mutations.
import { useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { time } from "./format.js";
import { USER, optimistic, rows, state, upsert, useStore } from "./store.js";
import { Empty, Field, Refusal, Status, useForm } from "./ui.js";

function TokenOnce({ token, onDone }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    await navigator.clipboard.writeText(token).catch(() => {});
    setCopied(true);
  }
  return html`<div role="dialog" aria-label=${t("tokenOnce")} class="token-once">
    <p>${t("tokenOnce")}</p>
    <code aria-label=${t("token")}>${token}</code>
    <button type="button" onClick=${copy}>${copied ? t("copied") : t("copy")}</button>
    <button type="button" onClick=${onDone}>${t("dismiss")}</button>
  </div>`;
}

function CreateUser({ onToken }) {
  const { form, set, error, submit } = useForm({ email: "", name: "", role: "CLIENT" }, async (i) => {
    const data = await gql(`mutation($i: CreateUserInput!) { createUser(input: $i) { user { ${USER} } token } }`, { i });
    upsert("users", data.createUser.user);
    onToken(data.createUser.token);
  });
  return html`<form onSubmit=${submit} aria-label=${t("createUser")} class="inline">
    <${Field} label=${t("email")}><input type="email" value=${form.email} onInput=${set("email")} required /><//>
    <${Field} label=${t("name")}><input value=${form.name} onInput=${set("name")} required /><//>
    <${Field} label=${t("role")}><select value=${form.role} onChange=${set("role")}><option>CLIENT</option><option>ADMIN</option></select><//>
    <button type="submit">${t("createUser")}</button>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </form>`;
}

export function Users() {
  useStore();
  const [token, setToken] = useState(null);
  const canUpdate = state.has.mutation.has("updateUser");
  const canRotate = state.has.mutation.has("rotateToken");
  function setActive(user, isActive) {
    optimistic("users", user.id, { isActive }, async () =>
      (await gql(`mutation($i: UpdateUserInput!) { updateUser(input: $i) { ${USER} } }`, { i: { id: user.id, isActive } })).updateUser);
  }
  async function rotate(user) {
    const answer = await optimistic("users", user.id, {}, async () => {
      const data = await gql(`mutation($id: ID!) { rotateToken(userId: $id) { user { ${USER} } token } }`, { id: user.id });
      setToken(data.rotateToken.token);
      return data.rotateToken.user;
    });
    return answer;
  }
  const users = rows("users").sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  return html`<section>
    <h1>${t("Users")}</h1>
    <${CreateUser} onToken=${setToken} />
    ${token && html`<${TokenOnce} token=${token} onDone=${() => setToken(null)} />`}
    <table aria-label=${t("Users")}>
      <thead><tr><th>${t("name")}</th><th>${t("email")}</th><th>${t("role")}</th><th>${t("pcStatus")}</th>
        <th>${t("active")}</th><th>${t("created")}</th><th>${t("operations")}</th></tr></thead>
      <tbody>${users.length ? users.map((u) => html`<tr key=${u.id} data-id=${u.id} aria-busy=${u._pending ? "true" : "false"}>
        <td>${u.name}</td><td>${u.email}</td><td>${u.role}</td><td><${Status} value=${u.pcStatus} /></td>
        <td>${u.isActive ? t("yes") : t("no")}${u._pending ? ` (${t("pending")})` : ""}<${Refusal} entity="users" row=${u} /></td>
        <td>${time(u.createdAt)}</td>
        <td><div class="buttons">
          ${canRotate && html`<button type="button" onClick=${() => rotate(u)}>${t("rotate")}</button>`}
          ${canUpdate && u.id !== state.me?.id && html`<button type="button" onClick=${() => setActive(u, !u.isActive)}>
            ${u.isActive ? t("deactivate") : t("activate")}</button>`}
        </div></td></tr>`) : html`<${Empty} columns="7" />`}</tbody>
    </table>
  </section>`;
}
