// Sharing one connection among tabs (the `share` option), in headless Chromium: the
// tabs are pages of one browser context (one profile, so one set of Web Locks and
// BroadcastChannels), each loading the package as a plain page does, against the
// scripted server, whose /stats shows how many connections the tabs made.
import assert from "node:assert/strict";
import { hide, launchChromium, run, serverAddress, show, test, until, watchPage } from "./harness.mjs";

const server = serverAddress();

/** `n` tabs of one fresh browser profile, each with the package loaded. */
async function openTabs(browser, n) {
  const context = await browser.newContext();
  const tabs = [];
  for (let i = 0; i < n; i++) tabs.push(await openTab(context));
  return { context, tabs };
}

async function openTab(context) {
  const page = await context.newPage();
  page.problems = watchPage(page);
  await page.goto(`${server}/tests/page.html`);
  await page.waitForFunction(() => window.SseClient !== undefined);
  return page;
}

/**
 * Makes a client in `page` that records what it gets in `window.got`: per type the
 * `[seq, lastEventId]` of every event, its states and its errors; with `reconnect`,
 * calls its reconnect() at once.
 */
function listen(page, url, options, types = ["message"], { reconnect = false } = {}) {
  return page.evaluate(
    ([url, options, types, reconnect]) => {
      const got = { events: {}, states: [], errors: [] };
      const client = new SseClient(url, options);
      for (const type of types) {
        got.events[type] = [];
        client.on(type, (data, event) => got.events[type].push([data.seq, event.lastEventId]));
      }
      client.onState((state) => got.states.push(state));
      client.onError((error) => got.errors.push(error.kind));
      window.client = client;
      window.got = got;
      // At once: before a sharing client has joined its share.
      if (reconnect) client.reconnect();
    },
    [url, options, types, reconnect],
  );
}

const got = (page) => page.evaluate(() => ({ ...window.got, role: client.role, state: client.state }));
const count = (page, type = "message") => page.evaluate((type) => window.got.events[type].length, type);
const roleOf = (page) => page.evaluate(() => client.role);
const stats = (page, session) => page.evaluate((session) => stats(session), session);
const session = (label) => `${label}-${Math.floor(Math.random() * 1e12)}`;

/** The tab whose client leads, once one does. */
async function leaderOf(tabs) {
  return until(async () => {
    const roles = await Promise.all(tabs.map(roleOf));
    return roles.filter((role) => role === "leader").length === 1 ? tabs[roles.indexOf("leader")] : null;
  }, "a leader");
}

/** Asserts that `seqs` is exactly from..to, in order. */
function assertRun(seqs, from, to, what) {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  assert.deepEqual(seqs, expected, `${what}: every event once, in order`);
}

/**
 * Makes a client in every tab at once. A client gets the events from when it joins
 * the share: the leader's connection may have started a few events earlier.
 */
const listenAll = (tabs, url, options, types) => Promise.all(tabs.map((tab) => listen(tab, url, options, types)));

