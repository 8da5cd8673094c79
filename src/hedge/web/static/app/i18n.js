// English and Japanese. The language comes from ?lang=ja|en, else the browser's language.
const STRINGS = {
  en: {
    app: "Hedge System", token: "Token", signIn: "Sign in", signOut: "Sign out",
    signInHelp: "Paste your API token. It is exchanged for a session cookie and is not stored in the browser.",
    language: "Language", mainNav: "Main",
    Dashboard: "Dashboard", Users: "Users", Accounts: "Accounts", Positions: "Positions",
    Actions: "Actions", Hedges: "Hedges", Alerts: "Alerts", Controls: "Trading controls",
    disconnected: "Connection to the server lost. Reconnecting…", reconnected: "Reconnected: data re-read.",
    readingRest: "Reading the remaining rows…",
    changed: "Changed", firedBy: "Fired by the tick", sourceUSER: "person", sourceAGENT: "agent", sourceSERVER: "server rule",
    openPositions: "Open positions", price: "Price", unrealizedPL: "Unrealized P/L", toTrigger: "To trigger",
    reportedAt: "Reported", notReported: "not reported yet", stale: "stale",
    figuresHelp: "Price, unrealized P/L and distance to the trail's trigger as each agent last reported them (every 30 s), with the time of the price: not live.",
    loading: "Loading…", none: "None", all: "All", pending: "pending", refused: "Refused",
    dismiss: "Dismiss", signedInAs: "Signed in as",
    id: "ID", user: "User", account: "Account", status: "Status", symbol: "Symbol", side: "Side",
    volume: "Volume", trail: "Trail (pips)", trailMode: "Trail mode", triggers: "Trigger actions",
    entry: "Entry", exit: "Exit", realizedPL: "Realized P/L", updated: "Updated", created: "Created",
    type: "Type", position: "Position", triggerPosition: "Triggered by", error: "Error",
    retries: "Retries", operations: "Operations",
    execute: "Execute", close: "Close", cancel: "Cancel", retry: "Retry", save: "Save",
    balance: "Balance", credit: "Credit", equity: "Equity", margin: "Margin", marginLevel: "Margin level",
    floatingPL: "Floating P/L", connection: "EA connection", pcStatus: "PC status",
    lastSync: "Last snapshot", totals: "Totals", netExposure: "Net exposure", lots: "lots",
    activeTrails: "Active trails", executingActions: "Executing actions", openAlerts: "Open alerts",
    pointsSince: "{n} points since {t}",
    equityChart: "Equity over time", pricesLocal: "Prices stay on the trading PCs; the server sees the agents' 30 s snapshots.",
    email: "Email", name: "Name", role: "Role", active: "Active", yes: "Yes", no: "No",
    createUser: "Create user", tokenOnce: "The new token (shown once):", copy: "Copy", copied: "Copied",
    rotate: "Rotate token", deactivate: "Deactivate", activate: "Activate",
    createAccount: "Create account", owner: "Owner", broker: "Broker", accountNumber: "Account number",
    server: "Server", displayName: "Display name", currency: "Currency", leverage: "Leverage",
    symbolMap: "Symbol map", symbolMapHelp: "broker=canonical, comma separated (USDJPY.m=USDJPY)",
    edit: "Edit", filters: "Filters",
    newPlan: "New hedge plan", planHelp: "The entry with its trail, and the hedge legs its trigger opens.",
    hedgeLeg: "Hedge leg", addLeg: "Add leg", removeLeg: "Remove leg", savePlan: "Save plan",
    planSaved: "Plan saved: entry {entry}, {n} leg(s).", fromEntry: "From entry", trailingStop: "Trailing stop",
    noTrail: "no trail", timeline: "Timeline", history: "History", by: "by", reason: "Reason",
    chain: "Chain", unpaired: "Unpaired leg", legs: "legs", fired: "fired",
    severity: "Severity", kind: "Kind", message: "Message", count: "Count", acknowledge: "Acknowledge",
    resolve: "Resolve", requiresAction: "Needs a person", lastSeen: "Last seen", open: "Open",
    criticalAlert: "Critical alert", setState: "Set", scope: "Scope", target: "Target", state: "State",
    confirmHalt: "Halting stops every order, closes included. Type HALT to confirm.",
    confirm: "Confirm", asOf: "as of {t}", noRows: "Nothing to show.",
    pages: "Pages", previous: "Previous", next: "Next", rowsPerPage: "Rows per page", rowsOf: "{first}–{last} of {total}",
    entryPlan: "Entry",
    channels: "Alert delivery channels", channelUp: "up", channelDown: "down", waiting: "Waiting",
    sent: "Sent", lastError: "Last error",
  },
  ja: {
    app: "Hedge System", token: "トークン", signIn: "サインイン", signOut: "サインアウト",
    signInHelp: "API トークンを貼り付けてください。セッション Cookie に交換され、ブラウザには保存されません。",
    language: "言語", mainNav: "メイン",
    Dashboard: "ダッシュボード", Users: "ユーザー", Accounts: "口座", Positions: "ポジション",
    Actions: "アクション", Hedges: "ヘッジ", Alerts: "アラート", Controls: "取引制御",
    disconnected: "サーバーとの接続が切れました。再接続しています…", reconnected: "再接続しました。データを再読込しました。",
    readingRest: "残りの行を読み込み中…",
    changed: "変更項目", firedBy: "発火させたティック", sourceUSER: "利用者", sourceAGENT: "エージェント", sourceSERVER: "サーバーの規則",
    openPositions: "保有中のポジション", price: "価格", unrealizedPL: "評価損益", toTrigger: "発火まで",
    reportedAt: "報告", notReported: "未報告", stale: "古い",
    figuresHelp: "価格・評価損益・トレール発火までの距離は各エージェントが 30 秒ごとに報告した値で、その価格の時刻を添えています (リアルタイムではありません)。",
    loading: "読み込み中…", none: "なし", all: "すべて", pending: "処理中", refused: "拒否",
    dismiss: "閉じる", signedInAs: "サインイン中",
    id: "ID", user: "ユーザー", account: "口座", status: "状態", symbol: "銘柄", side: "売買",
    volume: "数量", trail: "トレール (pips)", trailMode: "トレール方式", triggers: "トリガーアクション",
    entry: "建値", exit: "決済値", realizedPL: "確定損益", updated: "更新", created: "作成",
    type: "種別", position: "ポジション", triggerPosition: "トリガー元", error: "エラー",
    retries: "再試行", operations: "操作",
    execute: "実行", close: "決済", cancel: "取消", retry: "再試行", save: "保存",
    balance: "残高", credit: "クレジット", equity: "有効証拠金", margin: "必要証拠金", marginLevel: "証拠金維持率",
    floatingPL: "評価損益", connection: "EA 接続", pcStatus: "PC 状態",
    lastSync: "最終スナップショット", totals: "合計", netExposure: "ネットエクスポージャー", lots: "ロット",
    activeTrails: "監視中のトレール", executingActions: "実行中のアクション", openAlerts: "未解決のアラート",
    pointsSince: "{t} 以降 {n} 点",
    equityChart: "有効証拠金の推移", pricesLocal: "価格は各取引 PC にあります。サーバーはエージェントの 30 秒ごとのスナップショットを表示します。",
    email: "メール", name: "名前", role: "権限", active: "有効", yes: "はい", no: "いいえ",
    createUser: "ユーザー作成", tokenOnce: "新しいトークン (一度だけ表示):", copy: "コピー", copied: "コピーしました",
    rotate: "トークン再発行", deactivate: "無効化", activate: "有効化",
    createAccount: "口座作成", owner: "所有者", broker: "ブローカー", accountNumber: "口座番号",
    server: "サーバー", displayName: "表示名", currency: "通貨", leverage: "レバレッジ",
    symbolMap: "銘柄マップ", symbolMapHelp: "ブローカー名=標準名 をカンマ区切り (USDJPY.m=USDJPY)",
    edit: "編集", filters: "絞り込み",
    newPlan: "新しいヘッジ計画", planHelp: "トレール付きのエントリーと、そのトリガーで建てるヘッジ脚。",
    hedgeLeg: "ヘッジ脚", addLeg: "脚を追加", removeLeg: "脚を削除", savePlan: "計画を保存",
    planSaved: "計画を保存しました: エントリー {entry}、脚 {n} 本。", fromEntry: "建値から", trailingStop: "トレーリングストップ",
    noTrail: "トレールなし", timeline: "履歴", history: "履歴", by: "変更者", reason: "理由",
    chain: "連鎖", unpaired: "片側のみの脚", legs: "脚", fired: "発火",
    severity: "重要度", kind: "種類", message: "内容", count: "回数", acknowledge: "確認",
    resolve: "解決", requiresAction: "要対応", lastSeen: "最終発生", open: "未解決",
    criticalAlert: "重大アラート", setState: "設定", scope: "範囲", target: "対象", state: "状態",
    confirmHalt: "停止すると決済を含むすべての注文が止まります。確認のため HALT と入力してください。",
    confirm: "確定", asOf: "{t} 時点", noRows: "表示するものはありません。",
    pages: "ページ", previous: "前へ", next: "次へ", rowsPerPage: "1 ページの行数", rowsOf: "{total} 件中 {first}–{last}",
    entryPlan: "エントリー",
    channels: "アラート通知の送信先", channelUp: "正常", channelDown: "停止", waiting: "送信待ち",
    sent: "送信済み", lastError: "最後のエラー",
  },
};

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "ja" || asked === "en") return asked;
  return (navigator.language || "en").toLowerCase().startsWith("ja") ? "ja" : "en";
}

export const lang = pickLanguage();
document.documentElement.lang = lang;

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function languageHref(target) {
  const params = new URLSearchParams(location.search);
  params.set("lang", target);
  return `?${params.toString()}${location.hash}`;
}
