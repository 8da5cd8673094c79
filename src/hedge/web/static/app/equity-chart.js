// Each account's equity over time: the downsampled snapshots the server keeps (accountHistory:
// a point per 30 s for the last day, per 5 minutes before), then the agents' reports seen live
// since. uPlot is loaded when the chart is first drawn, not with the console.
import { useEffect, useRef, useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { timeText } from "./format.js";
import { state } from "./store.js";
import { accountName } from "./ui.js";

const BATCH = 20; // accounts per request (the API allows 30 aliases)
const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

/** {accountId: [[unix s, equity]]} from accountHistory, for every account, a day back. */
async function readHistory(accountIds) {
  const since = new Date(Date.now() - 86_400_000).toISOString();
  const found = new Map();
  for (let i = 0; i < accountIds.length; i += BATCH) {
    const ids = accountIds.slice(i, i + BATCH);
    const parts = ids.map((id, n) => `a${n}: accountHistory(accountId: ${JSON.stringify(id)}, since: $since) { at equity }`);
    const data = await gql(`query($since: DateTime) { ${parts.join(" ")} }`, { since });
    ids.forEach((id, n) => found.set(id, data[`a${n}`].filter((p) => p.equity !== null)
      .map((p) => [Date.parse(p.at) / 1000, p.equity])));
  }
  return found;
}

/** The history's points, then the live points after its last one. */
export function mergeSeries(history, live) {
  const last = history.length ? history[history.length - 1][0] : -Infinity;
  return [...history, ...live.filter(([at]) => at > last)];
}

function useHistory() {
  const [history, setHistory] = useState(null);
  const ids = [...state.accounts.keys()].sort().join(",");
  useEffect(() => {
    if (!state.has.query.has("accountHistory") || !ids) return;
    readHistory(ids.split(","))
      .then(setHistory)
      .catch((e) => {
        console.warn("accountHistory:", e.message);
        setHistory(new Map()); // draw the live points alone rather than wait forever
      });
  }, [ids]);
  const waiting = history === null && state.has.query.has("accountHistory") && ids !== "";
  return [history, waiting];
}

function plotData(series) {
  const xs = [...new Set(series.flatMap(([, points]) => points.map((p) => p[0])))].sort((a, b) => a - b);
  return [xs, ...series.map(([, points]) => {
    const at = new Map(points);
    return xs.map((x) => (at.has(x) ? at.get(x) : null));
  })];
}

export function EquityChart() {
  const ref = useRef(null);
  const [history, waiting] = useHistory();
  const ids = new Set([...(history?.keys() || []), ...state.equity.keys()]);
  const series = [...ids].map((id) => [id, mergeSeries(history?.get(id) || [], state.equity.get(id) || [])])
    .filter(([, points]) => points.length);
  const key = series.map(([id, p]) => `${id}:${p.length}:${p[p.length - 1][0]}`).join(",");
  useEffect(() => {
    if (!ref.current || !series.length) return undefined;
    let plot = null;
    let gone = false;
    import("uplot").then(({ default: uPlot }) => {
      if (gone || !ref.current) return;
      plot = new uPlot({
        width: Math.min(900, ref.current.clientWidth || 900), height: 220, spanGaps: true,
        axes: [{}, { size: 80 }],
        series: [{}, ...series.map(([id], i) => ({ label: accountName(id), stroke: COLOURS[i % COLOURS.length], width: 2 }))],
      }, plotData(series), ref.current);
    });
    return () => {
      gone = true;
      if (plot) plot.destroy();
    };
  }, [key]);
  const points = series.reduce((n, [, p]) => n + p.length, 0);
  const first = series.length ? Math.min(...series.map(([, p]) => p[0][0])) : null;
  return html`<figure class="chart" aria-busy=${waiting ? "true" : "false"}>
    <figcaption>${t("equityChart")}${first !== null && html` · ${t("pointsSince", { n: points, t: timeText(new Date(first * 1000).toISOString()) })}`}</figcaption>
    ${series.length ? html`<div ref=${ref} role="img" aria-label=${t("equityChart")}></div>` : html`<p>${t("noRows")}</p>`}
  </figure>`;
}