for (const transport of ["eventsource", "fetch"]) {
  test(`${transport}: eight tabs, one server connection, every tab gets every event`, async (browser) => {
    const { context, tabs } = await openTabs(browser, 8);
    try {
      const id = session("eight");
      const url = `/sse?session=${id}&count=40&interval=25&then=hold`;
      await listenAll(tabs, url, { share: `eight-${transport}-${id}`, transport });
      const last = async (tab) => (await got(tab)).events.message.at(-1)?.[0];
      await until(async () => (await Promise.all(tabs.map(last))).every((seq) => seq === 40), "the 40th event in every tab");
      const roles = await Promise.all(tabs.map(roleOf));
      assert.equal(roles.filter((role) => role === "leader").length, 1, `one leader: ${roles}`);
      assert.equal(roles.filter((role) => role === "follower").length, 7, `seven followers: ${roles}`);
      for (const [i, tab] of tabs.entries()) {
        const seen = await got(tab);
        const seqs = seen.events.message.map(([seq]) => seq);
        // The leader from the first event; the others from when they joined.
        const from = roles[i] === "leader" ? 1 : seqs[0];
        assert.ok(from <= 20, `tab ${i} joined in time: its first event is ${from}`);
        assertRun(seqs, from, 40, `tab ${i}`);
        // The same lastEventId as the leader's.
        assert.deepEqual(seen.events.message.map(([, id]) => id), seen.events.message.map(([seq]) => String(seq)));
        assert.equal(seen.state, "open", `tab ${i} mirrors the state`);
        assert.ok(seen.states.includes("open"), `tab ${i} heard "open": ${seen.states}`);
        assert.deepEqual(seen.errors, []);
        assert.equal(await tab.evaluate(() => client.lastEventId), "40");
      }
      const record = await stats(tabs[0], id);
      assert.equal(record.connections.length, 1, "one request for eight tabs");
      assert.equal(record.open, 1);
      for (const tab of tabs) assert.deepEqual(tab.problems, []);
    } finally {
      await context.close();
    }
  });

  test(`${transport}: the leader's tab closes mid-stream; the survivors' sequences have no gap`, async (browser) => {
    const { context, tabs } = await openTabs(browser, 4);
    try {
      const id = session("takeover");
      const url = `/sse?session=${id}&count=80&interval=25&then=hold`;
      await listenAll(tabs, url, { share: `takeover-${transport}-${id}`, transport });
      const leader = await leaderOf(tabs);
      await until(async () => (await count(leader)) >= 20, "20 events");
      await leader.close();
      const survivors = tabs.filter((tab) => tab !== leader);
      const last = async (tab) => (await got(tab)).events.message.at(-1)?.[0];
      await until(async () => (await Promise.all(survivors.map(last))).every((seq) => seq === 80), "the 80th event in every surviving tab");
      for (const tab of survivors) {
        const seqs = (await got(tab)).events.message.map(([seq]) => seq);
        assert.ok(seqs[0] < 20, `joined before the takeover: ${seqs[0]}`);
        assertRun(seqs, seqs[0], 80, "a survivor");
      }
      const roles = await Promise.all(survivors.map(roleOf));
      assert.equal(roles.filter((role) => role === "leader").length, 1, `a new leader: ${roles}`);
      const record = await stats(survivors[0], id);
      assert.equal(record.connections.length, 2, "the first leader's request and the new leader's");
      const resumed = Number(record.connections[1].last_event_id);
      assert.ok(resumed >= 20, `the new leader resumed from the last id seen, not ${resumed}`);
    } finally {
      await context.close();
    }
  });
}

test("a follower's close() ends that client only; the leader's close() hands the connection over", async (browser) => {
  const { context, tabs } = await openTabs(browser, 3);
  try {
    const id = session("close");
    const url = `/sse?session=${id}&count=90&interval=25&then=hold`;
    await listenAll(tabs, url, { share: `close-${id}` });
    const leader = await leaderOf(tabs);
    const [follower, other] = tabs.filter((tab) => tab !== leader);
    await until(async () => (await count(follower)) >= 10, "10 events");
    await follower.evaluate(() => client.close());
    const closed = await got(follower);
    assert.equal(closed.state, "closed");
    assert.equal(closed.states.at(-1), "closed");
    const stopped = closed.events.message.length;
    await until(async () => (await count(other)) >= 30, "30 events in the other tab");
    assert.equal(await count(follower), stopped, "a closed follower gets nothing more");
    assert.equal((await stats(leader, id)).connections.length, 1, "a follower's close() leaves the connection alone");

    await leader.evaluate(() => client.close());
    assert.equal(await leader.evaluate(() => client.state), "closed");
    await until(async () => (await roleOf(other)) === "leader", "the other tab takes over");
    await until(async () => (await got(other)).events.message.at(-1)?.[0] === 90, "the 90th event");
    const seqs = (await got(other)).events.message.map(([seq]) => seq);
    assertRun(seqs, seqs[0], 90, "the tab that took over");
    const record = await stats(other, id);
    assert.equal(record.connections.length, 2);
    await other.evaluate(() => client.close());
    await until(async () => (await stats(other, id)).open === 0, "the last client's close() ends the connection");
    for (const tab of tabs) assert.deepEqual(tab.problems, []);
  } finally {
    await context.close();
  }
});

