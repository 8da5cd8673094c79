// English and Japanese. The language comes from ?lang=ja|en, else the browser's language. The
// texts are data, one JSON file a language under i18n/ (same keys in each; a test checks it);
// English is also the fallback for a key a translation lacks.

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "ja" || asked === "en") return asked;
  return (navigator.language || "en").toLowerCase().startsWith("ja") ? "ja" : "en";
}

export const lang = pickLanguage();
document.documentElement.lang = lang;

async function load(language) {
  const response = await fetch(new URL(`./i18n/${language}.json`, import.meta.url));
  if (!response.ok) throw new Error(`i18n/${language}.json: HTTP ${response.status}`);
  return response.json();
}

const [english, chosen] = await Promise.all([load("en"), lang === "en" ? null : load(lang)]);
const STRINGS = { en: english, [lang]: chosen ?? english };

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function languageHref(target) {
  const params = new URLSearchParams(location.search);
  params.set("lang", target);
  return `?${params.toString()}${location.hash}`;
}
