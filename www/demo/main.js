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
//
// Every tab of the browser shares one connection (`share`): the leader's stream
// relays to the others, and when the leader's tab closes another takes over and
// resumes. A tab that joins an open stream has missed its `snapshot`: it takes one
// from a one-shot client of its own, and until then keeps the events it hears.
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
// The share's name: its Web Lock and BroadcastChannel are "sse-wasm:" + this.
const SHARE = "sse-demo";
// How long a tab waits for a snapshot on the shared stream before it asks for its own.
const SNAPSHOT_WAIT_MS = 300;

/**
 * The stream's client key on the server (its Drop and outage controls act on it): one
 * per browser, like the connection, so that any tab's button drops the shared stream.
 */
function sharedStreamKey() {
  try {
    let key = localStorage.getItem("sse-demo:stream");
    if (!key) {
      key = randomId("tabs");
      localStorage.setItem("sse-demo:stream", key);
    }
    return key;
  } catch {
    return clientId;
  }
}

/** How many clients share the connection: the lock's holder and those waiting for it. */
async function tabsSharing() {
  const locks = await navigator.locks?.query?.();
  if (!locks) return undefined;
  const name = `sse-wasm:${SHARE}`;
  return [...locks.held, ...locks.pending].filter((lock) => lock.name === name).length;
}

async function main() {
  await init();
  const streamKey = sharedStreamKey();

  const panels = {
    markets: markets(),
    news: news(),
    notifications: notifications(),
    status: status(),
    connection: connection({ streamKey, tracker }),
  };
  const url = `/demo/stream?client=${encodeURIComponent(streamKey)}`;
  byId("conn-url").textContent = "/demo/stream";
  byId("client-id").textContent = `this tab: ${clientId}`;

  const client = new SseClient(url, {
    // Short enough to watch: 0.5 s, 1 s, 2 s, … at most 8 s, each between half and
    // all of that ("equal" jitter).
    backoff: { initialMs: 500, maxMs: 8000, jitter: "equal" },
    share: SHARE,
  });
  const showSharing = async () => panels.connection.sharing(client.role, await tabsSharing());
  showSharing();
  setInterval(showSharing, 500);
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
  // Sequenced events heard before this tab has a snapshot, or null once it has one.
  let waiting = [];
  // What the latest snapshot stands for: a tab that took its snapshot from a one-shot
  // client can still hear older events relayed from the shared stream, which lags
  // behind; they are in the snapshot already.
  let covered = 0;
  const snapshot = (snapshot) => {
    covered = snapshot.head;
    tracker.snapshot(snapshot.head);
    panels.markets.snapshot(snapshot.quotes);
    panels.news.snapshot(snapshot.news);
    panels.notifications.snapshot(snapshot.notifications);
    panels.status.snapshot(snapshot.status, snapshot.cpuHistory);
    panels.connection.snapshot(snapshot.head);
    const heard = waiting ?? [];
    waiting = null;
    // What the snapshot already stands for is not shown again.
    for (const [show, data, id] of heard) if (data.seq > snapshot.head) account(show, data, id);
  };
  client.on("snapshot", snapshot);
  client.on("resume", (info) => {
    waiting = null;
    tracker.resume(info);
    panels.connection.resume(info);
  });
  setTimeout(() => {
    if (waiting === null) return;
    // This tab joined a stream that had started: a one-shot client of its own gets a
    // snapshot, and closes once it has it.
    const once = new SseClient("/demo/stream", { endOnType: "snapshot" });
    once.on("snapshot", (data) => waiting !== null && snapshot(data));
  }, SNAPSHOT_WAIT_MS);

  /** Every sequenced event goes through the tracker first. */
  const account = (show, data, id) => {
    const fit = tracker.see(data.seq);
    panels.connection.event(data.seq, fit, id);
    show(data);
  };
  const sequenced = (show) => (data, event) => {
    if (waiting !== null) waiting.push([show, data, event.lastEventId]);
    else if (data.seq > covered) account(show, data, event.lastEventId);
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
