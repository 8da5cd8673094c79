// What the server said, in one place: rows by id (newer versions win), the pending optimistic
// changes on top of them, the refusals to show, and the connection state. Components read it
// through useStore() and re-render when it changes.
import { useEffect, useState } from "preact/hooks";
import { gql, gqlAnonymous } from "./gql.js";

export const state = {
  me: null,
  has: { query: new Set(), mutation: new Set(), subscription: new Set(), resumable: new Set() },
  users: new Map(),
  accounts: new Map(),
  positions: new Map(),
  actions: new Map(),
  alerts: new Map(),
  controls: [],
  specs: new Map(),
  pending: new Map(), // "positions:<id>" -> [{ticket, patch}]: the optimistic changes still awaiting an answer
  refusals: new Map(), // "positions:<id>" -> the server's message when it refused
  notices: [], // {id, text, kind}: messages not tied to one row (a failed form, a reconnect)
  equity: new Map(), // accountId -> [[unix s, equity]]
  figures: new Map(), // positionId -> the figures its agent last reported (open-positions.js)
  connection: "connecting", // "connecting" | "live" | "lost"
  names: 0, // bumped when a user or account changes: rows that show their names redraw
  loaded: false, // the first read is in: the pages can be drawn
  complete: false, // every position and action is in (the first read brings the newest positions only)
  rest: null, // the promise of the second step of loadAll
  positionTotal: 0, // how many positions the server holds (until `complete`, more than are read)
};

// when each row was last brought by a live event: a full read that started before it keeps it
const touched = new Map();
let clock = 0;

const listeners = new Set();
let scheduled = false;

export function notify() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const listener of listeners) listener();
  });
}

export function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
  return state;
}

function newer(old, row) {
  if (!old) return true;
  if (row.version !== undefined && old.version !== undefined) return row.version >= old.version;
  return (row.updatedAt || "") >= (old.updatedAt || "");
}

export function upsert(entity, row) {
  const table = state[entity];
  const old = table.get(row.id);
  if (!newer(old, row)) return;
  table.set(row.id, old ? { ...old, ...row } : row);
  touched.set(`${entity}:${row.id}`, ++clock);
  if (entity === "users" || entity === "accounts") state.names += 1;
  if (entity === "accounts" && row.equity !== null && row.equity !== undefined) {
    const at = Date.parse(row.lastSyncedAt || row.updatedAt) / 1000;
    const series = state.equity.get(row.id) || [];
    if (!series.length || series[series.length - 1][0] < at) series.push([at, Number(row.equity)]);
    state.equity.set(row.id, series.slice(-2000));
  }
  notify();
}

/** The rows of a full read that started at `since` (readStarted()) take the table's place. */
export function replaceAll(entity, rows, since = Infinity) {
  const table = state[entity];
  const fresh = new Map(rows.map((r) => [r.id, r]));
  for (const [id, old] of table) {
    const row = fresh.get(id);
    if (row && !newer(old, row)) fresh.set(id, old); // a live event already brought a newer one
    else if (!row && touched.get(`${entity}:${id}`) > since) fresh.set(id, old); // created after the read
  }
  state[entity] = fresh;
  state.names += 1;
  for (const row of rows) if (entity === "accounts") upsert("accounts", row);
  notify();
}

/** A row as the page shows it: the server's row with any pending optimistic change on top. */
export function view(entity, id) {
  const row = state[entity].get(id);
  if (!row) return null;
  const key = `${entity}:${id}`;
  const waiting = state.pending.get(key);
  const refusal = state.refusals.get(key);
  if (!waiting && !refusal) return row;
  const patch = Object.assign({}, ...(waiting || []).map((w) => w.patch));
  return { ...row, ...patch, _pending: Boolean(waiting), _refusal: refusal || null };
}

export function rows(entity) {
  return [...state[entity].keys()].map((id) => view(entity, id));
}

/**
 * The one way the console changes a row (TanStack Query's onMutate / onError / onSettled):
 * show `patch` at once marked pending, keep the server's previous row underneath, then take the
 * server's answer, or drop the patch (the previous row shows again) and show the server's message.
 */
let tickets = 0;
export async function optimistic(entity, id, patch, mutate) {
  const key = `${entity}:${id}`;
  const ticket = ++tickets; // several changes of one row may be in flight: each settles its own
  state.pending.set(key, [...(state.pending.get(key) || []), { ticket, patch }]);
  state.refusals.delete(key);
  notify();
  const settle = () => {
    const left = (state.pending.get(key) || []).filter((w) => w.ticket !== ticket);
    if (left.length) state.pending.set(key, left);
    else state.pending.delete(key);
  };
  try {
    const answer = await mutate();
    settle();
    if (answer && answer.id) upsert(entity, answer);
    notify();
    return answer;
  } catch (error) {
    settle();
    state.refusals.set(key, error.message);
    notify();
    return null;
  }
}

export function dismissRefusal(entity, id) {
  state.refusals.delete(`${entity}:${id}`);
  notify();
}

