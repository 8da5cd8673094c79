// Trading controls (the kill switch): GLOBAL, per user, per account; HALTED needs a typed
// confirmation, since it stops every order, closes included.
import { useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { time } from "./format.js";
import { CONTROL, isAdmin, notice, notify, state, useStore } from "./store.js";
import { Empty, Field, Status, accountName, userName } from "./ui.js";

function targetName(c) {
  if (c.scope === "USER") return userName(c.targetId);
  if (c.scope === "ACCOUNT") return accountName(c.targetId);
  return "—";
}

export function Controls() {
  useStore();
  const [form, setForm] = useState({ scope: "GLOBAL", targetId: "", state: "ACTIVE", reason: "" });
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState(null);
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.value });
  async function submit(event) {
    event.preventDefault();
    setError(null);
    if (form.state === "HALTED" && confirm !== "HALT") {
      setError(t("confirmHalt"));
      return;
    }
    try {
      const i = { ...form, targetId: form.scope === "GLOBAL" ? null : form.targetId };
      const data = await gql(`mutation($i: SetTradingStateInput!) { setTradingState(input: $i) { ${CONTROL} } }`, { i });
      const c = data.setTradingState;
      state.controls = [...state.controls.filter((o) => !(o.scope === c.scope && o.targetId === c.targetId)), c];
      notify();
      notice(`${c.scope} ${targetName(c)}: ${c.state}`);
      setConfirm("");
    } catch (e) {
      setError(e.message);
    }
  }
  const targets = form.scope === "USER" ? [...state.users.values()].map((u) => [u.id, u.name])
    : form.scope === "ACCOUNT" ? [...state.accounts.values()].map((a) => [a.id, accountName(a.id)]) : [];
  return html`<section>
    <h1>${t("Controls")}</h1>
    ${isAdmin() && state.has.mutation.has("setTradingState") && html`<form onSubmit=${submit} class="inline" aria-label=${t("Controls")}>
      <${Field} label=${t("scope")}><select value=${form.scope} onChange=${set("scope")}><option>GLOBAL</option><option>USER</option><option>ACCOUNT</option></select><//>
      ${targets.length > 0 && html`<${Field} label=${t("target")}><select value=${form.targetId} onChange=${set("targetId")} required>
        <option value="">—</option>${targets.map(([id, name]) => html`<option value=${id}>${name}</option>`)}</select><//>`}
      <${Field} label=${t("state")}><select value=${form.state} onChange=${set("state")}><option>ACTIVE</option><option>REDUCING</option><option>HALTED</option></select><//>
      <${Field} label=${t("reason")}><input value=${form.reason} onInput=${set("reason")} required /><//>
      ${form.state === "HALTED" && html`<${Field} label=${t("confirmHalt")}><input value=${confirm} onInput=${(e) => setConfirm(e.target.value)} /><//>`}
      <button type="submit">${t("setState")}</button>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </form>`}
    <table aria-label=${t("Controls")}>
      <thead><tr><th>${t("scope")}</th><th>${t("target")}</th><th>${t("state")}</th><th>${t("reason")}</th><th>${t("updated")}</th></tr></thead>
      <tbody>${state.controls.length ? state.controls.map((c) => html`<tr><td>${c.scope}</td><td>${targetName(c)}</td>
        <td><${Status} value=${c.state} /></td><td>${c.reason || ""}</td><td>${time(c.updatedAt)}</td></tr>`) : html`<${Empty} columns="5" />`}</tbody>
    </table>
  </section>`;
}