test("a follower's handlers get a type only it listens to", async (browser) => {
  const { context, tabs } = await openTabs(browser, 2);
  try {
    const id = session("types");
    const url = `/sse?session=${id}&count=40&interval=40&types=tick,news&then=hold`;
    const share = `types-${id}`;
    await listen(tabs[0], url, { share }, ["tick"]);
    await until(async () => (await roleOf(tabs[0])) === "leader", "the first tab leads");
    await listen(tabs[1], url, { share }, ["news"]);
    await until(async () => (await count(tabs[1], "news")) >= 5, "news events in the follower");
    const seen = await got(tabs[1]);
    const news = seen.events.news.map(([seq]) => seq);
    // Every even event is news; from the first one the follower heard, none is missed.
    const first = news[0];
    assert.deepEqual(news, news.map((_, i) => first + 2 * i));
    assert.ok(news.every((seq) => seq % 2 === 0), `news only: ${news}`);
    // One read of the leader's record: ticks keep arriving between two reads.
    const ticks = (await got(tabs[0])).events.tick;
    assert.ok(ticks.length > 0, "the leader gets its ticks");
    assert.ok(ticks.every(([seq]) => seq % 2 === 1), "the leader gets its ticks only");
    assert.equal((await stats(tabs[0], id)).connections.length, 1);
  } finally {
    await context.close();
  }
});

test("two share names are two connections; share: true shares by URL", async (browser) => {
  const { context, tabs } = await openTabs(browser, 4);
  try {
    const [a, b] = [session("name-a"), session("name-b")];
    const urlA = `/sse?session=${a}&count=10&interval=20&then=hold`;
    const urlB = `/sse?session=${b}&count=10&interval=20&then=hold`;
    await Promise.all([
      listen(tabs[0], urlA, { share: true }),
      listen(tabs[1], urlA, { share: true }),
      listen(tabs[2], urlB, { share: `other-${b}` }),
      listen(tabs[3], urlB, { share: `other-${b}` }),
    ]);
    const last = async (tab) => (await got(tab)).events.message.at(-1)?.[0];
    await until(async () => (await Promise.all(tabs.map(last))).every((seq) => seq === 10), "the 10th event in every tab");
    assert.equal((await stats(tabs[0], a)).connections.length, 1);
    assert.equal((await stats(tabs[0], b)).connections.length, 1);
    assert.deepEqual((await Promise.all(tabs.map(roleOf))).sort(), ["follower", "follower", "leader", "leader"]);
  } finally {
    await context.close();
  }
});

test("a follower's reconnect() reconnects the shared connection, resuming", async (browser) => {
  const { context, tabs } = await openTabs(browser, 2);
  try {
    const id = session("reconnect");
    const url = `/sse?session=${id}&count=60&interval=25&then=hold`;
    await listenAll(tabs, url, { share: `reconnect-${id}` });
    const leader = await leaderOf(tabs);
    const follower = tabs.find((tab) => tab !== leader);
    await until(async () => (await count(follower)) >= 10, "10 events");
    await follower.evaluate(() => client.reconnect());
    await until(async () => (await stats(follower, id)).connections.length === 2, "a second request");
    await until(async () => (await got(follower)).events.message.at(-1)?.[0] === 60, "the 60th event");
    const seqs = (await got(follower)).events.message.map(([seq]) => seq);
    assertRun(seqs, seqs[0], 60, "the follower");
    assertRun((await got(leader)).events.message.map(([seq]) => seq), 1, 60, "the leader");
    assert.deepEqual((await got(follower)).errors, [], "a reconnect asked for is no error");
  } finally {
    await context.close();
  }
});

test("an end for good closes every client of the share, and nobody takes over", async (browser) => {
  const { context, tabs } = await openTabs(browser, 3);
  try {
    const id = session("fatal");
    // The fifth event is the end (endOnType of the leader's options, the same for all).
    const url = `/sse?session=${id}&count=10&interval=150&types=tick,tick,tick,tick,done&then=hold`;
    await listenAll(tabs, url, { share: `fatal-${id}`, endOnType: "done" }, ["tick", "done"]);
    await until(async () => (await Promise.all(tabs.map((tab) => tab.evaluate(() => client.state)))).every((state) => state === "closed"), "every client closed");
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const tab of tabs) {
      const seen = await got(tab);
      assert.equal(seen.events.tick.at(-1)?.[0], 4);
      assert.deepEqual(seen.events.done.map(([seq]) => seq), [5], "the end is delivered, then the client closes");
      assert.deepEqual(seen.errors, []);
      assert.equal(seen.states.at(-1), "closed");
    }
    const record = await stats(tabs[0], id);
    assert.equal(record.connections.length, 1, "nobody took over");
  } finally {
    await context.close();
  }
});

