// Gatefold admin page charts: hand-drawn SVG sized to the pixel width of each chart's box, so
// text stays at its CSS size on a phone and on a desktop (no viewBox shrinking labels).
// Served under the page's strict CSP: every node is built with createElementNS and plain
// attributes, never a style attribute or inline markup.
//
//   Charts.render(stats, rootElement, { lang, t })
//
// `stats` is the admin API's GalleryStats; `t` is the page's string lookup (used for the
// strings the page already has, e.g. "noData"); chart captions live in STRINGS below.
"use strict";
window.Charts = (() => {
  const STRINGS = {
    en: {
      days: "Admitted opens per day, {tz}", hours: "Admitted opens by weekday and hour, {tz}",
      countries: "Admitted opens by country or region", cities: "Admitted opens by city", devices: "Admitted opens by device type",
      os: "Admitted opens by operating system", browsers: "Admitted opens by browser", referrers: "Admitted opens by referring site",
      images: "Full-size views and downloads per image", links: "Admitted opens per link",
      opensOne: "{n} open", opensOther: "{n} opens", item: "{label}: {value}",
      range: "{first} – {last} · {days} days · {total}", busiest: "Busiest hour: {day} {from}–{to} · {opens}",
      legend: "Opens in the hour:", views: "Full-size views", downloads: "Downloads", more: "and {n} more",
      dev_desktop: "Desktop", dev_mobile: "Phone", dev_tablet: "Tablet", dev_bot: "Bot", dev_other: "Other",
      unknown: "unknown", direct: "(direct)",
    },
    "zh-CN": {
      days: "每日打开次数（不含被拒绝），{tz} 时间", hours: "按星期和小时的打开次数，{tz} 时间",
      countries: "按国家/地区的打开次数", cities: "按城市的打开次数", devices: "按设备类型的打开次数",
      os: "按操作系统的打开次数", browsers: "按浏览器的打开次数", referrers: "按来源网站的打开次数",
      images: "每张图片的大图查看和下载次数", links: "各链接的打开次数",
      opensOne: "{n} 次打开", opensOther: "{n} 次打开", item: "{label}：{value}",
      range: "{first} 至 {last} · 共 {days} 天 · {total}", busiest: "最忙时段：{day} {from}–{to} · {opens}",
      legend: "每小时打开次数：", views: "大图查看", downloads: "下载", more: "另有 {n} 项",
      dev_desktop: "电脑", dev_mobile: "手机", dev_tablet: "平板", dev_bot: "机器人", dev_other: "其他",
      unknown: "未知", direct: "直接访问",
    },
  };
  const SVG = "http://www.w3.org/2000/svg";
  const LEVELS = 4;

  let last = null;
  let observed = null;

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text != null) node.textContent = String(text);
    return node;
  }

  function html(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  /** One drawing pass: language, strings and formatters. */
  function context(stats, { lang, t }) {
    const own = STRINGS[lang] || STRINGS.en;
    const s = (key, vars = {}) => (own[key] ?? STRINGS.en[key] ?? t(key)).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
    const plural = new Intl.PluralRules(lang);
    const num = new Intl.NumberFormat(lang);
    const opens = (n) => s(plural.select(n) === "one" ? "opensOne" : "opensOther", { n: num.format(n) });
    // Day keys are already local dates of the site timezone: format them as UTC dates so the
    // browser's own zone never shifts them.
    const date = (key, opts) => new Intl.DateTimeFormat(lang, { ...opts, timeZone: "UTC" }).format(new Date(`${key}T00:00:00Z`));
    const weekdays = [...Array(7)].map((_, i) => new Intl.DateTimeFormat(lang, { weekday: "short", timeZone: "UTC" }).format(new Date(Date.UTC(2024, 0, 1 + i))));
    let regions = null;
    try { regions = new Intl.DisplayNames([lang], { type: "region" }); } catch { /* older engines: codes only */ }
    return { lang, t, s, num, opens, date, weekdays, regions, tz: stats.timezone || "UTC" };
  }

  /** The drawable width of a chart box in CSS pixels. */
  function widthOf(box) {
    const w = Math.floor(box.clientWidth);
    return w > 0 ? w : 640;
  }

  /** Rough rendered width of `text` at `px`: CJK characters are square, Latin about half. */
  function textWidth(text, px) {
    let w = 0;
    for (const ch of String(text)) w += ch.codePointAt(0) > 0x2e80 ? px : px * 0.6;
    return w;
  }

  function fit(text, px, room) {
    if (textWidth(text, px) <= room) return text;
    let out = "";
    for (const ch of String(text)) {
      if (textWidth(`${out}${ch}…`, px) > room) break;
      out += ch;
    }
    return `${out}…`;
  }

  /** Says what the chart counts; from the first drawing on the caption is the chart's own. */
  function caption(box, text) {
    const cap = box.closest("figure")?.querySelector("figcaption");
    if (!cap) return;
    cap.removeAttribute("data-i18n");
    cap.textContent = text;
  }

  function empty(box, cx) {
    box.replaceChildren(html("p", { class: "empty" }, cx.t("noData")));
  }

  /** Integer ticks 0, step, … ≥ max: step 1, 2 or 5 × 10^k, about `want` of them. */
  function ticks(max, want) {
    const raw = Math.max(1, max / want);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const top = Math.max(step, Math.ceil(max / step) * step);
    const out = [];
    for (let v = 0; v <= top; v += step) out.push(v);
    return out;
  }

  // Opens per day: a column per day of the range, zero days included, columns at most 36 px
  // wide so a short range stays a few narrow columns rather than one slab.
  function days(box, stats, cx) {
    caption(box, cx.s("days", { tz: cx.tz }));
    const series = stats.opens_per_day || [];
    const total = series.reduce((n, d) => n + d.count, 0);
    if (!series.length || !total) return empty(box, cx);
    const W = widthOf(box), phone = W < 500;
    const H = phone ? 190 : 230;
    const max = Math.max(...series.map((d) => d.count));
    const yTicks = ticks(max, phone ? 3 : 5);
    const top = yTicks[yTicks.length - 1];
    const left = Math.max(24, textWidth(cx.num.format(top), 11) + 10);
    const m = { top: 16, right: 8, bottom: 26, left };
    const plotW = W - m.left - m.right, plotH = H - m.top - m.bottom;
    const n = series.length;
    const band = plotW / n;
    const barW = band < 4 ? band : Math.min(36, band * 0.7);
    const y = (v) => m.top + plotH - (plotH * v) / top;
    const root = svg("svg", { class: "gf-chart gf-days", width: W, height: H, viewBox: `0 0 ${W} ${H}`, "aria-label": cx.s("days", { tz: cx.tz }) });

    const axis = svg("g", { class: "y-axis", "aria-hidden": "true" });
    for (const v of yTicks) {
      axis.append(svg("line", { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v), class: v ? "grid" : "baseline" }));
      axis.append(svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, cx.num.format(v)));
    }
    root.append(axis);

    const labels = dateLabels(series.map((d) => d.key), plotW, cx);
    const full = { weekday: "short", year: "numeric", month: "short", day: "numeric" };
    series.forEach((d, i) => {
      const x0 = m.left + i * band;
      const label = cx.s("item", { label: cx.date(d.key, full), value: cx.opens(d.count) });
      const g = svg("g", { "data-key": d.key, "data-count": d.count, role: "img", "aria-label": label });
      g.append(svg("title", {}, label));
      g.append(svg("rect", { x: x0, y: m.top, width: band, height: plotH, class: "hit", fill: "transparent" }));
      const h = y(0) - y(d.count);
      if (d.count) g.append(svg("rect", { x: x0 + (band - barW) / 2, y: y(d.count), width: barW, height: h, class: "bar", rx: barW > 6 ? 2 : 0 }));
      if (d.count && band >= textWidth(cx.num.format(d.count), 11) + 4) {
        g.append(svg("text", { x: x0 + band / 2, y: y(d.count) - 4, "text-anchor": "middle", class: "value" }, cx.num.format(d.count)));
      }
      if (labels.has(i)) {
        const cx0 = x0 + band / 2;
        const name = labels.get(i);
        const half = textWidth(name, 11) / 2;
        g.append(svg("line", { x1: cx0, x2: cx0, y1: y(0), y2: y(0) + 4, class: "tick-mark" }));
        const anchor = cx0 - half < 0 ? "start" : cx0 + half > W ? "end" : "middle";
        const tx = anchor === "start" ? 0 : anchor === "end" ? W : cx0;
        g.append(svg("text", { x: tx, y: H - 8, "text-anchor": anchor, class: "tick x-tick" }, name));
      }
      root.append(g);
    });
    const long = { year: "numeric", month: "short", day: "numeric" };
    const note = html("p", { class: "chart-note" },
      cx.s("range", { first: cx.date(series[0].key, long), last: cx.date(series[n - 1].key, long), days: cx.num.format(n), total: cx.opens(total) }));
    box.replaceChildren(root, note);
  }

  /**
   * Which days of a series get a date label (index → text), as many as fit `plotW` without
   * touching: up to a few weeks, every k-th day counted back from the newest (always named);
   * longer, the first day of every m-th month, the year with January and the first label.
   */
  function dateLabels(keys, plotW, cx) {
    const n = keys.length;
    const dayFmt = { month: "short", day: "numeric" };
    const widest = Math.max(...[keys[0], keys[n - 1]].map((k) => textWidth(cx.date(k, dayFmt), 11))) + 14;
    const fits = Math.max(1, Math.floor(plotW / widest));
    const every = [1, 2, 3, 7, 14].find((k) => Math.ceil(n / k) <= fits);
    const out = new Map();
    if (every) {
      for (let i = n - 1; i >= 0; i -= every) out.set(i, cx.date(keys[i], dayFmt));
      return out;
    }
    const starts = keys.flatMap((k, i) => (k.endsWith("-01") ? [i] : []));
    const monthW = textWidth(cx.date("2026-09-01", { month: "short", year: "numeric" }), 11) + 14;
    const step = [1, 2, 3, 6, 12].find((m) => Math.ceil(starts.length / m) * monthW <= plotW) ?? 12;
    starts.filter((_, j) => j % step === 0).forEach((i, j) => {
      const withYear = j === 0 || keys[i].endsWith("-01-01");
      out.set(i, cx.date(keys[i], withYear ? { month: "short", year: "numeric" } : { month: "short" }));
    });
    if (!out.size) out.set(n - 1, cx.date(keys[n - 1], dayFmt));
    return out;
  }

  const pad2 = (h) => String(h).padStart(2, "0");
  const level = (count, max) => (count ? Math.max(1, Math.ceil((LEVELS * count) / max)) : 0);

  // Peak hours: weekday rows × 24 hour columns in the site timezone, shaded in LEVELS steps,
  // each cell naming its exact count; the legend gives each shade's range of counts.
  function hours(box, stats, cx) {
    caption(box, cx.s("hours", { tz: cx.tz }));
    const grid = stats.opens_by_weekday_hour || [];
    const total = grid.flat().reduce((n, c) => n + c, 0);
    if (grid.length !== 7 || !total) return empty(box, cx);
    const W = widthOf(box);
    const labelsW = Math.ceil(Math.max(...cx.weekdays.map((d) => textWidth(d, 12)))) + 8;
    const cellW = Math.max(8, Math.min(44, Math.floor((W - labelsW - 2) / 24)));
    const cellH = Math.max(16, Math.min(28, cellW));
    const gap = cellW >= 14 ? 2 : 1;
    const top = 18;
    const H = top + 7 * cellH;
    const gridW = labelsW + 24 * cellW;
    const max = Math.max(...grid.flat());
    const root = svg("svg", { class: "gf-chart gf-hours", width: gridW, height: H, viewBox: `0 0 ${gridW} ${H}`, "aria-label": cx.s("hours", { tz: cx.tz }) });
    const every = cellW >= 22 ? 1 : cellW >= 13 ? 2 : 3;
    const hoursRow = svg("g", { class: "x-axis", "aria-hidden": "true" });
    for (let h = 0; h < 24; h += every) {
      hoursRow.append(svg("text", { x: labelsW + h * cellW + cellW / 2, y: 12, "text-anchor": "middle", class: "tick" }, pad2(h)));
    }
    root.append(hoursRow);
    // Numbers in the cells only when every one fits; otherwise the title and legend say it.
    const valuesFit = cellW >= textWidth(cx.num.format(max), 10) + 6;
    let busiest = null;
    grid.forEach((row, d) => {
      const ry = top + d * cellH;
      root.append(svg("text", { x: 0, y: ry + cellH / 2 + 4, class: "tick weekday", "aria-hidden": "true" }, cx.weekdays[d]));
      row.forEach((count, h) => {
        const label = cx.s("item", { label: `${cx.weekdays[d]} ${pad2(h)}:00–${pad2(h + 1)}:00`, value: cx.opens(count) });
        const lv = level(count, max);
        const g = svg("g", { "data-weekday": d, "data-hour": h, "data-count": count, role: "img", "aria-label": label });
        g.append(svg("title", {}, label));
        g.append(svg("rect", { x: labelsW + h * cellW, y: ry, width: cellW - gap, height: cellH - gap, rx: 2, class: `cell level-${lv}` }));
        if (count && valuesFit) {
          g.append(svg("text", { x: labelsW + h * cellW + (cellW - gap) / 2, y: ry + (cellH - gap) / 2 + 4, "text-anchor": "middle", class: `cell-value level-${lv}` }, cx.num.format(count)));
        }
        if (!busiest || count > busiest.count) busiest = { d, h, count };
        root.append(g);
      });
    });
    const legend = html("ul", { class: "chart-legend", "aria-label": cx.s("legend") }, html("li", { class: "legend-title" }, cx.s("legend")));
    for (let lv = 0; lv <= LEVELS; lv++) {
      // Counts c with ceil(LEVELS * c / max) = lv: (max*(lv-1)/LEVELS, max*lv/LEVELS].
      const lo = lv ? Math.floor((max * (lv - 1)) / LEVELS) + 1 : 0;
      const hi = lv ? Math.floor((max * lv) / LEVELS) : 0;
      if (lo > hi) continue;
      const swatch = svg("svg", { class: "swatch", width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" });
      swatch.append(svg("rect", { width: 14, height: 14, rx: 2, class: `cell level-${lv}` }));
      legend.append(html("li", { "data-level": lv }, swatch, lo === hi ? cx.num.format(lo) : `${cx.num.format(lo)}–${cx.num.format(hi)}`));
    }
    const note = html("p", { class: "chart-note" },
      cx.s("busiest", { day: cx.weekdays[busiest.d], from: `${pad2(busiest.h)}:00`, to: `${pad2(busiest.h + 1)}:00`, opens: cx.opens(busiest.count) }));
    const scroll = html("div", { class: "gf-scroll" }, root);
    box.replaceChildren(scroll, legend, note);
  }

  /** Label column, bar area and count column of a bar chart `W` wide. */
  function barLayout(W, rows, values) {
    const countW = Math.max(...values.map((v) => textWidth(v, 12))) + 10;
    const labelW = Math.round(Math.min(220, Math.max(90, W * 0.36)));
    return { labelW, countW, barArea: Math.max(40, W - labelW - countW - 4), rowH: 26, H: rows * 26 };
  }

  // Ranked counts as labelled horizontal bars, exact count at the end of each bar.
  function bars(box, items, cx, { title, key = (i) => i.key, label = (i) => i.key, max = 10 }) {
    caption(box, title);
    const rows = items.filter((i) => i.count > 0).slice(0, max);
    if (!rows.length) return empty(box, cx);
    const W = widthOf(box);
    const values = rows.map((r) => cx.num.format(r.count));
    const L = barLayout(W, rows.length, values);
    const top = Math.max(...rows.map((r) => r.count));
    const root = svg("svg", { class: "gf-chart gf-bars", width: W, height: L.H, viewBox: `0 0 ${W} ${L.H}`, "aria-label": title });
    rows.forEach((r, i) => {
      const y0 = i * L.rowH;
      const name = label(r);
      const text = cx.s("item", { label: name, value: cx.opens(r.count) });
      const g = svg("g", { "data-key": key(r), "data-count": r.count, role: "img", "aria-label": text });
      g.append(svg("title", {}, text));
      g.append(svg("text", { x: 0, y: y0 + 17, class: "label" }, fit(name, 12, L.labelW - 8)));
      const w = Math.max(2, (L.barArea * r.count) / top);
      g.append(svg("rect", { x: L.labelW, y: y0 + 5, width: w, height: L.rowH - 10, rx: 3, class: "bar" }));
      g.append(svg("text", { x: L.labelW + w + 5, y: y0 + 17, class: "value" }, values[i]));
      root.append(g);
    });
    const rest = items.filter((i) => i.count > 0).length - rows.length;
    box.replaceChildren(root, ...(rest > 0 ? [html("p", { class: "chart-note" }, cx.s("more", { n: cx.num.format(rest) }))] : []));
  }

  // Images: two bars per image (full-size views, downloads), each with its exact count.
  function images(box, stats, cx) {
    const title = cx.s("images");
    caption(box, title);
    const rows = [...(stats.images || [])].filter((i) => i.views + i.downloads > 0)
      .sort((a, b) => b.views + b.downloads - (a.views + a.downloads) || a.file_name.localeCompare(b.file_name)).slice(0, 15);
    if (!rows.length) return empty(box, cx);
    const W = widthOf(box);
    const values = rows.flatMap((r) => [cx.num.format(r.views), cx.num.format(r.downloads)]);
    const L = barLayout(W, rows.length, values);
    const rowH = 34;
    const H = rows.length * rowH;
    const top = Math.max(...rows.flatMap((r) => [r.views, r.downloads]));
    const root = svg("svg", { class: "gf-chart gf-bars gf-images", width: W, height: H, viewBox: `0 0 ${W} ${H}`, "aria-label": title });
    rows.forEach((r, i) => {
      const y0 = i * rowH;
      const g = svg("g", { "data-key": r.id, "data-views": r.views, "data-downloads": r.downloads });
      g.append(svg("title", {}, `${r.file_name} — ${cx.s("views")}: ${cx.num.format(r.views)}, ${cx.s("downloads")}: ${cx.num.format(r.downloads)}`));
      g.append(svg("text", { x: 0, y: y0 + 21, class: "label" }, fit(r.file_name, 12, L.labelW - 8)));
      [["views", r.views, 4], ["downloads", r.downloads, 18]].forEach(([series, count, dy]) => {
        const text = cx.s("item", { label: `${r.file_name}, ${cx.s(series)}`, value: cx.num.format(count) });
        const s = svg("g", { "data-series": series, "data-count": count, role: "img", "aria-label": text });
        const w = count ? Math.max(2, (L.barArea * count) / top) : 0;
        if (w) s.append(svg("rect", { x: L.labelW, y: y0 + dy, width: w, height: 11, rx: 2, class: `bar series-${series}` }));
        s.append(svg("text", { x: L.labelW + w + 5, y: y0 + dy + 10, class: "value" }, cx.num.format(count)));
        g.append(s);
      });
      root.append(g);
    });
    const legend = html("ul", { class: "chart-legend" });
    for (const series of ["views", "downloads"]) {
      const swatch = svg("svg", { class: "swatch", width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" });
      swatch.append(svg("rect", { width: 14, height: 14, rx: 2, class: `bar series-${series}` }));
      legend.append(html("li", {}, swatch, cx.s(series)));
    }
    box.replaceChildren(legend, root);
  }

  function region(cx, code) {
    if (code === "unknown") return cx.s("unknown");
    let name = null;
    try { name = cx.regions?.of(code); } catch { /* not a region code */ }
    return name && name !== code ? `${name} (${code})` : code;
  }

  function drawAll(stats, root, opts) {
    const cx = context(stats, opts);
    const box = (id) => root.querySelector(`#${id}`);
    const known = (key) => (key === "unknown" ? cx.s("unknown") : key);
    days(box("chart-days"), stats, cx);
    hours(box("chart-hours"), stats, cx);
    bars(box("chart-countries"), stats.countries, cx, { title: cx.s("countries"), label: (i) => region(cx, i.key) });
    bars(box("chart-cities"), stats.cities, cx, { title: cx.s("cities") });
    bars(box("chart-devices"), stats.devices, cx, { title: cx.s("devices"), label: (i) => STRINGS.en[`dev_${i.key}`] ? cx.s(`dev_${i.key}`) : known(i.key) });
    bars(box("chart-os"), stats.os, cx, { title: cx.s("os"), label: (i) => known(i.key) });
    bars(box("chart-browsers"), stats.browsers, cx, { title: cx.s("browsers"), label: (i) => known(i.key) });
    bars(box("chart-referrers"), stats.referrers, cx, { title: cx.s("referrers"), label: (i) => (i.key === "(direct)" ? cx.s("direct") : i.key) });
    images(box("chart-images"), stats, cx);
    const perLink = (stats.links || []).map((l) => ({ key: l.name, label: l.label, count: l.opens_admitted }));
    bars(box("chart-links"), perLink, cx, { title: cx.s("links"), label: (i) => i.label, max: 50 });
  }

  /** Draws every chart into its box under `root`; draws again when the boxes change width. */
  function render(stats, root, opts) {
    last = { stats, root, opts, width: root.clientWidth };
    drawAll(stats, root, opts);
    if (observed !== root && typeof ResizeObserver === "function") {
      observed = root;
      let pending = 0;
      new ResizeObserver(() => {
        if (pending || !last || last.root !== root || Math.abs(root.clientWidth - last.width) < 2) return;
        pending = requestAnimationFrame(() => {
          pending = 0;
          last.width = root.clientWidth;
          drawAll(last.stats, last.root, last.opts);
        });
      }).observe(root);
    }
  }

  return { render, STRINGS };
})();
