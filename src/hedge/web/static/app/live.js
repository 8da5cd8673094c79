// Live data: one subscription per entity over graphql-transport-ws, applied to the store; a lost
// connection shows a banner, and a reconnect re-reads everything the pages show.
import { connectLive, gql, subscribe } from "./gql.js";
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
let sessionCursor = null;

/** The feed head /session gave at sign-in (read before the rows): saves the first feedCursor read. */
export function takeSessionCursor(cursor) {
  sessionCursor = cursor || null;
}

/**
 * Whether the rows may be read before subscribing: every feed resumes from a cursor and the
 * session gave one read before the rows (what is committed meanwhile is replayed from it), so
 * the first read does not share the server with the socket's start.
 */
export function readsBeforeSubscribing() {
  return sessionCursor !== null && resumesAll();
}

async function headCursor() {
  const given = sessionCursor;
  sessionCursor = null; // once: a re-subscription later needs the head of its own time
  return given ?? (await gql("{ feedCursor }")).feedCursor;
}

// Subscriptions start before the rows are read, so nothing committed during the read is missed
// (rows carry versions: an event older than what was read is ignored). Where the server resumes
// a feed from a cursor (`after`), the feeds start exactly at the head read before them.
async function subscribeAll() {
  for (const stop of stops) stop();
  stops = [];
  const cursor = state.has.query.has("feedCursor") ? await headCursor() : null;
  for (const [field, fields, entity] of FEEDS) {
    if (!state.has.subscription.has(field)) continue;
    const resumes = cursor !== null && state.has.resumable.has(field);
    const query = resumes
      ? `subscription($after: String) { ${field}(after: $after) { ${fields} } }`
      : `subscription { ${field} { ${fields} } }`;
    stops.push(subscribe(query, resumes ? { after: cursor } : {}, (data) => upsert(entity, data[field]), onFeedError));
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
    await subscribeAll();
    await loadAll();
  }, 500);
}

// Every row feed resumes from the cursor read before it: the rows may then be read while the
// WebSocket is still connecting (what is committed meanwhile is replayed from the cursor).
function resumesAll() {
  if (!state.has.query.has("feedCursor")) return false;
  return FEEDS.every(([field]) => !state.has.subscription.has(field) || state.has.resumable.has(field));
}

async function rereadControls() {
  // onUpdateTradingControl has no cursor: what changed before it was subscribed is read again
  if (!state.has.query.has("tradingControls")) return;
  state.controls = (await gql(`{ tradingControls { ${CONTROL} } }`)).tradingControls;
  notify();
}

/**
 * Connect and subscribe; resolves once the rows may be read: at once when every feed resumes from
 * its cursor, else once the WebSocket is up.
 */
export function startLive() {
  const early = resumesAll();
  let first = true;
  let up;
  const connected = new Promise((resolve) => (up = resolve));
  connectLive({
    onConnected: async (wasRetry) => {
      state.connection = "live";
      notify();
      if (first) {
        first = false;
        up();
        if (early) rereadControls().catch((e) => console.warn("trading controls:", e.message));
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
  return subscribeAll().then(() => (early ? undefined : connected));
}