test("pauseWhenHiddenMs pauses a shared connection only when every sharing page is hidden", async (browser) => {
  const { context, tabs } = await openTabs(browser, 2);
  try {
    const id = session("pause");
    const url = `/sse?session=${id}&count=400&interval=40&then=hold`;
    await listenAll(tabs, url, { share: `pause-${id}`, pauseWhenHiddenMs: 200 });
    const leader = await leaderOf(tabs);
    const follower = tabs.find((tab) => tab !== leader);
    await until(async () => (await count(follower)) >= 5, "5 events");
    const state = (tab) => tab.evaluate(() => client.state);

    // The leader's page alone is hidden: a follower's page is visible, so no pause.
    await hide(leader);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(await state(leader), "open");
    assert.equal((await stats(leader, id)).open, 1);

    // Every page hidden: the shared connection pauses, for every client.
    await hide(follower);
    await until(async () => (await state(leader)) === "paused" && (await state(follower)) === "paused", "both paused");
    await until(async () => (await stats(leader, id)).open === 0, "the server to see the stream closed");
    const before = await count(follower);

    // A follower's page comes back: the leader resumes from the last id.
    await show(follower);
    await until(async () => (await state(follower)) === "open" && (await count(follower)) >= before + 3, "events after the pause");
    const seqs = (await got(follower)).events.message.map(([seq]) => seq);
    assertRun(seqs, seqs[0], seqs.at(-1), "the follower across the pause");
    const record = await stats(leader, id);
    assert.equal(record.connections.length, 2);
    assert.equal(record.connections[1].last_event_id, String(before + seqs[0] - 1), "resumed from the last id");
    assert.ok((await got(follower)).states.includes("paused"));
  } finally {
    await context.close();
  }
});

test("the leader's page goes into the back/forward cache: another takes over, and the restored page follows", async () => {
  // Playwright turns the back/forward cache off; this test needs it on.
  const browser = await launchChromium([], { bfcache: true });
  try {
    const { tabs } = await openTabs(browser, 2);
    const id = session("bfcache");
    const url = `/sse?session=${id}&count=400&interval=40&then=hold`;
    await listenAll(tabs, url, { share: `bfcache-${id}` });
    const leader = await leaderOf(tabs);
    const follower = tabs.find((tab) => tab !== leader);
    await until(async () => (await count(follower)) >= 5, "5 events");
    await leader.evaluate(() => {
      window.shows = [];
      window.addEventListener("pageshow", (event) => window.shows.push(event.persisted));
    });
    await leader.goto(`${server}/tests/csp.html`);
    await until(async () => (await roleOf(follower)) === "leader", "the other tab to take over", 5_000);
    const taken = await count(follower);
    await until(async () => (await count(follower)) >= taken + 5, "events from the new leader");
    const seqs = (await got(follower)).events.message.map(([seq]) => seq);
    assertRun(seqs, seqs[0], seqs.at(-1), "the tab that took over");
    assert.equal((await got(follower)).state, "open");

    await leader.goBack({ waitUntil: "commit" });
    const restored = await leader.evaluate(() => ({
      shows: window.shows,
      notRestored: performance.getEntriesByType("navigation")[0]?.notRestoredReasons ?? null,
    }));
    assert.deepEqual(restored.shows, [true], `restored from the cache: ${JSON.stringify(restored.notRestored)}`);
    assert.equal(await roleOf(leader), "follower", "a restored page follows the client that took over");
    const before = await count(leader);
    await until(async () => (await count(leader)) >= before + 3 && (await leader.evaluate(() => client.state)) === "open", "relayed events in the restored page");
    const record = await stats(follower, id);
    assert.equal(record.open, 1, "one connection serves both again");
    assert.equal(record.connections.length, 2);
    assert.ok(Number(record.connections[1].last_event_id) >= 5, "the takeover resumed");

    // The tab that took over closes: the restored page's connection, which stood by,
    // leads again and resumes from the newest id.
    const restoredFrom = await count(leader);
    await follower.close();
    await until(async () => (await roleOf(leader)) === "leader", "the restored page to lead again", 5_000);
    await until(async () => (await count(leader)) >= restoredFrom + 5, "events on its connection");
    const after = (await got(leader)).events.message.map(([seq]) => seq).slice(before);
    assertRun(after, after[0], after.at(-1), "the restored page, from its return");
    const last = await stats(leader, id);
    assert.equal(last.connections.length, 3);
    assert.equal(last.open, 1);
    assert.ok(Number(last.connections[2].last_event_id) >= Number(record.connections[1].last_event_id));
  } finally {
    await browser.close();
  }
});

