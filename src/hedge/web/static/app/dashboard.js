// Dashboard: every account's money and connections, totals, net exposure per symbol, active
// trails, executing actions, open alerts, and each account's equity over time.
import { html } from "./html.js";
import { t } from "./i18n.js";
import { lots, money, percent, pips, shortId, time } from "./format.js";
import { rows, state, useStore } from "./store.js";
import { Empty, Status, accountName, userName } from "./ui.js";
import { EquityChart } from "./equity-chart.js";
import { OpenPositions } from "./open-positions.js";

function floating(a) {
  return a.equity === null || a.balance === null ? null : a.equity - a.balance;
}

function totals(accounts) {
  const by = new Map();
  for (const a of accounts) {
    const tot = by.get(a.currency) || { balance: 0, credit: 0, equity: 0, floating: 0 };
    tot.balance += a.balance || 0;
    tot.credit += a.credit || 0;
    tot.equity += a.equity || 0;
    tot.floating += floating(a) || 0;
    by.set(a.currency, tot);
  }
  return [...by.entries()];
}

function exposure(positions) {
  const by = new Map();
  for (const p of positions) {
    if (p.status !== "OPEN" && p.status !== "CLOSING") continue;
    by.set(p.symbol, (by.get(p.symbol) || 0) + (p.side === "BUY" ? 1 : -1) * p.volume);
  }
  return [...by.entries()].sort();
}

export function Dashboard() {
  useStore();
  const accounts = rows("accounts").sort((a, b) => (a.displayName < b.displayName ? -1 : 1));
  const positions = rows("positions");
  const trails = positions.filter((p) => p.status === "OPEN" && p.trailWidth !== null && !p.trailTriggeredAt);
  const executing = rows("actions").filter((a) => a.status === "EXECUTING");
  const alerts = rows("alerts").filter((a) => !a.resolvedAt);
  return html`<section>
    <h1>${t("Dashboard")}</h1>
    <p class="help">${t("pricesLocal")}</p>
    <table aria-label=${t("Dashboard")}>
      <thead><tr><th>${t("account")}</th><th>${t("owner")}</th><th>${t("balance")}</th><th>${t("credit")}</th>
        <th>${t("equity")}</th><th>${t("marginLevel")}</th><th>${t("floatingPL")}</th><th>${t("connection")}</th>
        <th>${t("pcStatus")}</th><th>${t("lastSync")}</th></tr></thead>
      <tbody>${accounts.length ? accounts.map((a) => html`<tr key=${a.id} data-id=${a.id}>
        <td>${accountName(a.id)}</td><td>${userName(a.userId)}</td>
        <td class="num">${money(a.balance, a.currency)}</td><td class="num">${money(a.credit, a.currency)}</td>
        <td class="num">${money(a.equity, a.currency)}</td><td class="num">${percent(a.marginLevel)}</td>
        <td class="num">${money(floating(a), a.currency)}</td>
        <td><${Status} value=${a.connectionStatus} /></td>
        <td><${Status} value=${state.users.get(a.userId)?.pcStatus || "—"} /></td>
        <td>${time(a.lastSyncedAt)}</td></tr>`) : html`<${Empty} columns="10" />`}</tbody>
      <tfoot>${totals(accounts).map(([currency, tot]) => html`<tr>
        <th scope="row">${t("totals")} ${currency}</th><td></td><td class="num">${money(tot.balance, currency)}</td>
        <td class="num">${money(tot.credit, currency)}</td><td class="num">${money(tot.equity, currency)}</td><td></td>
        <td class="num">${money(tot.floating, currency)}</td><td colspan="3"></td></tr>`)}</tfoot>
    </table>
    <div class="cards">
      <section aria-label=${t("netExposure")}><h2>${t("netExposure")}</h2>
        <table aria-label=${t("netExposure")}><tbody>${exposure(positions).map(([symbol, net]) =>
          html`<tr><th scope="row">${symbol}</th><td class="num">${lots(net)} ${t("lots")}</td></tr>`)}</tbody></table></section>
      <section aria-label=${t("activeTrails")}><h2>${t("activeTrails")} (${trails.length})</h2>
        <ul>${trails.map((p) => html`<li>${shortId(p.id)} ${p.symbol} ${p.side} ${pips(p.trailWidth)} · ${accountName(p.accountId)}</li>`)}</ul></section>
      <section aria-label=${t("executingActions")}><h2>${t("executingActions")} (${executing.length})</h2>
        <ul>${executing.map((a) => html`<li>${shortId(a.id)} ${a.type} · ${accountName(a.accountId)} · ${time(a.updatedAt)}</li>`)}</ul></section>
      ${state.has.query.has("listAlerts") && html`<section aria-label=${t("openAlerts")}><h2>${t("openAlerts")} (${alerts.length})</h2>
        <ul>${alerts.slice(0, 10).map((a) => html`<li><${Status} value=${a.severity} /> ${a.message}</li>`)}</ul></section>`}
    </div>
    <${OpenPositions} />
    <${EquityChart} />
  </section>`;
}
