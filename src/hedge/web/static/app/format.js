// Numbers, prices and times the way traders read them: the symbol's digits, pips, the operator's
// time zone (UTC on hover). Symbol specs come from the server (symbolSpecs) when it has them.
import { html } from "./html.js";
import { lang } from "./i18n.js";
import { state } from "./store.js";

const zone = new URLSearchParams(location.search).get("tz") || undefined;
const locale = lang === "ja" ? "ja-JP" : "en-GB";

// Used only until the server reports the symbol: the contract's built-in FX rule.
function fallbackSpec(symbol) {
  const s = (symbol || "").toUpperCase();
  if (s.startsWith("XAU")) return { digits: 2, pipSize: 0.1, volumeStep: 0.01, volumeMin: 0.01 };
  if (s.includes("JPY")) return { digits: 3, pipSize: 0.01, volumeStep: 0.01, volumeMin: 0.01 };
  return { digits: 5, pipSize: 0.0001, volumeStep: 0.01, volumeMin: 0.01 };
}

export function spec(symbol) {
  return state.specs.get(symbol) || fallbackSpec(symbol);
}

// Intl formatters are costly to build: one per shape, kept (a table of 1,000 rows uses thousands)
const formatters = new Map();
function fixed(min, max) {
  const key = `${min}:${max}`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.NumberFormat(locale, { minimumFractionDigits: min, maximumFractionDigits: max }));
  }
  return formatters.get(key);
}

const missing = (value) => value === null || value === undefined;

export function price(symbol, value) {
  if (missing(value)) return "—";
  const digits = spec(symbol).digits;
  return fixed(digits, digits).format(value);
}

export function pips(value) {
  return missing(value) ? "—" : `${fixed(0, 1).format(value)} pips`;
}

export function money(value, currency) {
  if (missing(value)) return "—";
  const text = fixed(2, 2).format(value);
  return currency ? `${text} ${currency}` : text;
}

export function lots(value) {
  return missing(value) ? "—" : fixed(2, 2).format(value);
}

export function percent(value) {
  return missing(value) ? "—" : `${fixed(0, 1).format(value)} %`;
}

const timeFormat = new Intl.DateTimeFormat(locale, {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  hour12: false, timeZone: zone,
});

export function time(iso) {
  if (!iso) return html`<span>—</span>`;
  return html`<time datetime=${iso} title=${`UTC ${iso}`}>${timeFormat.format(new Date(iso))}</time>`;
}

/** A time as plain text, in the operator's zone (for text that is not markup). */
export function timeText(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

export function shortId(id) {
  return id ? id.slice(0, 8) : "—";
}
