// Alert delivery channels (ADMIN, under the alerts): each channel up or down, what waits, what
// went, and its last error, so that a dead Telegram bot or webhook is seen in the console too.
import { useEffect, useState } from "preact/hooks";
import { gql } from "./gql.js";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { state, useStore } from "./store.js";

const QUERY = "{ notifyChannels { name up pending sent lastError } }";
const REFRESH_MS = 5000; // the notifier retries every 0.5 s .. 5 min; a few seconds late is fine

export function Channels() {
  useStore();
  const admin = state.me?.role === "ADMIN";
  const [channels, setChannels] = useState(null);
  useEffect(() => {
    if (!admin) return undefined;
    let live = true;
    const load = () => gql(QUERY).then((d) => live && setChannels(d.notifyChannels), () => {});
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => { live = false; clearInterval(timer); };
  }, [admin]);
  if (!admin || channels === null || channels.length === 0) return null;
  return html`<section>
    <h2>${t("channels")}</h2>
    <table aria-label=${t("channels")}>
      <thead><tr><th>${t("name")}</th><th>${t("status")}</th><th>${t("waiting")}</th><th>${t("sent")}</th>
        <th>${t("lastError")}</th></tr></thead>
      <tbody>${channels.map((c) => html`<tr key=${c.name} class=${c.up ? "" : "needs-person"}>
        <td>${c.name}</td><td>${c.up ? t("channelUp") : html`<strong>${t("channelDown")}</strong>`}</td>
        <td class="num">${c.pending}</td><td class="num">${c.sent}</td><td>${c.lastError || ""}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}
