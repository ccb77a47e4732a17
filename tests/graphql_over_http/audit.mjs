// Run the graphql-http server audit against a live GraphQL endpoint and print one JSON object:
// {"results": [{"id", "name", "status", "reason"?, "responseStatus"?, "responseContentType"?}, ...]}.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await auditServer({ url });
const report = [];
for (const result of results) {
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    entry.responseStatus = result.response.status;
    entry.responseContentType = result.response.headers.get('content-type');
  }
  report.push(entry);
}
process.stdout.write(JSON.stringify({ results: report }) + '\n');
