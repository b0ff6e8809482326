// The live demo (`make demo`) end to end: the real server serving www/ and the built
// package, the page in headless Chromium, driven like a person would. The ticker
// moves, the two-factor approval reaches the right user only, a dropped connection
// and an outage resume with no gap and no duplicate, three tabs share one connection
// and survive the leader's tab closing, nothing is logged as an error, and the page
// fits a laptop and a phone. Screenshots go to target/demo.png and
// target/demo-phone.png (the README's docs/demo.png is a copy of the first).
//
// It starts its own sse-server (SSE_SERVER_BIN) so the generators and the drop
// control are its alone; without SSE_SERVER_BIN it uses SSE_TEST_SERVER.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, run, serverAddress, startServer, test, watchPage } from "./harness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const shots = process.env.DEMO_SCREENSHOT_DIR || join(root, "target");
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** The suite's own server when `make test` gives its binary, else SSE_TEST_SERVER's. */
async function demoServer() {
  if (!process.env.SSE_SERVER_BIN) return { address: serverAddress(), stop() {} };
  const pkg = process.env.PKG_DIR ? resolve(root, process.env.PKG_DIR) : join(root, "pkg");
  return startServer(["--www", join(root, "www"), "--pkg", pkg]);
}

async function openDemo(browser, address, viewport) {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const problems = watchPage(page);
  await page.goto(`${address}/`);
  await page.waitForFunction(() => window.demo && demo.client.state === "open" && demo.tracker.received >= 3, null, {
    timeout: 15_000,
  });
  return { page, problems };
}

/** What the page shows and what its sequence tracker counted. */
function readout(page) {
  return page.evaluate(() => ({
    state: demo.client.state,
    states: [...demo.states],
    lastEventId: demo.client.lastEventId,
    gaps: demo.tracker.gaps,
    duplicates: demo.tracker.duplicates,
    received: demo.tracker.received,
    resumes: demo.tracker.resumes,
    lastResume: demo.tracker.lastResume,
    recent: [...demo.tracker.recent],
    shown: {
      gaps: document.getElementById("gaps").textContent,
      duplicates: document.getElementById("duplicates").textContent,
      lastId: document.getElementById("last-id").textContent,
      retry: document.getElementById("retry").textContent,
      badge: document.getElementById("badge").dataset.state,
    },
  }));
}

/** The sequence numbers received are consecutive, each once, and the page says so too. */
function assertGapFree(r) {
  assert.ok(r.recent.length > 0);
  for (let i = 1; i < r.recent.length; i++) {
    assert.equal(r.recent[i], r.recent[i - 1] + 1, `sequence breaks at index ${i}: ${r.recent.slice(Math.max(0, i - 3), i + 3)}`);
  }
  assert.equal(r.gaps, 0);
  assert.equal(r.duplicates, 0);
  assert.equal(r.shown.gaps, "0");
  assert.equal(r.shown.duplicates, "0");
  assert.equal(r.shown.lastId, `#${r.recent.at(-1)}`);
  assert.equal(r.lastEventId, String(r.recent.at(-1)));
}

function loginStatus(page, user) {
  return page.$eval(`#logins li[data-user="${user}"]`, (li) => li.dataset.status);
}

let server;
let browser;
let laptop;

