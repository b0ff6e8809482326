// The stock ticker: one row per symbol with price, change and a live sparkline.
// Fed by the snapshot (history included) and then by `tick` events.
import { drawSparkline, sparkline } from "./sparkline.js";
import { byId, fmtPrice, fmtSigned, h } from "./util.js";

const HISTORY = 60;

export function markets() {
  const list = byId("quotes");
  const rows = new Map();

  function row(quote) {
    const spark = sparkline({ width: 120, height: 34, area: true, label: `${quote.symbol} price trend` });
    const price = h("span", { class: "price" });
    const change = h("span", { class: "change" });
    const element = h(
      "li",
      { class: "quote", dataset: { symbol: quote.symbol } },
      h("span", { class: "sym" }, h("b", {}, quote.symbol), h("small", {}, quote.name)),
      h("span", { class: "trend" }, spark),
      price,
      change,
    );
    return { element, spark, price, change, open: quote.open, history: [], value: null };
  }

  function render(r, direction) {
    r.price.textContent = fmtPrice(r.value);
    const diff = r.value - r.open;
    const pct = (diff / r.open) * 100;
    r.change.textContent = `${fmtSigned(diff)} (${fmtSigned(pct)}%)`;
    const trend = diff > 0.004 ? "up" : diff < -0.004 ? "down" : "flat";
    r.element.dataset.trend = trend;
    drawSparkline(r.spark, r.history, { baseline: r.open });
    if (direction) {
      // Restart the flash animation.
      r.price.classList.remove("flash-up", "flash-down");
      void r.price.offsetWidth;
      r.price.classList.add(direction > 0 ? "flash-up" : "flash-down");
    }
  }

  return {
    snapshot(quotes) {
      list.replaceChildren();
      rows.clear();
      for (const quote of quotes) {
        const r = row(quote);
        r.history = quote.history.slice(-HISTORY);
        r.value = quote.price;
        rows.set(quote.symbol, r);
        list.append(r.element);
        render(r, 0);
      }
    },
    tick(tick) {
      const r = rows.get(tick.symbol);
      if (!r) return;
      const direction = Math.sign(tick.price - r.value);
      r.value = tick.price;
      r.history.push(tick.price);
      if (r.history.length > HISTORY) r.history.splice(0, r.history.length - HISTORY);
      render(r, direction);
    },
  };
}
