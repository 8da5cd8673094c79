// Hedges: each trigger chain as a picture, position A -> its actions -> the positions they open
// -> their own actions, with each leg's status, so an unpaired leg stands out.
import { html } from "./html.js";
import { t } from "./i18n.js";
import { lots, price, shortId } from "./format.js";
import { rows, state, useStore } from "./store.js";
import { Empty, Status, accountName } from "./ui.js";

const LIVE = new Set(["OPEN", "CLOSING"]);
const FAILED = new Set(["FAILED", "CANCELED"]);

/** Why a leg is unpaired: the trigger fired and the leg did not open, or one side is open alone. */
function unpaired(root, leg, action) {
  if (!root.trailTriggeredAt) return false;
  if (action && FAILED.has(action.status)) return true;
  if (!leg) return false;
  return LIVE.has(root.status) !== LIVE.has(leg.status) && !["PENDING", "OPENING"].includes(leg.status);
}

function Leg({ position, root, seen }) {
  if (!position || seen.has(position.id)) return null;
  seen.add(position.id);
  return html`<div class="leg">
    <span class="box"><strong>${shortId(position.id)}</strong> ${accountName(position.accountId)} · ${position.symbol}${" "}${position.side}${" "}${lots(position.volume)} @ ${price(position.symbol, position.entryPrice)}
      <${Status} value=${position.status} /></span>
    ${position.triggerActionIds.length > 0 && html`<ul>
      ${position.triggerActionIds.map((id) => {
        const action = state.actions.get(id);
        const leg = action && state.positions.get(action.positionId);
        const bad = unpaired(root || position, leg, action);
        return html`<li class=${bad ? "unpaired" : ""}>
          <span class="arrow" aria-hidden="true">→</span>
          <span class="box action">${action ? html`${action.type} <${Status} value=${action.status} />` : shortId(id)}
            ${bad && html` <strong class="flag">${t("unpaired")}</strong>`}
            ${action?.errorMessage && html` <span class="error">${action.errorMessage}</span>`}</span>
          ${leg && html`<span class="arrow" aria-hidden="true">→</span><${Leg} position=${leg} root=${position} seen=${seen} />`}
        </li>`;
      })}</ul>`}
  </div>`;
}

export function Hedges() {
  useStore();
  const legIds = new Set([...state.actions.values()].filter((a) => a.triggerPositionId).map((a) => a.positionId));
  const roots = rows("positions")
    .filter((p) => p.triggerActionIds.length > 0 && !legIds.has(p.id))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  return html`<section>
    <h1>${t("Hedges")}</h1>
    <table aria-label=${t("Hedges")}>
      <thead><tr><th>${t("position")}</th><th>${t("chain")}</th></tr></thead>
      <tbody>${roots.length ? roots.map((root) => html`<tr key=${root.id} data-id=${root.id}>
        <td>${shortId(root.id)}</td><td class="chain"><${Leg} position=${root} seen=${new Set()} /></td></tr>`)
        : html`<${Empty} columns="2" />`}</tbody>
    </table>
  </section>`;
}