test("the page opens one live connection and fills every panel", async () => {
  const { page } = laptop;
  const shown = await page.evaluate(() => ({
    quotes: [...document.querySelectorAll("#quotes .quote")].map((li) => li.dataset.symbol),
    news: document.querySelectorAll("#news li").length,
    notes: document.querySelectorAll("#notes li").length,
    cpu: document.getElementById("cpu").textContent,
    connections: document.getElementById("connections").textContent,
    badge: document.getElementById("badge-text").textContent,
  }));
  assert.deepEqual(shown.quotes, ["ACME", "BOLT", "CRAB", "ORBT", "NOVA"]);
  assert.ok(shown.news >= 3, `${shown.news} headlines`);
  assert.ok(shown.notes >= 3, `${shown.notes} notifications`);
  assert.match(shown.cpu, /^\d+$/);
  assert.ok(Number(shown.connections) >= 1, `connections ${shown.connections}`);
  assert.match(shown.badge, /^Live · #\d+$/);
  assertGapFree(await readout(page));
});

test("the ticker's prices change and the sparklines follow", async () => {
  const { page } = laptop;
  const prices = () =>
    page.$$eval("#quotes .quote", (rows) =>
      Object.fromEntries(rows.map((row) => [row.dataset.symbol, row.querySelector(".price").textContent])),
    );
  const lines = () => page.$$eval("#quotes .spark-line", (paths) => paths.map((p) => p.getAttribute("d")));
  const before = await prices();
  const linesBefore = await lines();
  const uptimeBefore = await page.textContent("#uptime");
  await page.waitForFunction(
    (old) => {
      const rows = [...document.querySelectorAll("#quotes .quote")];
      return rows.filter((row) => row.querySelector(".price").textContent !== old[row.dataset.symbol]).length >= 3;
    },
    before,
    { timeout: 15_000 },
  );
  const after = await prices();
  for (const value of Object.values(after)) assert.match(value, /^\d{1,3}(,\d{3})*\.\d{2}$/);
  const linesAfter = await lines();
  assert.ok(linesAfter.every((d) => (d.match(/L/g) || []).length === 59), "60 points per sparkline");
  assert.ok(linesAfter.filter((d, i) => d !== linesBefore[i]).length >= 3, "sparklines redrawn");
  // The status panel ticks every second.
  await page.waitForFunction((old) => document.getElementById("uptime").textContent !== old, uptimeBefore, {
    timeout: 5_000,
  });
});

test("a forced drop: the client reconnects and resumes with no gap and no duplicate", async () => {
  const { page } = laptop;
  const before = await readout(page);
  const opens = before.states.filter((s) => s === "open").length;
  await page.click("#drop");
  await page.waitForFunction((n) => demo.states.filter((s) => s === "open").length > n, opens, { timeout: 10_000 });
  await page.waitForFunction((n) => demo.tracker.resumes > 0 && demo.tracker.received >= n + 8, before.received, {
    timeout: 10_000,
  });
  const after = await readout(page);
  assert.deepEqual(after.states.slice(before.states.length, before.states.length + 3), ["reconnecting", "connecting", "open"]);
  assert.equal(after.resumes, before.resumes + 1);
  // The server resumed from the last id the page had seen.
  assert.ok(after.lastResume.from >= Number(before.lastEventId), JSON.stringify(after.lastResume));
  assert.equal(after.lastResume.missed, 0);
  assertGapFree(after);
  assert.match(await page.textContent("#resume-note"), /^resumed after #\d+: \d+ replayed$/);
});

test("two-factor sign-in: the approval reaches the approved user only", async () => {
  const { page } = laptop;
  for (const user of ["alice", "bob"]) {
    await page.fill("#user", user);
    await page.click("#login button[type=submit]");
  }
  for (const user of ["alice", "bob"]) {
    await page.waitForSelector(`#logins li[data-user="${user}"][data-status="waiting"]`, { timeout: 10_000 });
    await page.waitForSelector(`#requests li[data-user="${user}"]`, { timeout: 10_000 });
  }
  // The number on the phone matches the one on the login.
  const codes = await page.evaluate(() =>
    ["alice", "bob"].map((user) => [
      document.querySelector(`#logins li[data-user="${user}"] .code`).textContent,
      document.querySelector(`#requests li[data-user="${user}"] .code`).textContent,
    ]),
  );
  for (const [login, phone] of codes) {
    assert.match(login, /^\d\d$/);
    assert.equal(login, phone);
  }

  await page.click('#requests li[data-user="bob"] button[data-action="approve"]');
  await page.waitForSelector('#logins li[data-user="bob"][data-status="complete"]', { timeout: 10_000 });
  assert.match(await page.textContent('#logins li[data-user="bob"] .status'), /^Signed in at /);
  // Alice's stream got nothing: still waiting, still on the phone.
  await page.waitForTimeout(1500);
  assert.equal(await loginStatus(page, "alice"), "waiting");
  assert.equal(await page.$$eval('#requests li[data-user="alice"]', (l) => l.length), 1);
  assert.equal(await page.$$eval('#requests li[data-user="bob"]', (l) => l.length), 0);

  mkdirSync(shots, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "demo.png"), animations: "disabled" });

  await page.click('#requests li[data-user="alice"] button[data-action="approve"]');
  await page.waitForSelector('#logins li[data-user="alice"][data-status="complete"]', { timeout: 10_000 });
  assert.equal(await page.isVisible("#no-requests"), true);
  // Nobody is waiting any more: a second approval finds no stream. (Asked from here,
  // not from the page, where a 404 would be logged as an error.)
  const again = await fetch(`${server.address}/demo/2fa/approve?user=bob`, { method: "POST" });
  assert.equal(again.status, 404);
}, { timeoutMs: 45_000 });

