// The live demo: one SseClient for the whole dashboard, one event type per panel.
//
//   instance      which instance serves this connection (in a cluster only)
//   snapshot      where a fresh connection starts (history for every panel)
//   resume        the server replays what this tab missed after a reconnect
//   tick          Markets            news          Newsroom
//   notification  Notifications      status        Server status
//
// Every feed event carries `seq` (= its id) in one global sequence; the Connection
// panel checks that it continues without gaps or duplicates across reconnects.
import init, { SseClient } from "/pkg/sse_wasm.js";
import { connection } from "./connection.js";
import { news, notifications } from "./feeds.js";
import { markets } from "./markets.js";
import { SequenceTracker } from "./sequence.js";
import { status } from "./status.js";
import { twoFactor } from "./twofa.js";
import { byId, randomId } from "./util.js";

const clientId = randomId("tab");
const tracker = new SequenceTracker();

async function main() {
  await init();

  const panels = {
    markets: markets(),
    news: news(),
    notifications: notifications(),
    status: status(),
    connection: connection({ clientId, tracker }),
  };
  const url = `/demo/stream?client=${encodeURIComponent(clientId)}`;
  byId("conn-url").textContent = "/demo/stream";
  byId("client-id").textContent = `this tab: ${clientId}`;

  const client = new SseClient(url, {
    // Short enough to watch: 0.5 s, 1 s, 2 s, … at most 8 s, each between half and
    // all of that ("equal" jitter).
    backoff: { initialMs: 500, maxMs: 8000, jitter: "equal" },
  });
  const states = [];
  client.onState((state, detail) => {
    states.push(state);
    panels.connection.state(state, detail);
  });
  client.onError((error) => {
    if (error.kind !== "network") console.warn("sse-wasm:", error.kind, error.message);
    panels.connection.error(error);
  });

  const instances = [];
  client.on("instance", (info) => {
    instances.push(info.instance);
    panels.connection.instance(info);
  });
  client.on("snapshot", (snapshot) => {
    tracker.snapshot(snapshot.head);
    panels.markets.snapshot(snapshot.quotes);
    panels.news.snapshot(snapshot.news);
    panels.notifications.snapshot(snapshot.notifications);
    panels.status.snapshot(snapshot.status, snapshot.cpuHistory);
    panels.connection.snapshot(snapshot.head);
  });
  client.on("resume", (info) => {
    tracker.resume(info);
    panels.connection.resume(info);
  });

  /** Every sequenced event goes through the tracker first. */
  const sequenced = (show) => (data, event) => {
    const fit = tracker.see(data.seq);
    panels.connection.event(data.seq, fit, event.lastEventId);
    show(data);
  };
  client.on("tick", sequenced((tick) => panels.markets.tick(tick)));
  client.on("news", sequenced((story) => panels.news.add(story)));
  client.on("notification", sequenced((note) => panels.notifications.add(note)));
  client.on("status", sequenced((reading) => panels.status.status(reading)));

  twoFactor(SseClient);

  // For the end-to-end test and the curious: `demo.tracker.gaps`, `demo.client.state`.
  window.demo = { client, clientId, tracker, states, instances };
  document.documentElement.dataset.ready = "true";
}

main().catch((error) => {
  console.error("demo failed to start:", error);
  const text = document.getElementById("badge-text");
  if (text) text.textContent = "Could not load sse-wasm (run make demo)";
  document.getElementById("badge")?.setAttribute("data-state", "closed");
});
