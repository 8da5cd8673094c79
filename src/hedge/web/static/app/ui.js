// Small shared pieces: status badges, labelled fields, the refusal note of a row.
import { html } from "./html.js";
import { t } from "./i18n.js";
import { dismissRefusal, state } from "./store.js";

export function Status({ value, pending }) {
  return html`<span class=${`status s-${String(value).toLowerCase()}${pending ? " pending" : ""}`}>
    ${value}${pending ? html` <em>(${t("pending")})</em>` : ""}</span>`;
}

export function Refusal({ entity, row }) {
  if (!row._refusal) return null;
  return html`<div role="alert" class="refusal">${t("refused")}: ${row._refusal}
    <button type="button" onClick=${() => dismissRefusal(entity, row.id)}>${t("dismiss")}</button></div>`;
}

// A label wrapping its control names it (no ids to keep unique).
export function Field({ label, children, help }) {
  return html`<div class="field"><label><span>${label}</span>${children}</label>${help ? html`<small>${help}</small>` : ""}</div>`;
}

export function userName(id) {
  const user = state.users.get(id);
  return user ? user.name : id ? id.slice(0, 8) : "—";
}

export function accountName(id) {
  const account = state.accounts.get(id);
  return account ? `${account.displayName} (${account.accountNumber})` : id ? id.slice(0, 8) : "—";
}

export function Empty({ columns }) {
  return html`<tr><td colspan=${columns}>${t("noRows")}</td></tr>`;
}