test("an outage: the retries back off, count down, and the stream resumes with every missed event", async () => {
  const { page } = laptop;
  const before = await readout(page);
  await page.click("#outage");
  // Watch the badge and the panel while the server turns the tab away.
  await page.waitForFunction(() => Number(document.getElementById("retry").textContent) >= 3, null, { timeout: 15_000 });
  // Read in one go while reconnecting (between attempts the state is "connecting"
  // or "open" for a few milliseconds).
  const during = await (
    await page.waitForFunction(
      () => {
        if (demo.client.state !== "reconnecting") return null;
        const shown = {
          countdown: document.getElementById("countdown").textContent,
          badge: document.getElementById("badge-text").textContent,
          detail: document.getElementById("conn-detail").textContent,
        };
        return /^\d+\.\d s$/.test(shown.countdown) ? shown : null;
      },
      null,
      { timeout: 10_000 },
    )
  ).jsonValue();
  assert.match(during.badge, /^Reconnecting · \d+\.\d s$/);
  assert.match(during.detail, /^Server turns this tab away for \d s more\. Attempt \d+ in \d+\.\d s, resuming after #\d+$/);
  await page.waitForFunction((n) => demo.tracker.resumes > n && demo.client.state === "open", before.resumes, {
    timeout: 30_000,
  });
  await page.waitForFunction((n) => demo.tracker.received >= n + 5, (await readout(page)).received, { timeout: 10_000 });
  const after = await readout(page);
  // Six seconds of events were missed and replayed in order.
  assert.ok(after.lastResume.replayed >= 10, JSON.stringify(after.lastResume));
  assert.equal(after.lastResume.missed, 0);
  assertGapFree(after);
  // Once events flow again the retry count is back to 0.
  assert.equal(after.shown.retry, "0");
}, { timeoutMs: 60_000 });

test("the page fits a laptop and a phone without sideways scrolling", async () => {
  const { page } = laptop;
  const laptopFit = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    cardTops: [...document.querySelectorAll(".card")].map((card) => Math.round(card.getBoundingClientRect().top + window.scrollY)),
  }));
  assert.ok(laptopFit.scrollWidth <= LAPTOP.width, `scrollWidth ${laptopFit.scrollWidth}`);
  assert.equal(laptopFit.cardTops.length, 6);
  assert.ok(laptopFit.cardTops.every((top) => top < LAPTOP.height), `all six panels start above the fold: ${laptopFit.cardTops}`);

  const phone = await openDemo(browser, server.address, PHONE);
  try {
    const fit = await phone.page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      wide: [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((el) => el.id || el.className || el.tagName)
        .slice(0, 5),
    }));
    assert.ok(fit.scrollWidth <= PHONE.width, `scrollWidth ${fit.scrollWidth}; too wide: ${fit.wide}`);
    assert.deepEqual(fit.wide, []);
    await phone.page.screenshot({ path: join(shots, "demo-phone.png"), fullPage: true, animations: "disabled" });
    assert.deepEqual(phone.problems, []);
  } finally {
    await phone.page.close();
  }
});

test("three tabs share one connection; the leader's tab closes and another takes over", async () => {
  // A server of its own, so that the connections it counts are these tabs' alone.
  const own = await demoServer();
  const context = await browser.newContext({ viewport: LAPTOP });
  try {
    const tabs = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      const problems = watchPage(page);
      await page.goto(`${own.address}/`);
      tabs.push({ page, problems });
    }
    // What the Connection panel says of a role (it looks again every 500 ms).
    const ROLE_TEXT = { leader: "Leader", follower: "Follower" };
    // What a tab shows; null until its script has started (window.demo is set).
    const shown = (page) =>
      page.evaluate(() =>
        window.demo
          ? {
              role: demo.client.role,
              roleText: document.getElementById("role").textContent,
              tabs: document.getElementById("tabs").textContent,
              connections: document.getElementById("connections").textContent,
              quotes: document.querySelectorAll("#quotes .quote").length,
              received: demo.tracker.received,
            }
          : null,
      );
    const settled = async (pages, leaders) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const all = await Promise.all(pages.map(({ page }) => shown(page)));
        const ready =
          all.every((s) => s !== null && s.roleText === ROLE_TEXT[s.role]) &&
          all.filter((s) => s.role === "leader").length === leaders &&
          all.every((s) => s.tabs === String(pages.length) && s.connections === "1" && s.quotes === 5 && s.received >= 3);
        if (ready) return all;
        if (Date.now() > deadline) throw new Error(`the tabs did not settle: ${JSON.stringify(all)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const before = await settled(tabs, 1);
    assert.deepEqual(before.map((s) => s.roleText).sort(), ["Follower", "Follower", "Leader"]);
    await tabs[0].page.screenshot({ path: join(shots, "demo-shared.png") });

    const leader = tabs[before.findIndex((s) => s.role === "leader")];
    await leader.page.close();
    const survivors = tabs.filter((tab) => tab !== leader);
    const marks = await Promise.all(survivors.map(({ page }) => page.evaluate(() => demo.tracker.received)));
    const after = await settled(survivors, 1);
    assert.deepEqual(after.map((s) => s.roleText).sort(), ["Follower", "Leader"]);
    // Events keep coming in every surviving tab, with no gap and no duplicate.
    for (const [i, { page, problems }] of survivors.entries()) {
      await page.waitForFunction((mark) => demo.tracker.received >= mark + 3, marks[i], { timeout: 15_000 });
      const r = await readout(page);
      assert.equal(r.gaps, 0, "gaps");
      assert.equal(r.duplicates, 0, "duplicates");
      assert.equal(r.shown.gaps, "0");
      assert.equal(r.shown.duplicates, "0");
      assert.deepEqual(problems, []);
    }
  } finally {
    await context.close();
    own.stop();
  }
});

test("nothing was logged as an error", async () => {
  assert.deepEqual(laptop.problems, []);
});

await run({
  async setup() {
    server = await demoServer();
    browser = await launchChromium();
    laptop = await openDemo(browser, server.address, LAPTOP);
  },
  async teardown() {
    if (browser) await browser.close();
    if (server) server.stop();
  },
});
