// Sparklines as inline SVG: a line, an optional soft area under it, and a dot at
// the latest value. The SVG scales to its box (viewBox + preserveAspectRatio="none");
// strokes keep their width through vector-effect.
import { svg } from "./util.js";

/** Creates an empty sparkline; update it with `drawSparkline`. */
export function sparkline({ width = 120, height = 32, area = false, label = "" } = {}) {
  const root = svg("svg", {
    class: "spark",
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": label,
  });
  const fill = svg("path", { class: "spark-area" });
  const line = svg("path", { class: "spark-line", "vector-effect": "non-scaling-stroke" });
  if (area) root.append(fill);
  root.append(line);
  root.sparkline = { width, height, line, fill: area ? fill : null };
  return root;
}

/**
 * Draws `values` into a sparkline made by `sparkline()`. `baseline` (e.g. the
 * opening price) is kept inside the vertical range, so the line's position says
 * whether the value is above or below it. `min`/`max` fix the range instead.
 */
export function drawSparkline(root, values, { baseline, min, max } = {}) {
  const { width, height, line, fill } = root.sparkline;
  if (values.length < 2) {
    line.setAttribute("d", "");
    if (fill) fill.setAttribute("d", "");
    return;
  }
  let lo = min ?? Math.min(...values);
  let hi = max ?? Math.max(...values);
  if (baseline !== undefined) {
    lo = Math.min(lo, baseline);
    hi = Math.max(hi, baseline);
  }
  if (hi - lo < 1e-9) {
    hi += 1;
    lo -= 1;
  }
  const pad = 2;
  const x = (i) => (i / (values.length - 1)) * width;
  const y = (v) => pad + (1 - (v - lo) / (hi - lo)) * (height - 2 * pad);
  const points = values.map((v, i) => `${x(i).toFixed(2)},${y(v).toFixed(2)}`);
  line.setAttribute("d", `M${points.join("L")}`);
  if (fill) fill.setAttribute("d", `M0,${height}L${points.join("L")}L${width},${height}Z`);
}