let noticeIds = 0;
export function notice(text, kind = "info") {
  const id = ++noticeIds;
  state.notices = [...state.notices, { id, text, kind }];
  notify();
  if (kind === "info") setTimeout(() => dismissNotice(id), 6000);
}

export function dismissNotice(id) {
  state.notices = state.notices.filter((n) => n.id !== id);
  notify();
}

// ------------------------------------------------------------------------------------ reading

export const USER = "id email name role pcStatus isActive createdAt updatedAt";
export const ACCOUNT = `id userId brokerType accountNumber serverName displayName currency leverage balance
  credit equity margin marginLevel connectionStatus lastSyncedAt version createdAt updatedAt
  symbolMap { brokerSymbol symbol }`;
export const POSITION = `id userId accountId symbol side volume status trailWidth trailMode triggerActionIds
  trailTriggeredAt triggerReason triggerPrice mtTicket entryPrice entryTime exitPrice exitTime exitReason
  realizedPL memo version createdAt updatedAt`;
export const ACTION = `id userId accountId positionId triggerPositionId type status errorMessage retryCount
  executedAt version createdAt updatedAt`;
export const ALERT = `id userId accountId positionId actionId relatedPositionIds kind severity message count
  requiresAction createdAt lastSeenAt acknowledgedAt acknowledgedBy resolvedAt resolvedBy note escalatedAt version`;
export const CONTROL = "scope targetId state reason updatedAt updatedBy";
export const SPEC = "symbol pipSize digits contractSize volumeMin volumeStep volumeMax";

export async function discover() {
  const data = await gqlAnonymous(`{ __schema { queryType { fields { name } } mutationType { fields { name } }
    subscriptionType { fields { name args { name } } } } }`);
  const s = data.__schema;
  state.has = {
    query: new Set(s.queryType.fields.map((f) => f.name)),
    mutation: new Set(s.mutationType.fields.map((f) => f.name)),
    subscription: new Set(s.subscriptionType.fields.map((f) => f.name)),
    resumable: new Set(s.subscriptionType.fields.filter((f) => f.args.some((a) => a.name === "after")).map((f) => f.name)),
  };
}

export const isAdmin = () => state.me?.role === "ADMIN";

export const FIRST_PAGE = 100; // the Positions page's first page: what the first read brings

const readStarted = () => clock;

/** Resolves once the browser has drawn a frame (or after 200 ms, for a tab in the background). */
export function afterPaint() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 200);
    requestAnimationFrame(() => setTimeout(() => {
      clearTimeout(timer);
      resolve();
    }, 0));
  });
}

/**
 * Read what the pages show (on sign-in and after every reconnect), in two steps: first the small
 * tables and the newest FIRST_PAGE positions with the count of all (the pages are drawn then),
 * then every position and action (`complete`). Resolves after the first step; `state.rest` is the
 * second. A server without positionPage gets the one full read.
 */
export async function loadAll() {
  const has = state.has.query;
  const paged = has.has("positionPage");
  const parts = [`me { ${USER} }`, `listAccounts { ${ACCOUNT} }`];
  if (isAdmin() || !state.me) parts.push(`listUsers { ${USER} }`);
  if (has.has("listAlerts")) parts.push(`listAlerts { ${ALERT} }`);
  if (has.has("tradingControls")) parts.push(`tradingControls { ${CONTROL} }`);
  if (has.has("symbolSpecs")) parts.push(`symbolSpecs { ${SPEC} }`);
  parts.push(paged ? `positionPage(limit: ${FIRST_PAGE}) { total positions { ${POSITION} } }` : ROWS);
  const since = readStarted();
  const data = await gql(`{ ${parts.join("\n")} }`);
  state.me = data.me;
  replaceAll("users", data.listUsers || [data.me], since);
  replaceAll("accounts", data.listAccounts, since);
  if (data.listAlerts) replaceAll("alerts", data.listAlerts, since);
  if (data.tradingControls) state.controls = data.tradingControls;
  if (data.symbolSpecs) state.specs = new Map(data.symbolSpecs.map((s) => [s.symbol, s]));
  if (paged) {
    state.positionTotal = data.positionPage.total;
    for (const row of data.positionPage.positions) upsert("positions", row);
    state.rest = afterPaint().then(loadRest); // the first page is drawn before the rest is asked for
  } else {
    takeRows(data, since);
    state.rest = Promise.resolve();
  }
  state.loaded = true;
  notify();
}

const ROWS = `listPositions { ${POSITION} }\nlistActions { ${ACTION} }`;

function takeRows(data, since) {
  replaceAll("positions", data.listPositions, since);
  replaceAll("actions", data.listActions, since);
  state.positionTotal = data.listPositions.length;
  state.complete = true;
}

async function loadRest() {
  const since = readStarted();
  try {
    takeRows(await gql(`{ ${ROWS} }`), since);
  } catch (e) {
    notice(e.message, "error");
  }
  notify();
}
