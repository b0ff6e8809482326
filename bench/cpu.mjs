// CPU time by part of the bench, from Linux's /proc, for the page's `cpu` group: the
// scripted server, the page's main thread, the page's other threads, the browser's
// network process, and the rest of Chromium (the browser process, the GPU process…).
// Elsewhere than Linux every part reads 0.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export const CPU_PARTS = ["server", "page main thread", "page, other threads", "network process", "rest of Chromium"];

const MS_PER_TICK = (() => {
  try {
    return 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  } catch {
    return 10;
  }
})();

const read = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** The fields of a /proc stat line after the command name (which may hold spaces). */
const statFields = (stat) => stat.slice(stat.lastIndexOf(")") + 2).split(" ");

/** Every process under `root`, `root` included (Chromium's zygote forks its renderers). */
function processTree(root) {
  const children = new Map();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    const parent = statFields(read(`/proc/${pid}/stat`))[1];
    if (parent) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const tree = [];
  const next = [String(root)];
  while (next.length) {
    const pid = next.pop();
    tree.push(pid);
    next.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** A Chromium process's part: by its `--type`, and for a renderer, by thread. */
function chromiumPart(commandLine, pid, tid) {
  if (commandLine.includes("--type=renderer")) return tid === pid ? "page main thread" : "page, other threads";
  if (commandLine.includes("NetworkService") || commandLine.includes("utility-sub-type=network")) {
    return "network process";
  }
  return "rest of Chromium";
}

/** Milliseconds of CPU used so far by each part. */
export function cpuByPart(browserPid, serverPid) {
  const used = Object.fromEntries(CPU_PARTS.map((part) => [part, 0]));
  let tree = [];
  try {
    tree = processTree(browserPid);
  } catch {
    return used;
  }
  const processes = tree.map((pid) => {
    const commandLine = read(`/proc/${pid}/cmdline`);
    return [pid, (tid) => chromiumPart(commandLine, pid, tid)];
  });
  if (serverPid) processes.push([String(serverPid), () => "server"]);
  for (const [pid, partOf] of processes) {
    let threads = [];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of threads) {
      const fields = statFields(read(`/proc/${pid}/task/${tid}/stat`));
      // utime and stime, fields 14 and 15 of stat(5).
      const ticks = Number(fields[11]) + Number(fields[12]);
      if (Number.isFinite(ticks)) used[partOf(tid)] += ticks * MS_PER_TICK;
    }
  }
  return used;
}

/** Each part's CPU per run between two readings. */
export function cpuPerRun(before, after, runs) {
  return Object.fromEntries(CPU_PARTS.map((part) => [part, (after[part] - before[part]) / runs]));
}
