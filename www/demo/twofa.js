// The two-factor login wait. "Log in" opens a stream for that user
// (`/demo/2fa/wait?user=…`); the server sends `pending` with a matching code, and
// when the phone approves it pushes `2fa-complete` to that user's streams only and
// ends them. One SseClient per waiting login.
import { byId, h, randomId } from "./util.js";

const USER = /^[\p{L}\p{N}._@-]{1,64}$/u;
const NEXT_USER = ["alice", "bob", "carol", "dave", "erin", "frank"];
const KEEP_LOGINS = 4;

const STATUS_TEXT = {
  connecting: "Contacting the server…",
  waiting: "Waiting for the phone",
  complete: "Signed in",
  denied: "Denied on the phone",
  expired: "Request expired",
};

export function twoFactor(SseClient) {
  const form = byId("login");
  const input = byId("user");
  const hint = byId("login-hint");
  const logins = byId("logins");
  const requests = byId("requests");
  const empty = byId("no-requests");
  /** user -> { element, code, logins: Set<login id> } on the phone */
  const pending = new Map();

  function updateEmpty() {
    empty.hidden = pending.size > 0;
  }

  function phoneRequest(user, login, code) {
    let request = pending.get(user);
    if (!request) {
      const approve = h("button", { type: "button", class: "btn small", dataset: { action: "approve" } }, "Approve");
      const deny = h("button", { type: "button", class: "btn small ghost", dataset: { action: "deny" } }, "Deny");
      const codeText = h("span", { class: "code" });
      const element = h(
        "li",
        { class: "request", dataset: { user } },
        h("p", { class: "ask" }, "Sign in as ", h("b", {}, user), "?"),
        h("p", { class: "match" }, "Match the number ", codeText),
        h("div", { class: "request-actions" }, deny, approve),
      );
      request = { element, codeText, logins: new Set() };
      const answer = async (action) => {
        approve.disabled = deny.disabled = true;
        try {
          await fetch(`/demo/2fa/${action}?user=${encodeURIComponent(user)}`, { method: "POST" });
        } catch (error) {
          console.warn(`${action} failed`, error);
          approve.disabled = deny.disabled = false;
        }
      };
      approve.addEventListener("click", () => answer("approve"));
      deny.addEventListener("click", () => answer("deny"));
      pending.set(user, request);
      requests.prepend(element);
    }
    request.logins.add(login);
    request.codeText.textContent = code;
    updateEmpty();
  }

  function phoneDone(user, login) {
    const request = pending.get(user);
    if (!request) return;
    request.logins.delete(login);
    if (request.logins.size === 0) {
      request.element.remove();
      pending.delete(user);
    }
    updateEmpty();
  }

  function start(user) {
    const login = randomId("login");
    const status = h("span", { class: "status" }, STATUS_TEXT.connecting);
    const code = h("span", { class: "code" });
    const element = h(
      "li",
      { class: "login-entry", dataset: { user, status: "connecting" } },
      h("span", { class: "avatar", "aria-hidden": "true" }, user.slice(0, 1).toUpperCase()),
      h("div", { class: "who" }, h("b", {}, user), status),
      code,
    );
    logins.prepend(element);
    // Drop the oldest finished entries.
    const finished = [...logins.children].filter((li) => !["connecting", "waiting"].includes(li.dataset.status));
    while (logins.children.length > KEEP_LOGINS && finished.length) finished.pop().remove();

    const query = new URLSearchParams({ user, login });
    const client = new SseClient(`/demo/2fa/wait?${query}`, { backoff: { initialMs: 500, maxMs: 4000 } });
    const set = (next, extra = "") => {
      element.dataset.status = next;
      status.textContent = STATUS_TEXT[next] + extra;
    };
    const finish = (outcome, data) => {
      client.close();
      phoneDone(user, login);
      code.textContent = "";
      const at = data && data.at ? ` at ${new Date(data.at).toLocaleTimeString()}` : "";
      set(outcome, at);
    };
    client.on("pending", (data) => {
      set("waiting");
      code.textContent = data.code;
      code.title = "The phone shows the same number";
      phoneRequest(user, login, data.code);
    });
    client.on("2fa-complete", (data) => finish("complete", data));
    client.on("2fa-denied", (data) => finish("denied", data));
    client.on("2fa-expired", (data) => finish("expired", data));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const user = input.value.trim();
    if (!USER.test(user)) {
      hint.textContent = "Use 1 to 64 letters, digits or . _ - @";
      hint.dataset.error = "true";
      return;
    }
    hint.dataset.error = "false";
    hint.textContent = "Each login waits on its own stream until the phone approves.";
    start(user);
    const next = NEXT_USER[(NEXT_USER.indexOf(user) + 1) % NEXT_USER.length];
    input.value = NEXT_USER.includes(user) ? next : "";
  });
  updateEmpty();
}
