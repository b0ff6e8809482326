// The server-status panel: CPU load with a sparkline, open connections (real: the
// demo's open streams), requests per second, memory and uptime. `status` events
// arrive every second.
import { drawSparkline, sparkline } from "./sparkline.js";
import { byId, fmtUptime } from "./util.js";

const HISTORY = 60;

export function status() {
  const chart = sparkline({ width: 240, height: 64, area: true, label: "CPU load, last minute" });
  byId("cpu-chart").append(chart);
  const cpu = byId("cpu");
  const connections = byId("connections");
  const rps = byId("rps");
  const memory = byId("memory");
  const memoryBar = byId("memory-bar");
  const uptime = byId("uptime");
  const age = byId("status-age");
  let history = [];
  let lastAt = 0;

  setInterval(() => {
    if (!lastAt) return;
    const s = Math.round((Date.now() - lastAt) / 1000);
    age.textContent = s <= 1 ? "live" : `last update ${s} s ago`;
    age.dataset.stale = s > 3 ? "true" : "false";
  }, 500);

  function show(reading) {
    cpu.textContent = Math.round(reading.cpu);
    cpu.parentElement.dataset.level = reading.cpu >= 80 ? "high" : reading.cpu >= 60 ? "mid" : "low";
    connections.textContent = reading.connections;
    rps.textContent = reading.rps.toLocaleString("en-US");
    memory.textContent = `${reading.memory.toFixed(1)}%`;
    memoryBar.style.width = `${Math.min(100, reading.memory)}%`;
    uptime.textContent = fmtUptime(reading.uptimeS);
    drawSparkline(chart, history, { min: 0, max: 100 });
    lastAt = Date.now();
    age.textContent = "live";
    age.dataset.stale = "false";
  }

  return {
    snapshot(reading, cpuHistory) {
      history = cpuHistory.slice(-HISTORY);
      if (reading) show(reading);
      else drawSparkline(chart, history, { min: 0, max: 100 });
    },
    status(reading) {
      history.push(reading.cpu);
      if (history.length > HISTORY) history.splice(0, history.length - HISTORY);
      show(reading);
    },
  };
}
