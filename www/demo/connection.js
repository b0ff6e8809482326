// The connection badge (top right) and the Connection panel: the client's state,
// retry count, countdown to the next attempt, last event id, the latest sequence
// numbers with gaps and duplicates counted, and the controls that drop the
// connection on the server's side. In a cluster (`make demo-cluster`) it also shows
// which instance serves the tab, and can ask that instance to restart: the tab then
// resumes on another one through nginx. The tabs of a browser share one connection
// (the client's `share` option): the panel says whether this tab leads or follows, and
// how many tabs share it.
import { byId, h } from "./util.js";

const STRIP = 14;
const TITLES = { connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting", closed: "Closed" };
const ROLES = { leader: "Leader", follower: "Follower", solo: "On its own" };

export function connection({ streamKey, tracker }) {
  const badge = byId("badge");
  const badgeText = byId("badge-text");
  const stateBox = byId("conn-state");
  const title = byId("conn-title");
  const detail = byId("conn-detail");
  const lastId = byId("last-id");
  const retry = byId("retry");
  const countdown = byId("countdown");
  const reconnects = byId("reconnects");
  const gaps = byId("gaps");
  const duplicates = byId("duplicates");
  const strip = byId("seq");
  const resumeNote = byId("resume-note");
  const dropButton = byId("drop");
  const outageButton = byId("outage");
  const restartButton = byId("restart");
  const servedBy = byId("served-by");
  const instanceName = byId("instance");
  const roleText = byId("role");
  const tabsText = byId("tabs");

  let state = "connecting";
  let attempt = 0;
  let reconnectCount = 0;
  let nextAt = 0;
  let openedAt = 0;
  let lastError = null;
  let currentId = "";
  let outageUntil = 0;
  let instance = null;

  function setState(next) {
    state = next;
    badge.dataset.state = next;
    stateBox.dataset.state = next;
    title.textContent = TITLES[next] || next;
    refresh();
  }

  function refresh() {
    const now = performance.now();
    const idText = currentId ? `#${currentId}` : "";
    if (state === "reconnecting") {
      const left = Math.max(0, nextAt - now);
      countdown.textContent = `${(left / 1000).toFixed(1)} s`;
      badgeText.textContent = `Reconnecting · ${(left / 1000).toFixed(1)} s`;
      const outage = outageUntil > now ? `Server turns this tab away for ${Math.ceil((outageUntil - now) / 1000)} s more. ` : "";
      const why = outage || (lastError ? `${lastError}. ` : "");
      detail.textContent = `${why}Attempt ${attempt} in ${(left / 1000).toFixed(1)} s, resuming after ${idText || "the start"}`;
    } else {
      countdown.textContent = "–";
      if (state === "open") {
        badgeText.textContent = idText ? `Live · ${idText}` : "Live";
        detail.textContent = `Open since ${new Date(openedAt).toLocaleTimeString()}`;
      } else if (state === "connecting") {
        badgeText.textContent = "Connecting…";
        detail.textContent = currentId ? `Asking for the events after ${idText}` : "Opening the stream";
      } else {
        badgeText.textContent = "Closed";
        detail.textContent = lastError || "The connection is closed";
      }
    }
    retry.textContent = attempt;
    reconnects.textContent = reconnectCount;
  }
  setInterval(refresh, 100);

  function counters() {
    gaps.textContent = tracker.gaps;
    gaps.className = tracker.gaps ? "bad" : "good";
    duplicates.textContent = tracker.duplicates;
    duplicates.className = tracker.duplicates ? "bad" : "good";
  }

  function chip(text, kind) {
    strip.append(h("li", { class: kind ? `chip-${kind}` : undefined }, text));
    while (strip.children.length > STRIP) strip.firstElementChild.remove();
  }

  async function drop(outageMs) {
    const query = new URLSearchParams({ client: streamKey });
    if (outageMs) query.set("outage_ms", String(outageMs));
    if (outageMs) outageUntil = performance.now() + outageMs;
    try {
      await fetch(`/demo/drop?${query}`, { method: "POST" });
    } catch (error) {
      console.warn("drop failed", error);
    }
  }
  dropButton.addEventListener("click", () => drop(0));
  outageButton.addEventListener("click", () => drop(6000));
  restartButton.addEventListener("click", async () => {
    if (!instance) return;
    restartButton.disabled = true;
    try {
      // Any instance takes the request; the named one stops (and is started again).
      await fetch(`/demo/restart?${new URLSearchParams({ instance })}`, { method: "POST" });
    } catch (error) {
      console.warn("restart failed", error);
    }
  });

  return {
    /** This tab's part in the shared connection, and how many tabs share it. */
    sharing(role, tabs) {
      roleText.textContent = ROLES[role] ?? role;
      roleText.dataset.role = role;
      tabsText.textContent = tabs === undefined ? "–" : String(tabs);
    },
    /** The instance serving this tab (cluster only): `{instance, restartable}`. */
    instance(info) {
      instance = info.instance;
      instanceName.textContent = info.instance;
      servedBy.hidden = false;
      restartButton.hidden = !info.restartable;
      restartButton.disabled = false;
      chip(`@${info.instance}`, "mark");
    },
    state(next, info = {}) {
      if (next === "reconnecting") {
        attempt = info.attempt ?? attempt + 1;
        nextAt = performance.now() + (info.delayMs ?? 0);
        reconnectCount += 1;
      } else if (next === "open") {
        openedAt = Date.now();
        lastError = null;
      }
      setState(next);
    },
    error(error) {
      lastError = error.kind === "network" ? "Stream lost" : `${error.kind}: ${error.message}`;
      refresh();
    },
    snapshot(head) {
      chip(`snapshot #${head}`, "mark");
      currentId = String(head);
      refresh();
    },
    resume(info) {
      const missed = info.missed ? `, ${info.missed} too old to replay` : "";
      resumeNote.textContent = `resumed after #${info.from}: ${info.replayed} replayed${missed}`;
      resumeNote.classList.remove("pulse");
      void resumeNote.offsetWidth;
      resumeNote.classList.add("pulse");
      chip(`↻ #${info.from}`, "mark");
    },
    event(seq, { fit, replayed }, id) {
      currentId = id;
      lastId.textContent = `#${id}`;
      // An event on an open connection is what resets the client's retry budget.
      if (state === "open" && attempt !== 0) {
        attempt = 0;
        retry.textContent = "0";
      }
      chip(String(seq), fit !== "ok" ? fit : replayed ? "replay" : null);
      counters();
    },
  };
}
