// The console: sign-in gate, navigation, banners, and the page for the current #/route.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { currentSession, signIn, signOut } from "./gql.js";
import { html } from "./html.js";
import { lang, languageHref, t } from "./i18n.js";
import { readsBeforeSubscribing, startLive, takeSessionCursor } from "./live.js";
import { afterPaint, discover, dismissNotice, loadAll, useStore } from "./store.js";
import { Dashboard } from "./dashboard.js";
import { Users } from "./users.js";
import { Accounts } from "./accounts.js";
import { Positions } from "./positions.js";
import { Actions } from "./actions.js";
import { Hedges } from "./hedges.js";
import { Alerts, CriticalBanner } from "./alerts.js";
import { Controls } from "./controls.js";

const PAGES = {
  dashboard: ["Dashboard", Dashboard],
  users: ["Users", Users],
  accounts: ["Accounts", Accounts],
  positions: ["Positions", Positions],
  actions: ["Actions", Actions],
  hedges: ["Hedges", Hedges],
  alerts: ["Alerts", Alerts],
  controls: ["Controls", Controls],
};

function route() {
  const name = location.hash.replace(/^#\/?/, "").split("?")[0];
  return PAGES[name] ? name : "dashboard";
}

function useRoute() {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const changed = () => setCurrent(route());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return current;
}

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await signIn(token);
      setToken("");
      await onSignedIn(session);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="signin">
    <h1>${t("app")}</h1>
    <${LanguageSwitch} />
    <form onSubmit=${submit}>
      <label for="token">${t("token")}</label>
      <input id="token" type="password" autocomplete="off" value=${token} required
        onInput=${(e) => setToken(e.target.value)} />
      <p class="help">${t("signInHelp")}</p>
      <button type="submit" disabled=${busy}>${t("signIn")}</button>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </form>
  </main>`;
}

function LanguageSwitch() {
  return html`<nav class="lang" aria-label=${t("language")}>
    <a href=${languageHref("en")} lang="en" aria-current=${lang === "en" ? "true" : undefined}>English</a>
    <a href=${languageHref("ja")} lang="ja" aria-current=${lang === "ja" ? "true" : undefined}>日本語</a>
  </nav>`;
}

function Shell({ onSignedOut }) {
  const s = useStore();
  const current = useRoute();
  const [, Page] = PAGES[current];
  const visible = Object.entries(PAGES).filter(([name]) => {
    if (name === "alerts") return s.has.query.has("listAlerts");
    if (name === "controls") return s.has.query.has("tradingControls");
    if (name === "users") return s.me?.role === "ADMIN";
    return true;
  });
  async function out() {
    await signOut();
    onSignedOut();
  }
  return html`<div class="shell">
    <header>
      <span class="brand">${t("app")}</span>
      <nav aria-label=${t("mainNav")}>
        ${visible.map(([name, [label]]) => html`<a href=${`#/${name}`}
          aria-current=${current === name ? "page" : undefined}>${t(label)}</a>`)}
      </nav>
      <span class="me">${t("signedInAs")} ${s.me?.name} (${s.me?.role})</span>
      <${LanguageSwitch} />
      <button type="button" onClick=${out}>${t("signOut")}</button>
    </header>
    ${s.connection === "lost" && html`<div role="alert" class="banner lost">${t("disconnected")}</div>`}
    <${CriticalBanner} />
    ${s.loaded && !s.complete && html`<p role="status" class="help">${t("readingRest")}</p>`}
    <div class="notices" aria-live="polite">
      ${s.notices.map((n) => html`<div class=${`notice ${n.kind}`} role=${n.kind === "error" ? "alert" : "status"}>
        ${n.text} <button type="button" onClick=${() => dismissNotice(n.id)}>${t("dismiss")}</button></div>`)}
    </div>
    <main>${s.loaded ? html`<${Page} />` : html`<p>${t("loading")}</p>`}</main>
  </div>`;
}

// the schema's shape, read while the session is checked (read again at sign-in if this failed)
const discovered = discover().then(() => true, () => false);

function App() {
  const [signedIn, setSignedIn] = useState(null);
  async function start(session) {
    performance.mark("hedge:session");
    takeSessionCursor(session?.feedCursor);
    if (!(await discovered)) await discover();
    performance.mark("hedge:discovered");
    if (readsBeforeSubscribing()) {
      await loadAll();
      performance.mark("hedge:loaded");
      setSignedIn(true); // drawn first; then the socket starts, from the session's cursor
      await afterPaint();
      await startLive();
      performance.mark("hedge:live");
      return;
    }
    await startLive();
    performance.mark("hedge:live");
    await loadAll();
    performance.mark("hedge:loaded");
    setSignedIn(true);
  }
  useEffect(() => {
    // a sign-in link (`make demo` prints one): /#token=... signs in, then the token leaves the URL
    const linked = location.hash.startsWith("#token=") ? decodeURIComponent(location.hash.slice(7)) : null;
    if (linked) history.replaceState(null, "", location.pathname + location.search + "#/dashboard");
    (linked ? signIn(linked) : currentSession())
      .then(start)
      .catch(() => setSignedIn(false));
  }, []);
  if (signedIn === null) return html`<p>${t("loading")}</p>`;
  if (!signedIn) return html`<${SignIn} onSignedIn=${start} />`;
  return html`<${Shell} onSignedOut=${() => location.reload()} />`;
}

render(html`<${App} />`, document.getElementById("app"));
