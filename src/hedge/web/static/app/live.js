// Live data: one subscription per entity over graphql-transport-ws, applied to the store; a lost
// connection shows a banner, and a reconnect re-reads everything the pages show.
import { connectLive, subscribe } from "./gql.js";
import { t } from "./i18n.js";
import { ACCOUNT, ACTION, ALERT, CONTROL, POSITION, USER, loadAll, notice, notify, state, upsert } from "./store.js";

const FEEDS = [
  ["onCreatePosition", POSITION, "positions"],
  ["onUpdatePosition", POSITION, "positions"],
  ["onCreateAction", ACTION, "actions"],
  ["onUpdateAction", ACTION, "actions"],
  ["onUpdateAccount", ACCOUNT, "accounts"],
  ["onCreateAccount", ACCOUNT, "accounts"],
  ["onUpdateUser", USER, "users"],
  ["onCreateAlert", ALERT, "alerts"],
  ["onUpdateAlert", ALERT, "alerts"],
];

let stops = [];

function subscribeAll() {
  for (const stop of stops) stop();
  stops = [];
  for (const [field, fields, entity] of FEEDS) {
    if (!state.has.subscription.has(field)) continue;
    stops.push(
      subscribe(`subscription { ${field} { ${fields} } }`, {}, (data) => upsert(entity, data[field]), onFeedError),
    );
  }
  if (state.has.subscription.has("onUpdateTradingControl")) {
    stops.push(
      subscribe(`subscription { onUpdateTradingControl { ${CONTROL} } }`, {}, (data) => {
        const c = data.onUpdateTradingControl;
        state.controls = [...state.controls.filter((o) => !(o.scope === c.scope && o.targetId === c.targetId)), c];
        notify();
      }, onFeedError),
    );
  }
}

let resyncing = null;
function onFeedError(error) {
  // RESYNC_REQUIRED (or any refusal of a feed): read again and subscribe again, once at a time
  console.warn("live feed:", error.message);
  if (resyncing) return;
  resyncing = setTimeout(async () => {
    resyncing = null;
    await loadAll();
    subscribeAll();
  }, 500);
}

export function startLive() {
  let first = true;
  connectLive({
    onConnected: async (wasRetry) => {
      state.connection = "live";
      notify();
      if (first) {
        first = false;
        return;
      }
      if (wasRetry) {
        await loadAll();
        notice(t("reconnected"));
      }
    },
    onClosed: () => {
      state.connection = "lost";
      notify();
    },
  });
  subscribeAll();
}
