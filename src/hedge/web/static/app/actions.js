// Actions: the queue by status with each error message; retry a FAILED one, cancel a PENDING one.
import { useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { shortId, time } from "./format.js";
import { ACTION, optimistic, rows, useStore } from "./store.js";
import { Empty, Field, Refusal, Status, accountName, userName } from "./ui.js";

const UPDATE = `mutation($i: UpdateActionInput!) { updateAction(input: $i) { ${ACTION} } }`;
const STATUSES = ["PENDING", "EXECUTING", "EXECUTED", "FAILED", "CANCELED"];

function moveAction(action, status) {
  return optimistic("actions", action.id, { status }, async () => {
    const data = await gql(UPDATE, { i: { id: action.id, expectedVersion: action.version, status } });
    return data.updateAction;
  });
}

export function Actions() {
  useStore();
  const [status, setStatus] = useState("");
  const order = (a) => STATUSES.indexOf(a.status);
  const shown = rows("actions")
    .filter((a) => !status || a.status === status)
    .sort((a, b) => order(a) - order(b) || (a.updatedAt < b.updatedAt ? 1 : -1));
  return html`<section>
    <h1>${t("Actions")}</h1>
    <fieldset class="filters"><legend>${t("filters")}</legend>
      <${Field} label=${t("status")}><select value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">${t("all")}</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
    </fieldset>
    <table aria-label=${t("Actions")}>
      <thead><tr><th>${t("id")}</th><th>${t("user")}</th><th>${t("account")}</th><th>${t("type")}</th><th>${t("status")}</th>
        <th>${t("position")}</th><th>${t("triggerPosition")}</th><th>${t("error")}</th><th>${t("retries")}</th>
        <th>${t("updated")}</th><th>${t("operations")}</th></tr></thead>
      <tbody>${shown.length ? shown.map((a) => html`<tr key=${a.id} data-id=${a.id} aria-busy=${a._pending ? "true" : "false"}>
        <td>${shortId(a.id)}</td><td>${userName(a.userId)}</td><td>${accountName(a.accountId)}</td><td>${a.type}</td>
        <td><${Status} value=${a.status} pending=${a._pending} /><${Refusal} entity="actions" row=${a} /></td>
        <td>${shortId(a.positionId)}</td><td>${shortId(a.triggerPositionId)}</td>
        <td class="error">${a.errorMessage || ""}</td><td class="num">${a.retryCount}</td><td>${time(a.updatedAt)}</td>
        <td><div class="buttons">
          ${a.status === "FAILED" && html`<button type="button" disabled=${a._pending} onClick=${() => moveAction(a, "PENDING")}>${t("retry")}</button>`}
          ${a.status === "PENDING" && html`<button type="button" disabled=${a._pending} onClick=${() => moveAction(a, "CANCELED")}>${t("cancel")}</button>`}
        </div></td></tr>`) : html`<${Empty} columns="11" />`}</tbody>
    </table>
  </section>`;
}
