// Positions: filters, the hedge-plan form, the table with execute / close / cancel, and a
// position's timeline.
import { Component } from "preact";
import { useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { lots, pips, price, shortId, time, money } from "./format.js";
import { POSITION, optimistic, rows, state, useStore, view } from "./store.js";
import { Empty, Field, Refusal, Status, accountName, userName } from "./ui.js";
import { PlanForm } from "./plan-form.js";
import { Timeline } from "./timeline.js";

const UPDATE = `mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { ${POSITION} } }`;
const STATUSES = ["PENDING", "OPENING", "OPEN", "CLOSING", "CLOSED", "STOPPED", "CANCELED"];

export function move(position, status) {
  return optimistic("positions", position.id, { status }, async () => {
    const data = await gql(UPDATE, { i: { id: position.id, expectedVersion: position.version, status } });
    return data.updatePosition;
  });
}

export function editTrail(position, trailWidth, trailMode) {
  return optimistic("positions", position.id, { trailWidth, trailMode }, async () => {
    const data = await gql(UPDATE, {
      i: { id: position.id, expectedVersion: position.version, trailWidth, trailMode },
    });
    return data.updatePosition;
  });
}

function Buttons({ p }) {
  const busy = p._pending;
  return html`<div class="buttons">
    ${p.status === "PENDING" && html`<button type="button" disabled=${busy} onClick=${() => move(p, "OPENING")}>${t("execute")}</button>`}
    ${p.status === "OPEN" && html`<button type="button" disabled=${busy} onClick=${() => move(p, "CLOSING")}>${t("close")}</button>`}
    ${p.status === "PENDING" && html`<button type="button" disabled=${busy} onClick=${() => move(p, "CANCELED")}>${t("cancel")}</button>`}
  </div>`;
}

function trailText(p) {
  if (p.trailWidth === null || p.trailWidth === undefined) return t("noTrail");
  const mode = p.trailMode === "TRAILING_STOP" ? t("trailingStop") : t("fromEntry");
  return `${pips(p.trailWidth)} · ${mode}${p.trailTriggeredAt ? ` · ${t("fired")}` : ""}`;
}

function currency(p) {
  return state.accounts.get(p.accountId)?.currency;
}

// A row redraws only when its position (or the names it shows) changed: an event on one of 1,000
// positions then costs one row, not the table.
export class PositionRow extends Component {
  shouldComponentUpdate(next) {
    return next.p !== this.props.p || next.names !== this.props.names;
  }

  render({ p, onOpen }) {
    return positionRow(p, onOpen);
  }
}

function positionRow(p, onOpen) {
  return html`<tr data-id=${p.id} aria-busy=${p._pending ? "true" : "false"}>
    <td><button type="button" class="link" onClick=${() => onOpen(p.id)} aria-label=${`${t("timeline")} ${p.id}`}>${shortId(p.id)}</button></td>
    <td>${userName(p.userId)}</td>
    <td>${accountName(p.accountId)}</td>
    <td>${p.symbol}</td>
    <td>${p.side}</td>
    <td class="num">${lots(p.volume)}</td>
    <td><${Status} value=${p.status} pending=${p._pending} /><${Refusal} entity="positions" row=${p} /></td>
    <td>${trailText(p)}</td>
    <td>${p.triggerActionIds.length || ""}</td>
    <td class="num">${price(p.symbol, p.entryPrice)}</td>
    <td class="num">${price(p.symbol, p.exitPrice)}</td>
    <td class="num">${money(p.realizedPL, currency(p))}</td>
    <td>${time(p.updatedAt)}</td>
    <td><${Buttons} p=${p} /></td>
  </tr>`;
}

function Filters({ filter, setFilter }) {
  const set = (key) => (e) => setFilter({ ...filter, [key]: e.target.value });
  const symbols = [...new Set([...state.positions.values()].map((p) => p.symbol))].sort();
  return html`<fieldset class="filters"><legend>${t("filters")}</legend>
    <${Field} label=${t("user")}><select value=${filter.user} onChange=${set("user")}>
      <option value="">${t("all")}</option>
      ${[...state.users.values()].map((u) => html`<option value=${u.id}>${u.name}</option>`)}</select><//>
    <${Field} label=${t("account")}><select value=${filter.account} onChange=${set("account")}>
      <option value="">${t("all")}</option>
      ${[...state.accounts.values()].map((a) => html`<option value=${a.id}>${accountName(a.id)}</option>`)}</select><//>
    <${Field} label=${t("status")}><select value=${filter.status} onChange=${set("status")}>
      <option value="">${t("all")}</option>
      ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
    <${Field} label=${t("symbol")}><select value=${filter.symbol} onChange=${set("symbol")}>
      <option value="">${t("all")}</option>
      ${symbols.map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
  </fieldset>`;
}

// as positionPage orders them: createdAt, then id, newest first
function newestFirst(a, b) {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

export function Positions() {
  useStore();
  const [filter, setFilter] = useState({ user: "", account: "", status: "", symbol: "" });
  const [opened, setOpened] = useState(null);
  const shown = rows("positions")
    .filter((p) => (!filter.user || p.userId === filter.user) && (!filter.account || p.accountId === filter.account)
      && (!filter.status || p.status === filter.status) && (!filter.symbol || p.symbol === filter.symbol))
    .sort(newestFirst);
  // until every row is in, the server's count stands for the rows not read yet (no filter only)
  const filtered = filter.user || filter.account || filter.status || filter.symbol;
  const total = state.complete || filtered ? shown.length : Math.max(shown.length, state.positionTotal);
  const [paging, setPaging] = useState({ size: 100, page: 0 });
  const pages = Math.max(1, Math.ceil(total / paging.size));
  const page = Math.min(paging.page, pages - 1);
  const visible = shown.slice(page * paging.size, (page + 1) * paging.size);
  const detail = opened && view("positions", opened);
  return html`<section>
    <h1>${t("Positions")}</h1>
    <${PlanForm} />
    <${Filters} filter=${filter} setFilter=${setFilter} />
    ${detail && html`<${Timeline} position=${detail} onClose=${() => setOpened(null)} />`}
    <table class="big" aria-label=${t("Positions")} aria-busy=${state.complete ? "false" : "true"}>
      <thead><tr>
        <th>${t("id")}</th><th>${t("user")}</th><th>${t("account")}</th><th>${t("symbol")}</th><th>${t("side")}</th>
        <th>${t("volume")}</th><th>${t("status")}</th><th>${t("trail")}</th><th>${t("triggers")}</th>
        <th>${t("entry")}</th><th>${t("exit")}</th><th>${t("realizedPL")}</th><th>${t("updated")}</th><th>${t("operations")}</th>
      </tr></thead>
      <tbody>
        ${visible.length ? visible.map((p) => html`<${PositionRow} key=${p.id} p=${p} names=${state.names} onOpen=${setOpened} />`) : html`<${Empty} columns="14" />`}
      </tbody>
    </table>
    <${Pager} total=${total} size=${paging.size} page=${page} pages=${pages}
      onPage=${(n) => setPaging({ ...paging, page: n })} onSize=${(n) => setPaging({ size: n, page: 0 })} />
  </section>`;
}

// A page of rows at a time: a browser lays out 100 rows in a few milliseconds, 1,000 in a second
function Pager({ total, size, page, pages, onPage, onSize }) {
  const first = total ? page * size + 1 : 0;
  const last = Math.min(total, (page + 1) * size);
  return html`<nav class="pager" aria-label=${t("pages")}>
    <button type="button" disabled=${page === 0} onClick=${() => onPage(page - 1)}>${t("previous")}</button>
    <span role="status">${t("rowsOf", { first, last, total })}</span>
    <button type="button" disabled=${page >= pages - 1} onClick=${() => onPage(page + 1)}>${t("next")}</button>
    <${Field} label=${t("rowsPerPage")}><select value=${size} onChange=${(e) => onSize(Number(e.target.value))}>
      ${[50, 100, 250, 1000].map((n) => html`<option value=${n}>${n}</option>`)}</select><//>
  </nav>`;
}
