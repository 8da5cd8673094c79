"""The agent's own page for the person at the trading PC: GET / on the EA port, from this PC only.

It shows what /healthz says (server link, role, connected EAs, OPEN positions with their current
price and unrealized P/L, orders waiting for a terminal's word), read again twice a second: the
prices live here, on this PC, and the EA port has no push channel for a browser (its WebSocket is
the EA protocol's), so a local read of /healthz is the cheapest honest way to show them.
"""

from __future__ import annotations

PAGE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hedge System agent</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; color: #111827; }
table { border-collapse: collapse; margin-bottom: 1rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 0.2rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #b91c1c; font-weight: 600; } .good { color: #15803d; font-weight: 600; }
</style>
</head>
<body>
<h1>Hedge System agent</h1>
<p>Server link: <span id="link" role="status">…</span> · role: <span id="role">…</span>
 · updated <time id="at">—</time></p>
<h2>Connected EAs</h2>
<table aria-label="Connected EAs"><thead><tr><th>Account</th><th>Server</th></tr></thead>
<tbody id="eas"></tbody></table>
<h2>Open positions</h2>
<table aria-label="Open positions"><thead><tr><th>Position</th><th>Symbol</th><th>Side</th>
<th>Volume</th><th>Entry</th><th>Current</th><th>Unrealized P/L</th></tr></thead>
<tbody id="positions"></tbody></table>
<h2>Waiting for a terminal's word</h2>
<table aria-label="Orders"><thead><tr><th>Position</th><th>State</th><th>Command</th><th>Failure</th></tr>
</thead><tbody id="orders"></tbody></table>
<script src="/page.js"></script>
</body>
</html>
"""

PAGE_JS = """
"use strict";
function cells(values) {
  const tr = document.createElement("tr");
  for (const [value, num] of values) {
    const td = document.createElement("td");
    td.textContent = value === null || value === undefined ? "—" : String(value);
    if (num) td.className = "num";
    tr.appendChild(td);
  }
  return tr;
}
function fill(id, rows) {
  const body = document.getElementById(id);
  body.replaceChildren(...(rows.length ? rows : [cells([["none"]])]));
}
async function refresh() {
  try {
    const h = await (await fetch("/healthz", { cache: "no-store" })).json();
    const link = document.getElementById("link");
    link.textContent = h.serverConnected ? "connected" : "NOT CONNECTED";
    link.className = h.serverConnected ? "good" : "bad";
    document.getElementById("role").textContent = h.role || "—";
    document.getElementById("at").textContent = new Date().toLocaleTimeString();
    fill("eas", (h.accounts || []).map((a) => cells([[a.accountNumber], [a.serverName]])));
    fill("positions", (h.openPositions || []).map((p) => cells([[p.positionId], [p.symbol], [p.side],
      [p.volume, true], [p.entryPrice, true], [p.currentPrice, true],
      [p.unrealizedPL === null ? null : `${p.unrealizedPL} ${p.quoteCurrency || ""}`, true]])));
    fill("orders", (h.orders || []).map((o) => cells([[o.positionId], [o.state], [o.command], [o.failure]])));
  } catch (e) {
    const link = document.getElementById("link");
    link.textContent = "agent not answering";
    link.className = "bad";
  }
}
refresh();
setInterval(refresh, 500);
"""
