// Accounts: create and edit (display name, symbol map), EA connection, last snapshot time.
import { useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { money, time } from "./format.js";
import { ACCOUNT, isAdmin, optimistic, rows, state, upsert, useStore } from "./store.js";
import { Empty, Field, Refusal, Status, useForm, userName } from "./ui.js";

const mapText = (map) => (map || []).map((m) => `${m.brokerSymbol}=${m.symbol}`).join(", ");
function parseMap(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((pair) => {
    const [brokerSymbol, symbol] = pair.split("=").map((s) => (s || "").trim());
    return { brokerSymbol, symbol };
  });
}

function CreateAccount() {
  const empty = { userId: "", brokerType: "MT5", accountNumber: "", serverName: "", displayName: "", currency: "USD", leverage: "" };
  const { form, set, error, submit } = useForm(empty, async (fields) => {
    const i = { ...fields, leverage: fields.leverage === "" ? null : Number(fields.leverage) };
    const data = await gql(`mutation($i: CreateAccountInput!) { createAccount(input: $i) { ${ACCOUNT} } }`, { i });
    upsert("accounts", data.createAccount);
  });
  return html`<form onSubmit=${submit} aria-label=${t("createAccount")} class="inline">
    <${Field} label=${t("owner")}><select value=${form.userId} onChange=${set("userId")} required><option value="">—</option>
      ${[...state.users.values()].map((u) => html`<option value=${u.id}>${u.name}</option>`)}</select><//>
    <${Field} label=${t("broker")}><select value=${form.brokerType} onChange=${set("brokerType")}><option>MT5</option><option>MT4</option></select><//>
    <${Field} label=${t("accountNumber")}><input value=${form.accountNumber} onInput=${set("accountNumber")} required /><//>
    <${Field} label=${t("server")}><input value=${form.serverName} onInput=${set("serverName")} required /><//>
    <${Field} label=${t("displayName")}><input value=${form.displayName} onInput=${set("displayName")} required /><//>
    <${Field} label=${t("currency")}><input value=${form.currency} onInput=${set("currency")} size="4" /><//>
    <${Field} label=${t("leverage")}><input type="number" value=${form.leverage} onInput=${set("leverage")} min="1" /><//>
    <button type="submit">${t("createAccount")}</button>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </form>`;
}

function EditAccount({ account, onDone }) {
  const [name, setName] = useState(account.displayName);
  const [map, setMap] = useState(mapText(account.symbolMap));
  function submit(event) {
    event.preventDefault();
    const symbolMap = parseMap(map);
    optimistic("accounts", account.id, { displayName: name, symbolMap }, async () => (await gql(
      `mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { ${ACCOUNT} } }`,
      { i: { id: account.id, expectedVersion: account.version, displayName: name, symbolMap } })).updateAccount);
    onDone();
  }
  return html`<form onSubmit=${submit} class="inline" aria-label=${`${t("edit")} ${account.accountNumber}`}>
    <${Field} label=${t("displayName")}><input value=${name} onInput=${(e) => setName(e.target.value)} required /><//>
    <${Field} label=${t("symbolMap")} help=${t("symbolMapHelp")}><input value=${map} onInput=${(e) => setMap(e.target.value)} /><//>
    <button type="submit">${t("save")}</button><button type="button" onClick=${onDone}>${t("cancel")}</button>
  </form>`;
}

export function Accounts() {
  useStore();
  const [editing, setEditing] = useState(null);
  const accounts = rows("accounts").sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  return html`<section>
    <h1>${t("Accounts")}</h1>
    ${isAdmin() && html`<${CreateAccount} />`}
    <table aria-label=${t("Accounts")}>
      <thead><tr><th>${t("displayName")}</th><th>${t("accountNumber")}</th><th>${t("owner")}</th><th>${t("broker")}</th>
        <th>${t("server")}</th><th>${t("balance")}</th><th>${t("connection")}</th><th>${t("lastSync")}</th>
        <th>${t("symbolMap")}</th><th>${t("operations")}</th></tr></thead>
      <tbody>${accounts.length ? accounts.map((a) => html`<tr key=${a.id} data-id=${a.id} aria-busy=${a._pending ? "true" : "false"}>
        <td>${a.displayName}${a._pending ? ` (${t("pending")})` : ""}<${Refusal} entity="accounts" row=${a} /></td>
        <td>${a.accountNumber}</td><td>${userName(a.userId)}</td><td>${a.brokerType}</td><td>${a.serverName}</td>
        <td class="num">${money(a.balance, a.currency)}</td><td><${Status} value=${a.connectionStatus} /></td>
        <td>${time(a.lastSyncedAt)}</td><td>${mapText(a.symbolMap)}</td>
        <td>${editing === a.id ? html`<${EditAccount} account=${a} onDone=${() => setEditing(null)} />`
          : html`<button type="button" onClick=${() => setEditing(a.id)}>${t("edit")}</button>`}</td></tr>`)
        : html`<${Empty} columns="10" />`}</tbody>
    </table>
  </section>`;
}
