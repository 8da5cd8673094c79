// Alerts: the manual-intervention queue (requiresAction) first, then by severity; acknowledge and
// resolve. A new CRITICAL alert shows on every page (CriticalBanner).
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { shortId, time } from "./format.js";
import { ALERT, optimistic, rows, state, useStore } from "./store.js";
import { Empty, Refusal, Status, accountName, userName } from "./ui.js";
import { Channels } from "./channels.js";

const RANK = { CRITICAL: 0, WARNING: 1, INFO: 2 };

function act(alert, verb, patch) {
  const field = verb === "acknowledge" ? "acknowledgeAlert" : "resolveAlert";
  const input = verb === "acknowledge" ? "AcknowledgeAlertInput" : "ResolveAlertInput";
  return optimistic("alerts", alert.id, patch, async () =>
    (await gql(`mutation($i: ${input}!) { ${field}(input: $i) { ${ALERT} } }`, { i: { id: alert.id } }))[field]);
}

export function CriticalBanner() {
  useStore();
  const critical = rows("alerts").filter((a) => a.severity === "CRITICAL" && !a.resolvedAt && !a.acknowledgedAt);
  if (!critical.length) return null;
  return html`<div role="alert" class="banner critical">
    <strong>${t("criticalAlert")}:</strong> ${critical[0].message}
    ${critical.length > 1 ? ` (+${critical.length - 1})` : ""} <a href="#/alerts">${t("Alerts")}</a>
  </div>`;
}

export function Alerts() {
  useStore();
  const now = new Date().toISOString();
  const shown = rows("alerts").sort((a, b) =>
    Number(Boolean(a.resolvedAt)) - Number(Boolean(b.resolvedAt))
    || Number(b.requiresAction) - Number(a.requiresAction)
    || RANK[a.severity] - RANK[b.severity]
    || (a.lastSeenAt < b.lastSeenAt ? 1 : -1));
  return html`<section>
    <h1>${t("Alerts")}</h1>
    <table aria-label=${t("Alerts")}>
      <thead><tr><th>${t("severity")}</th><th>${t("kind")}</th><th>${t("message")}</th><th>${t("user")}</th>
        <th>${t("account")}</th><th>${t("position")}</th><th>${t("count")}</th><th>${t("lastSeen")}</th>
        <th>${t("status")}</th><th>${t("operations")}</th></tr></thead>
      <tbody>${shown.length ? shown.map((a) => html`<tr key=${a.id} data-id=${a.id} class=${a.requiresAction ? "needs-person" : ""}
        aria-busy=${a._pending ? "true" : "false"}>
        <td><${Status} value=${a.severity} /></td>
        <td>${a.kind}${a.requiresAction ? html` <strong>${t("requiresAction")}</strong>` : ""}</td>
        <td>${a.message}<${Refusal} entity="alerts" row=${a} /></td>
        <td>${userName(a.userId)}</td><td>${accountName(a.accountId)}</td><td>${shortId(a.positionId)}</td>
        <td class="num">${a.count}</td><td>${time(a.lastSeenAt)}</td>
        <td>${a.resolvedAt ? html`${t("resolve")} ${time(a.resolvedAt)}` : a.acknowledgedAt ? html`${t("acknowledge")} ${time(a.acknowledgedAt)}` : t("open")}
          ${a._pending ? ` (${t("pending")})` : ""}</td>
        <td><div class="buttons">
          ${!a.acknowledgedAt && !a.resolvedAt && html`<button type="button" onClick=${() => act(a, "acknowledge", { acknowledgedAt: now, acknowledgedBy: state.me?.id })}>${t("acknowledge")}</button>`}
          ${!a.resolvedAt && html`<button type="button" onClick=${() => act(a, "resolve", { resolvedAt: now, resolvedBy: state.me?.id })}>${t("resolve")}</button>`}
        </div></td></tr>`) : html`<${Empty} columns="10" />`}</tbody>
    </table>
    <${Channels} />
  </section>`;
}
