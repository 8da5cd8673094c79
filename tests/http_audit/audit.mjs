// The GraphQL over HTTP spec's server audits (graphql-http serverAudits) against one URL.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
// Prints one JSON line: {"ok": n, "warn": n, "error": n, "failures": [{"id", "name", "status", "reason"}]}
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0 };
const failures = [];
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    failures.push({ id: result.id, name: result.name, status: result.status, reason: result.reason });
  }
}
console.log(JSON.stringify({ ...counts, failures }));