test("without BroadcastChannel a client connects on its own: role solo", async (browser) => {
  const { context, tabs } = await openTabs(browser, 2);
  try {
    const id = session("solo");
    const url = `/sse?session=${id}&count=5&interval=20&then=hold`;
    for (const tab of tabs) {
      await tab.evaluate(() => delete window.BroadcastChannel);
      await listen(tab, url, { share: `solo-${id}` });
    }
    await until(async () => (await Promise.all(tabs.map((tab) => count(tab)))).every((n) => n === 5), "5 events in both tabs");
    assert.deepEqual(await Promise.all(tabs.map(roleOf)), ["solo", "solo"]);
    assert.equal((await stats(tabs[0], id)).connections.length, 2);
    // Without share the role is solo too.
    assert.equal(await tabs[0].evaluate(() => new SseClient("/sse?count=0").role), "solo");
  } finally {
    await context.close();
  }
});

test("share.js loads only for a client that shares; what a client does before it has loaded", async (browser) => {
  const context = await browser.newContext();
  const loads = [];
  context.on("request", (request) => {
    if (new URL(request.url()).pathname.endsWith("/share.js")) loads.push(request.url());
  });
  try {
    const id = session("lazy");
    const url = `/sse?session=${id}&count=40&interval=25&then=hold`;
    // A page whose client does not share never asks for the sharing script.
    const solo = await openTab(context);
    await listen(solo, `/sse?session=${id}-solo&count=3`, {});
    await until(async () => (await count(solo)) === 3, "3 events without share");
    assert.deepEqual(loads, [], "no request for share.js without share");

    // A reconnect() asked for before the script has loaded reaches the leader once the
    // client has joined; a client closed before then never joins, and says "closed" once.
    const [leader, follower] = [await openTab(context), await openTab(context)];
    await listen(leader, url, { share: `lazy-${id}` });
    await until(async () => (await roleOf(leader)) === "leader", "the first tab leads");
    await until(async () => (await count(leader)) >= 5, "5 events");
    const early = await follower.evaluate((name) => {
      const gone = new SseClient("/sse?count=0", { share: `${name}-gone` });
      const states = [];
      gone.onState((state) => states.push(state));
      gone.close();
      window.gone = { client: gone, states };
      return { role: gone.role, state: gone.state };
    }, `lazy-${id}`);
    assert.deepEqual(early, { role: "follower", state: "closed" });
    await listen(follower, url, { share: `lazy-${id}` }, ["message"], { reconnect: true });
    await until(async () => (await stats(follower, id)).connections.length === 2, "the leader reconnects");
    await until(async () => (await got(follower)).events.message.at(-1)?.[0] === 40, "the 40th event");
    assert.equal(await roleOf(follower), "follower");
    assert.deepEqual(await follower.evaluate(() => window.gone.states), ["closed"]);
    const held = await follower.evaluate(async (name) => {
      const { held, pending } = await navigator.locks.query();
      return [...held, ...pending].filter((lock) => lock.name === `sse-wasm:${name}-gone`).length;
    }, `lazy-${id}`);
    assert.equal(held, 0, "the closed client never queued for the lock");
    assert.equal(loads.length, 2, "share.js loaded once per page that shares");

    // Where the script cannot be loaded, a sharing client connects on its own.
    await context.route("**/share.js", (route) => route.abort());
    const cut = await openTab(context);
    await listen(cut, `/sse?session=${id}-cut&count=3`, { share: `cut-${id}` });
    await until(async () => (await count(cut)) === 3, "3 events when share.js cannot load");
    assert.equal(await roleOf(cut), "solo");
    for (const tab of [solo, leader, follower]) assert.deepEqual(tab.problems, []);
  } finally {
    await context.close();
  }
});

await run({ setup: () => launchChromium(), teardown: (browser) => browser?.close() });
