// How a TypeScript app uses the package; must compile with `tsc --strict`.
import init, {
  SseClient,
  type SseError,
  type SseEvent,
  type SseOptions,
  type SseState,
  type SseStateDetail,
} from "sse-wasm";

interface Tick {
  symbol: string;
  price: number;
}

export async function start(token: string): Promise<() => void> {
  await init();
  const options: SseOptions = {
    withCredentials: true,
    json: true,
    backoff: { initialMs: 500, maxMs: 30_000, factor: 2, jitter: "equal", maxRetries: null },
    resume: true,
    resumeParam: "after",
    lastEventId: "41",
    reconnectOnEnd: false,
    idleTimeoutMs: null,
    transport: "auto",
  };
  const client = new SseClient("/events", options);
  const plain = new SseClient(new URL("/events", "https://example.com"));
  const withHeaders = new SseClient("/events", {
    transport: "fetch",
    method: "POST",
    body: JSON.stringify({ prompt: "hi" }),
    headers: async () => ({ Authorization: `Bearer ${token}` }),
  });

  const offTick = client.on("tick", (data, event: SseEvent) => {
    const tick = data as Tick;
    const raw: string = event.data;
    const id: string = event.lastEventId;
    const type: string = event.type;
    console.log(tick.symbol, tick.price, raw, id, type);
  });
  const offState = client.onState((state: SseState, detail: SseStateDetail) => {
    if (state === "reconnecting") {
      const attempt: number | undefined = detail.attempt;
      const delay: number | undefined = detail.delayMs;
      console.log(attempt, delay);
    }
  });
  const offError = client.onError((error: SseError) => {
    switch (error.kind) {
      case "decode":
        console.warn(error.type, error.data, error.message);
        break;
      case "http":
        console.warn(error.status);
        break;
      default:
        console.warn(error.kind, error.message);
    }
  });

  const state: SseState = client.state;
  const last: string = client.lastEventId;
  const url: string = client.url;
  const role: "solo" | "leader" | "follower" = client.role;
  const shared = new SseClient("/events", { share: "feed" });
  const byUrl = new SseClient("/events", { share: true });
  console.log(state, last, url, role, shared.role, byUrl.role);
  client.reconnect();

  return () => {
    offTick();
    offState();
    offError();
    client.close();
    plain.close();
    withHeaders.close();
  };
}
