// One position up close: its trail (editable while PENDING or OPEN) and its timeline, every
// version of the row and who or what made it (positionHistory / changes, when the server has them).
import { useEffect, useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { pips, price, shortId, time } from "./format.js";
import { POSITION, state } from "./store.js";
import { Field, Refusal, Status, userName } from "./ui.js";
import { editTrail } from "./positions.js";

function TrailEditor({ position }) {
  const [width, setWidth] = useState(position.trailWidth ?? "");
  const [mode, setMode] = useState(position.trailMode);
  if (position.status !== "PENDING" && position.status !== "OPEN") return null;
  function submit(event) {
    event.preventDefault();
    editTrail(position, width === "" ? null : Number(width), mode);
  }
  return html`<form class="inline" onSubmit=${submit} aria-label=${t("trail")}>
    <${Field} label=${t("trail")}><input type="number" step="0.1" min="0" value=${width} onInput=${(e) => setWidth(e.target.value)} /><//>
    <${Field} label=${t("trailMode")}><select value=${mode} onChange=${(e) => setMode(e.target.value)}>
      <option value="FROM_ENTRY">${t("fromEntry")}</option><option value="TRAILING_STOP">${t("trailingStop")}</option></select><//>
    <button type="submit">${t("save")}</button>
  </form>`;
}

function useHistory(position) {
  const [history, setHistory] = useState(null);
  useEffect(() => {
    if (!state.has.query.has("positionHistory")) return;
    const changes = state.has.query.has("changes")
      ? `changes(positionId: $id) { entity id version at by source fields reason }` : "";
    gql(`query($id: ID!) { positionHistory(id: $id) { ${POSITION} } ${changes} }`, { id: position.id })
      .then((data) => setHistory(data))
      .catch((e) => setHistory({ error: e.message }));
  }, [position.id, position.version]);
  return history;
}

// the version in which the trail fired: the tick (its price and time) that met the rule
function firing(version, before) {
  if (!version.trailTriggeredAt || before?.trailTriggeredAt) return "";
  return html`${version.triggerReason} @ ${price(version.symbol, version.triggerPrice)} · ${time(version.trailTriggeredAt)}`;
}

export function Timeline({ position, onClose }) {
  const history = useHistory(position);
  const changeOf = (version) => (history?.changes || []).find((c) => c.entity === "Position" && c.version === version);
  return html`<section class="detail" aria-label=${`${t("timeline")} ${shortId(position.id)}`}>
    <h2>${t("position")} ${shortId(position.id)} <${Status} value=${position.status} pending=${position._pending} /></h2>
    <button type="button" onClick=${onClose}>${t("close")}</button>
    <${Refusal} entity="positions" row=${position} />
    <p>${position.symbol} ${position.side} · ${t("trail")}: ${pips(position.trailWidth)}
      ${position.trailTriggeredAt && html` · ${t("fired")} ${time(position.trailTriggeredAt)} @ ${price(position.symbol, position.triggerPrice)} (${position.triggerReason})`}</p>
    <${TrailEditor} key=${position.version} position=${position} />
    ${history?.error && html`<p role="alert">${history.error}</p>`}
    ${history?.positionHistory && html`<table aria-label=${t("timeline")}>
      <thead><tr><th>v</th><th>${t("updated")}</th><th>${t("status")}</th><th>${t("by")}</th><th>${t("changed")}</th>
        <th>${t("reason")}</th><th>${t("firedBy")}</th><th>${t("entry")}</th><th>${t("exit")}</th></tr></thead>
      <tbody>${history.positionHistory.map((v, i, all) => {
        const c = changeOf(v.version);
        return html`<tr><td>${v.version}</td><td>${time(v.updatedAt)}</td><td>${v.status}</td>
          <td>${c ? `${c.by ? userName(c.by) : ""} (${t(`source${c.source}`)})` : ""}</td>
          <td>${c ? c.fields.join(", ") : ""}</td><td>${c?.reason || ""}</td>
          <td>${firing(v, all[i - 1])}</td>
          <td>${price(v.symbol, v.entryPrice)}</td><td>${price(v.symbol, v.exitPrice)}</td></tr>`;
      })}</tbody></table>`}
  </section>`;
}
