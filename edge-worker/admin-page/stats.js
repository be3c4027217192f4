// The admin page's gallery panel: statistics and charts, notifications given up on, follow-up,
// the audit log and the exports, for the gallery picked on the page. Loaded before admin.js,
// which hands it the page's helpers (its `api`, the routes `R`, `t`, `el`…) and uses what it
// returns.
"use strict";
window.AdminStats = ({ $, t, el, api, R, fmtTime, status, copy, saveBlob, lang }) => {
  // The statistics' link picker lists the links the gallery's statistics name (every link of it).
  function resetLinkFilter() {
    const select = $("#link-filter");
    select.replaceChildren(el("option", { value: "", "data-i18n": "allLinks" }, t("allLinks")));
    delete select.dataset.gallery;
  }

  function fillLinkFilter(stats) {
    const select = $("#link-filter");
    if (select.dataset.gallery === stats.gallery) return;
    select.append(...stats.links.map((l) => el("option", { value: l.name }, l.label)));
    select.dataset.gallery = stats.gallery;
  }

  function statsQuery() {
    const q = new URLSearchParams();
    for (const [k, id] of [["from", "#from"], ["to", "#to"], ["link", "#link-filter"]]) if ($(id).value) q.set(k, $(id).value);
    return q.toString();
  }

  // Loads overlap (a gallery picked, then a range submitted): only the latest one asked for
  // draws, so a slower earlier answer never replaces the range the owner chose.
  let latest = 0;
  async function loadStats() {
    const g = $("#gallery").value;
    if (!g) return;
    const mine = ++latest;
    status(t("loading"));
    try {
      const stats = await (await api(R.Stats, { gallery: g }, { query: `?${statsQuery()}` })).json();
      if (mine !== latest) return;
      fillLinkFilter(stats);
      renderStats(stats);
      loadNotifications(g);
      await Promise.all([loadFollowUp(g), loadAudit(g)]);
      status(t("updated", { time: new Date().toLocaleTimeString(lang()) }));
    } catch (e) { status(e.message); }
  }

  // The gallery's notifications given up on (the worker keeps them 30 days), newest first.
  async function loadNotifications(g) {
    try {
      const n = await (await api(R.Notifications, { gallery: g })).json();
      $("#notify-pending").textContent = t("notifyPending", { count: n.pending, gallery: g });
      const rows = n.dead_letters.map((d) => el("li", { "data-dead-letter": d.id }, t("deadLetter", {
        time: fmtTime(Math.floor(d.at / 1000)), kind: d.kind, to: d.to, secret: d.url_secret, link: d.link, reason: d.reason, attempts: d.attempts,
      })));
      $("#dead-letters").replaceChildren(...(rows.length ? rows : [el("li", {}, t("noDeadLetters"))]));
    } catch (e) { status(e.message); }
  }

  function renderStats(s) {
    const totals = [
      ["opensAdmitted", s.totals.opens_admitted], ["opensDenied", s.totals.opens_denied], ["uniqueVisitors", s.totals.unique_visitors],
      ["downloads", s.totals.downloads], ["imageViews", s.totals.image_views],
    ];
    const box = $("#totals");
    box.replaceChildren(...totals.map(([k, v]) => el("div", { class: "total", "data-total": k }, el("b", {}, v), el("span", {}, t(k)))));
    for (const [reason, n] of Object.entries(s.totals.denied_by_reason)) {
      box.append(el("div", { class: "total", "data-denied": reason }, el("b", {}, n), el("span", {}, t("denied", { reason }))));
    }
    if (s.never_opened.length) box.append(el("p", { class: "never" }, t("neverOpened", { links: s.never_opened.join(", ") })));
    Charts.render(s, $(".charts"), { lang: lang(), t });
  }

  // Follow-up: per audience (and per plain link) who to remind, with a ready-to-send text.
  async function loadFollowUp(g) {
    const f = await (await api(R.FollowUp, { gallery: g })).json();
    const box = $("#follow-up");
    // Open access requests first: people who already asked are the first to answer.
    const asked = (f.requests || []).length ? [el("article", { class: "follow-group follow-requests" },
      el("h3", {}, t("requests"), " ", el("span", { class: "badge" }, f.requests.length)),
      el("ul", {}, ...f.requests.map((r) => el("li", { "data-follow-request": r.id }, el("b", {}, r.label), " ", el("span", { class: "muted" }, `${r.link} · ${t(`reason_${r.reason}`)}`),
        r.message ? el("div", { class: "muted" }, r.message) : ""))))] : [];
    // One line per link flagged "possibly forwarded", with its evidence.
    const forwarded = (f.forwarded || []).map((x) => el("p", { class: "notice", role: "note", "data-forwarded": x.name },
      el("b", {}, `${t("forwarded")}: ${x.label}`), " ", el("span", {}, t(`fwd_${x.forwarding.reason}`, {
        devices: x.forwarding.devices.length, cities: x.forwarding.cities.length,
        names: x.forwarding.cities.length ? ` (${x.forwarding.cities.join(", ")})` : "", time: fmtTime(x.forwarding.at) }))));
    if (!f.groups.length) { box.replaceChildren(...asked, ...forwarded, el("p", { class: "muted" }, t("nobodyToRemind"))); return; }
    const who = (l) => el("li", {}, el("b", {}, l.label), " ", el("span", { class: "muted" }, l.name),
      el("div", { class: "muted" }, [l.first_open != null ? t("firstLast", { first: fmtTime(l.first_open), last: fmtTime(l.last_open) }) : "", l.views_left != null ? t("viewsLeft", { n: l.views_left }) : ""].filter(Boolean).join(" · ")));
    box.replaceChildren(...asked, ...forwarded, ...f.groups.map((grp) => {
      const text = el("textarea", { class: "reminder", readonly: "", rows: "8", "aria-label": t("reminder") });
      text.value = grp.reminder;
      const button = el("button", { type: "button", class: "ghost", "data-i18n": "copyReminder" }, t("copyReminder"));
      button.addEventListener("click", () => copy(grp.reminder, button, text, t("copiedReminder", { label: grp.label })));
      const list = (key, rows) => rows.length ? el("details", { class: "follow-list" }, el("summary", {}, t(key, { n: rows.length })), el("ul", {}, ...rows.map(who))) : "";
      return el("article", { class: "follow-group", "data-group": grp.audience ?? "" },
        el("h3", {}, grp.label, " ", el("span", { class: "muted" }, grp.audience ?? t("plainLink"))),
        list("notOpened", grp.not_opened), list("notDownloaded", grp.not_downloaded), text, button);
    }));
  }

  // The audit log of the window chosen above, newest first, times in the site timezone.
  async function loadAudit(g) {
    const q = new URLSearchParams();
    for (const [k, id] of [["from", "#from"], ["to", "#to"]]) if ($(id).value) q.set(k, $(id).value);
    const { entries } = await (await api(R.Audit, { gallery: g }, { query: `?${q}` })).json();
    $("#audit-empty").hidden = entries.length > 0;
    $("#audit").replaceChildren(...entries.map((e) => el("li", { class: "audit-entry" },
      el("time", {}, fmtTime(Math.floor(e.at / 1000))), " ", el("b", {}, e.action), " ", el("code", {}, e.target),
      el("div", {}, e.before == null && e.after == null ? "" : `${e.before ?? "—"} → ${e.after ?? "—"}`),
      el("div", { class: "muted" }, [e.actor, e.ip, e.device].filter(Boolean).join(" · ")))));
  }

  async function exportAudit() {
    const g = $("#gallery").value;
    const q = new URLSearchParams();
    for (const [k, id] of [["from", "#from"], ["to", "#to"]]) if ($(id).value) q.set(k, $(id).value);
    try {
      const resp = await api(R.AuditCsv, { gallery: g }, { query: `?${q}` });
      const name = (resp.headers.get("Content-Disposition") || "").match(/filename\*=UTF-8''([^;]+)/);
      saveBlob(await resp.blob(), name ? decodeURIComponent(name[1]) : `${g}-audit.csv`);
      loadAudit(g);
    } catch (e) { status(e.message); }
  }

  async function exportFile(kind) {
    const g = $("#gallery").value;
    try {
      const resp = await api(kind === "xlsx" ? R.ExportXlsx : R.ExportCsv, { gallery: g }, { query: `?${statsQuery()}` });
      const name = (resp.headers.get("Content-Disposition") || "").match(/filename\*=UTF-8''([^;]+)/);
      saveBlob(await resp.blob(), name ? decodeURIComponent(name[1]) : `${g}.${kind}`);
    } catch (e) { status(e.message); }
  }

  return { loadStats, resetLinkFilter, exportFile, exportAudit };
};
