// The console's only ways to the server: the public GraphQL API over HTTP (with the session
// cookie and its CSRF token) and graphql-transport-ws for live data, plus /session to sign in.
import { createClient } from "graphql-ws";

let csrfToken = null;
let client = null;

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || "NETWORK";
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    throw new ApiError(`the server answered HTTP ${response.status} without JSON`, "NETWORK");
  }
}

function firstError(body) {
  const error = body.errors && body.errors[0];
  return error ? new ApiError(body.errors.map((e) => e.message).join("; "), error.extensions?.code) : null;
}

/** A query as nobody in particular (no cookie): the schema's shape, read while signing in. */
export function gqlAnonymous(query) {
  return gql(query, {}, "omit");
}

export async function gql(query, variables = {}, credentials = "same-origin") {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials,
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken || "" },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(`the server cannot be reached (${e.message})`, "NETWORK");
  }
  const body = await readJson(response);
  const error = firstError(body);
  if (error) throw error;
  return body.data;
}

async function session(method, path, payload) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrfToken || "" },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const body = await readJson(response);
  const error = firstError(body);
  if (error) throw error;
  if (body.csrfToken) csrfToken = body.csrfToken;
  return body;
}

export const signIn = (token) => session("POST", "/session", { token });
export async function currentSession() {
  const body = await session("GET", "/session");
  if (!body.user) throw new ApiError("not signed in", "UNAUTHENTICATED");
  return body;
}
export async function signOut() {
  await session("POST", "/session/signout");
  csrfToken = null;
  if (client) await client.dispose();
  client = null;
}

// One WebSocket for every subscription; graphql-ws reconnects it (forever, backing off to 2 s).
// The handshake carries the session cookie (same origin), so connection_init needs no token.
export function connectLive({ onConnected, onClosed }) {
  client = createClient({
    url: location.origin.replace(/^http/, "ws") + "/graphql",
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** retries))),
    onNonLazyError: () => {},
    on: {
      connected: (_socket, _payload, wasRetry) => onConnected(Boolean(wasRetry)),
      closed: () => onClosed(),
    },
  });
  return client;
}

export function subscribe(query, variables, onData, onError) {
  if (!client) throw new Error("connectLive first");
  return client.subscribe(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) onError(firstError(result));
        else if (result.data) onData(result.data);
      },
      error: (e) => onError(e instanceof Error ? e : new ApiError(String(e?.reason || e))),
      complete: () => {},
    },
  );
}
