// Each line marked MISUSE must be a compile error under `tsc --strict`; the test
// checks that tsc reports exactly these lines.
import { SseClient } from "sse-wasm";

new SseClient("/events", { withCredentials: "yes" }); // MISUSE: boolean option given a string
new SseClient("/events", { backoff: { jitter: "sometimes" } }); // MISUSE: unknown jitter
new SseClient("/events", { transport: "websocket" }); // MISUSE: unknown transport
new SseClient("/events", { idleTimeoutMs: "45s" }); // MISUSE: number option given a string
new SseClient(42); // MISUSE: the URL must be a string or URL
const client = new SseClient("/events");
client.on("tick", (data: unknown, event: { id: number }) => {}); // MISUSE: SseEvent has no id
client.onState((state: "online") => {}); // MISUSE: not an SseState
client.onError((error) => error.code); // MISUSE: SseError has no code
const state: number = client.state; // MISUSE: state is a string union
client.state = "open"; // MISUSE: state is read-only
new SseClient("/events", { share: 1 }); // MISUSE: share is a boolean or a name
client.role = "leader"; // MISUSE: role is read-only
