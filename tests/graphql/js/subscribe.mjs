// Usage: node subscribe.mjs <ws-url> <credential> <job-id>
// Prints one JSON line per event, then {"complete": true}; exits non-zero on an error.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, credential, jobId] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${credential}` },
  retryAttempts: 0,
});

const query = `subscription P($jobId: ID!) {
  generationProgress(jobId: $jobId) { sequence kind progress textDelta content { id } }
}`;

client.subscribe(
  { query, variables: { jobId } },
  {
    next: (result) => console.log(JSON.stringify(result)),
    error: (error) => {
      console.error(JSON.stringify(error));
      process.exit(1);
    },
    complete: async () => {
      console.log(JSON.stringify({ complete: true }));
      await client.dispose();
      process.exit(0);
    },
  },
);
