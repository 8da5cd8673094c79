// Small shared pieces: status badges, labelled fields, the refusal note of a row.
import { cloneElement } from "preact";
import { useId, useState } from "preact/hooks";
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

// A label tied to its control by id, so the control's name is exactly the label's text.
export function Field({ label, children, help }) {
  const id = useId();
  const child = Array.isArray(children) ? children.find((c) => c && c.type) : children;
  return html`<div class="field"><label for=${id}>${label}</label>${cloneElement(child, { id })}
    ${help ? html`<small>${help}</small>` : ""}</div>`;
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

// A create form's state: its fields (`set(key)` is an input's handler), and `submit`, which sends
// the fields with `send`, empties the form when that succeeds and keeps the refusal's text in
// `error` when it fails.
export function useForm(empty, send) {
  const [form, setForm] = useState(empty);
  const [error, setError] = useState(null);
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.value });
  async function submit(event) {
    event.preventDefault();
    setError(null);
    try {
      await send(form);
      setForm(empty);
    } catch (e) {
      setError(e.message);
    }
  }
  return { form, set, error, submit };
}
