// The Dashboard's OPEN positions with the figures their agents report every 30 s (price,
// unrealized P/L, distance to the trail's trigger), each with the time of the price it came from:
// they are never shown as if live (prices stay on the trading PCs; the agent's own page has ticks).
import { useEffect } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { lots, money, pips, price, shortId, time } from "./format.js";
import { notify, rows, state } from "./store.js";
import { Empty, accountName } from "./ui.js";

const POLL_MS = 10_000; // the agents report every 30 s: reading every 10 s shows a report within 10 s
const STALE_S = 75; // older than two and a half reports: the agent has stopped reporting

const READ = "{ listPositions(status: OPEN) { id figures { price unrealizedPL currency trailDistancePips at } } }";

export const hasFigures = () => state.has.mutation.has("reportPositionFigures");

async function readFigures() {
  const data = await gql(READ);
  state.figures = new Map(data.listPositions.filter((p) => p.figures).map((p) => [p.id, p.figures]));
  notify();
}

function usePolledFigures() {
  useEffect(() => {
    if (!hasFigures()) return undefined;
    const read = () => readFigures().catch((e) => console.warn("position figures:", e.message));
    read();
    const timer = setInterval(read, POLL_MS);
    return () => clearInterval(timer);
  }, []);
}

function AsOf({ at }) {
  if (!at) return html`<span>${t("notReported")}</span>`;
  const stale = (Date.now() - Date.parse(at)) / 1000 > STALE_S;
  const [before, after] = t("asOf", { t: "\u0000" }).split("\u0000"); // "as of {t}", "{t} 時点"
  return html`<span>${before}${time(at)}${after}${stale ? html` <strong>(${t("stale")})</strong>` : ""}</span>`;
}

export function OpenPositions() {
  usePolledFigures();
  if (!hasFigures()) return null;
  const open = rows("positions").filter((p) => p.status === "OPEN").sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  return html`<section aria-label=${t("openPositions")}>
    <h2>${t("openPositions")} (${open.length})</h2>
    <p class="help">${t("figuresHelp")}</p>
    <table aria-label=${t("openPositions")}>
      <thead><tr><th>${t("id")}</th><th>${t("account")}</th><th>${t("symbol")}</th><th>${t("side")}</th>
        <th>${t("volume")}</th><th>${t("entry")}</th><th>${t("price")}</th><th>${t("unrealizedPL")}</th>
        <th>${t("toTrigger")}</th><th>${t("reportedAt")}</th></tr></thead>
      <tbody>${open.length ? open.map((p) => {
        const f = state.figures.get(p.id) || {};
        return html`<tr key=${p.id} data-id=${p.id}>
          <td>${shortId(p.id)}</td><td>${accountName(p.accountId)}</td><td>${p.symbol}</td><td>${p.side}</td>
          <td class="num">${lots(p.volume)}</td><td class="num">${price(p.symbol, p.entryPrice)}</td>
          <td class="num">${price(p.symbol, f.price)}</td><td class="num">${money(f.unrealizedPL, f.currency)}</td>
          <td class="num">${pips(f.trailDistancePips)}</td><td><${AsOf} at=${f.at} /></td></tr>`;
      }) : html`<${Empty} columns="10" />`}</tbody>
    </table>
  </section>`;
}
