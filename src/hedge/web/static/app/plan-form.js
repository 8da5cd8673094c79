// The seed's whole hedge plan on one form: the entry (account, symbol, side, volume, trail) and
// the hedge legs its trigger opens on other accounts. One createHedgePlan when the server has it
// (all or nothing); otherwise the legs' ENTRY actions, the entry, then the link.
import { useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { shortId, spec } from "./format.js";
import { ACTION, POSITION, notice, state, upsert, useStore } from "./store.js";
import { Field, accountName } from "./ui.js";

const CREATE_ACTION = `mutation($i: CreateActionInput!) { createAction(input: $i) {
  action { ${ACTION} } position { ${POSITION} } } }`;
const UPDATE = `mutation($i: UpdatePositionInput!) { updatePosition(input: $i) { ${POSITION} } }`;
const CREATE_PLAN = `mutation($i: CreateHedgePlanInput!) { createHedgePlan(input: $i) {
  entryAction { ${ACTION} } entryPosition { ${POSITION} } hedgeActions { ${ACTION} } hedgePositions { ${POSITION} } } }`;

const opposite = (side) => (side === "BUY" ? "SELL" : "BUY");
const owner = (accountId) => state.accounts.get(accountId)?.userId;

function AccountSelect({ id, value, onChange }) {
  return html`<select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)} required>
    <option value="">—</option>
    ${[...state.accounts.values()].map((a) => html`<option value=${a.id}>${accountName(a.id)}</option>`)}
  </select>`;
}

async function createStepwise(entry, legs) {
  const created = [];
  try {
    const legActions = [];
    for (const leg of legs) {
      const data = await gql(CREATE_ACTION, { i: { type: "ENTRY", userId: owner(leg.accountId), accountId: leg.accountId,
        symbol: entry.symbol, side: leg.side, volume: leg.volume } });
      created.push(data.createAction.position);
      legActions.push(data.createAction.action);
    }
    const main = await gql(CREATE_ACTION, { i: { type: "ENTRY", ...entry } });
    created.push(main.createAction.position);
    let position = main.createAction.position;
    if (legActions.length) {
      const linked = await gql(UPDATE, { i: { id: position.id, expectedVersion: position.version,
        triggerActionIds: legActions.map((a) => a.id) } });
      position = linked.updatePosition;
    }
    return { position, actions: [...legActions, main.createAction.action], positions: created };
  } catch (error) {
    // not atomic without createHedgePlan: cancel what this attempt created, then report
    for (const p of created) {
      await gql(UPDATE, { i: { id: p.id, status: "CANCELED" } }).catch(() => {});
    }
    throw error;
  }
}

async function createAtomic(entry, legs) {
  const data = await gql(CREATE_PLAN, { i: { entry: { type: "ENTRY", ...entry },
    hedges: legs.map((l) => ({ accountId: l.accountId, symbol: entry.symbol, side: l.side, volume: l.volume })),
    clientRequestId: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}` } });
  const plan = data.createHedgePlan;
  return { position: plan.entryPosition, actions: [plan.entryAction, ...plan.hedgeActions],
    positions: [plan.entryPosition, ...plan.hedgePositions] };
}

export function PlanForm() {
  useStore();
  const [entry, setEntry] = useState({ accountId: "", symbol: "USDJPY", side: "BUY", volume: "0.1", trailWidth: "", trailMode: "FROM_ENTRY" });
  const [legs, setLegs] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const s = spec(entry.symbol);
  const set = (key) => (e) => setEntry({ ...entry, [key]: e.target.value });
  const setLeg = (i, key, value) => setLegs(legs.map((l, j) => (j === i ? { ...l, [key]: value } : l)));

  async function submit(event) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    const input = { accountId: entry.accountId, userId: owner(entry.accountId), symbol: entry.symbol.trim(),
      side: entry.side, volume: Number(entry.volume), trailMode: entry.trailMode,
      trailWidth: entry.trailWidth === "" ? null : Number(entry.trailWidth) };
    const legInputs = legs.map((l) => ({ accountId: l.accountId, side: l.side, volume: Number(l.volume) }));
    try {
      const made = state.has.mutation.has("createHedgePlan")
        ? await createAtomic(input, legInputs)
        : await createStepwise(input, legInputs);
      for (const a of made.actions) upsert("actions", a);
      for (const p of made.positions) upsert("positions", p);
      upsert("positions", made.position);
      notice(t("planSaved", { entry: shortId(made.position.id), n: legInputs.length }));
      setLegs([]);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  }

  return html`<form class="plan" onSubmit=${submit} aria-label=${t("newPlan")}>
    <h2>${t("newPlan")}</h2>
    <p class="help">${t("planHelp")}</p>
    <fieldset><legend>${t("entryPlan")}</legend>
      <${Field} label=${t("account")}><${AccountSelect} value=${entry.accountId} onChange=${(v) => setEntry({ ...entry, accountId: v })} /><//>
      <${Field} label=${t("symbol")}><input value=${entry.symbol} onInput=${set("symbol")} required list="symbols" /><//>
      <datalist id="symbols">${[...state.specs.keys()].map((k) => html`<option value=${k} />`)}</datalist>
      <${Field} label=${t("side")}><select value=${entry.side} onChange=${set("side")}><option>BUY</option><option>SELL</option></select><//>
      <${Field} label=${t("volume")}><input type="number" value=${entry.volume} onInput=${set("volume")}
        step=${s.volumeStep} min=${s.volumeMin} max=${s.volumeMax} required /><//>
      <${Field} label=${t("trail")}><input type="number" value=${entry.trailWidth} onInput=${set("trailWidth")} step="0.1" min="0" /><//>
      <${Field} label=${t("trailMode")}><select value=${entry.trailMode} onChange=${set("trailMode")}>
        <option value="FROM_ENTRY">${t("fromEntry")}</option><option value="TRAILING_STOP">${t("trailingStop")}</option></select><//>
    </fieldset>
    ${legs.map((leg, i) => html`<fieldset key=${i}><legend>${t("hedgeLeg")} ${i + 1}</legend>
      <${Field} label=${`${t("hedgeLeg")} ${i + 1} ${t("account")}`}><${AccountSelect} value=${leg.accountId} onChange=${(v) => setLeg(i, "accountId", v)} /><//>
      <${Field} label=${`${t("hedgeLeg")} ${i + 1} ${t("side")}`}><select value=${leg.side} onChange=${(e) => setLeg(i, "side", e.target.value)}>
        <option>BUY</option><option>SELL</option></select><//>
      <${Field} label=${`${t("hedgeLeg")} ${i + 1} ${t("volume")}`}><input type="number" value=${leg.volume}
        onInput=${(e) => setLeg(i, "volume", e.target.value)} step=${s.volumeStep} min=${s.volumeMin} max=${s.volumeMax} required /><//>
      <button type="button" onClick=${() => setLegs(legs.filter((_, j) => j !== i))}>${t("removeLeg")} ${i + 1}</button>
    </fieldset>`)}
    <div class="buttons">
      <button type="button" onClick=${() => setLegs([...legs, { accountId: "", side: opposite(entry.side), volume: entry.volume }])}>${t("addLeg")}</button>
      <button type="submit" disabled=${busy}>${t("savePlan")}</button>
    </div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </form>`;
}
