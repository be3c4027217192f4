// Gatefold admin page. The token lives in sessionStorage (gone when the tab closes, never sent
// as a cookie, so no CSRF); every request carries it as a bearer header.
"use strict";
(() => {
  const STRINGS = {
    en: {
      title: "Gatefold admin", signInTitle: "Sign in", tokenLabel: "Admin token", signIn: "Sign in", signOut: "Sign out",
      links: "Links", gallery: "Gallery", link: "Link", state: "State", views: "Views", expires: "Expires", lastOpen: "Last open",
      actions: "Actions", stats: "Statistics", allLinks: "All links", from: "From", to: "To", refresh: "Refresh",
      exportCsv: "Export CSV", exportXlsx: "Export Excel", opensPerDay: "Opens per day", peakHours: "Opens by hour of day",
      countries: "Countries", cities: "Cities", devices: "Devices", os: "Operating systems", browsers: "Browsers",
      referrers: "Referrers", topImages: "Top images (full-size views / downloads)", perLink: "Opens per link", cancel: "Cancel", confirm: "Confirm",
      newExpiry: "Valid through (date)", newLimit: "View limit", save: "Save", disable: "Disable", enable: "Enable", extend: "Extend…",
      never: "never", unlimited: "unlimited", noExpiry: "no expiry", left: "left",
      st_active: "active", st_disabled: "disabled", st_expired: "expired", st_limit_reached: "limit reached",
      confirmDisable: "Disable {link} of {gallery}? Visitors are refused at once; open sessions lose their images within a minute.",
      confirmEnable: "Enable {link} of {gallery} again?",
      revoke: "End sessions", confirmRevoke: "End every open session of {link} of {gallery}? Everyone viewing it now must open the link again (which uses a view); the link itself stays the same.",
      disabledInYaml: "Disabled in gallery.yaml: change it there and publish.", galleryDisabled: "The whole gallery is disabled at runtime.",
      confirmForce: "{message}\n\nSave anyway?",
      extendTitle: "Extend {gallery} / {link}", nothingToChange: "Give a date or a view limit.",
      opensAdmitted: "Opens", opensDenied: "Refused", uniqueVisitors: "Unique visitors", downloads: "Downloads", imageViews: "Full-size views",
      denied: "Refused: {reason}", noData: "No data yet", neverOpened: "Never opened: {links}",
      wrongToken: "Wrong admin token.", tooMany: "Too many attempts. {message}", unreachable: "The server cannot be reached.",
      saved: "Saved.", loading: "Loading…", updated: "Updated {time}",
    },
    "zh-CN": {
      title: "Gatefold 管理", signInTitle: "登录", tokenLabel: "管理令牌", signIn: "登录", signOut: "退出",
      links: "分享链接", gallery: "图库", link: "链接", state: "状态", views: "查看次数", expires: "有效期", lastOpen: "最近打开",
      actions: "操作", stats: "统计", allLinks: "全部链接", from: "开始", to: "结束", refresh: "刷新",
      exportCsv: "导出 CSV", exportXlsx: "导出 Excel", opensPerDay: "每日打开次数", peakHours: "各时段打开次数",
      countries: "国家/地区", cities: "城市", devices: "设备类型", os: "操作系统", browsers: "浏览器",
      referrers: "来源", topImages: "热门图片（大图查看 / 下载）", perLink: "各链接打开次数", cancel: "取消", confirm: "确认",
      newExpiry: "有效期至（日期）", newLimit: "查看次数上限", save: "保存", disable: "禁用", enable: "启用", extend: "延期…",
      never: "从未", unlimited: "不限", noExpiry: "长期有效", left: "剩余",
      st_active: "有效", st_disabled: "已禁用", st_expired: "已过期", st_limit_reached: "次数已用完",
      confirmDisable: "确定禁用图库 {gallery} 的链接 {link}？新访问立即被拒绝，已打开的页面一分钟内无法再看图片。",
      confirmEnable: "确定重新启用图库 {gallery} 的链接 {link}？",
      revoke: "结束会话", confirmRevoke: "确定结束图库 {gallery} 的链接 {link} 的所有已打开会话？正在查看的人需要重新打开链接（会使用一次查看次数）；链接本身不变。",
      disabledInYaml: "已在 gallery.yaml 中禁用：请在那里修改并重新发布。", galleryDisabled: "整个图库已在运行时禁用。",
      confirmForce: "{message}\n\n仍要保存？",
      extendTitle: "延期 {gallery} / {link}", nothingToChange: "请填写日期或查看次数上限。",
      opensAdmitted: "打开次数", opensDenied: "被拒绝", uniqueVisitors: "独立访客", downloads: "下载次数", imageViews: "大图查看",
      denied: "拒绝：{reason}", noData: "暂无数据", neverOpened: "从未打开：{links}",
      wrongToken: "管理令牌错误。", tooMany: "尝试次数过多。{message}", unreachable: "无法连接服务器。",
      saved: "已保存。", loading: "加载中…", updated: "更新于 {time}",
    },
  };
  const $ = (sel) => document.querySelector(sel);
  let lang = localStorage.getItem("gf-admin-lang") || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en");
  if (!STRINGS[lang]) lang = "en";
  const t = (key, vars = {}) => (STRINGS[lang][key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
  let token = sessionStorage.getItem("gf-admin-token") || "";
  let links = [];
  let timezone = "";

  class ApiError extends Error {
    constructor(status, body) { super(body.message || `HTTP ${status}`); this.status = status; this.code = body.error; }
  }

  async function api(path, init = {}) {
    let resp;
    try {
      resp = await fetch(`/admin/api/${path}`, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${token}` } });
    } catch {
      throw new ApiError(0, { error: "unreachable", message: t("unreachable") });
    }
    if (!resp.ok) {
      const body = await resp.json().catch(() => ({ error: "http", message: `HTTP ${resp.status}` }));
      throw new ApiError(resp.status, body);
    }
    return resp;
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.title = t("title");
    $("#lang").textContent = lang === "en" ? "中文" : "English";
  }

  function fmtTime(unix) {
    if (unix == null) return t("never");
    const opts = { dateStyle: "medium", timeStyle: "short" };
    try { return new Intl.DateTimeFormat(lang, { ...opts, timeZone: timezone || undefined }).format(new Date(unix * 1000)); }
    catch { return new Date(unix * 1000).toLocaleString(lang); }
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function status(text) { $("#status").textContent = text; }

  function showSignedIn(signedIn) {
    document.body.dataset.state = signedIn ? "signed-in" : "signed-out";
    $("#sign-in").hidden = signedIn;
    $("#dashboard").hidden = !signedIn;
    $("#sign-out").hidden = !signedIn;
  }

  async function signIn(candidate) {
    token = candidate;
    try {
      await loadLinks();
    } catch (e) {
      token = "";
      sessionStorage.removeItem("gf-admin-token");
      showSignedIn(false);
      const msg = e.status === 401 ? t("wrongToken") : e.status === 429 ? t("tooMany", { message: e.message }) : e.message;
      $("#sign-in-error").textContent = msg;
      $("#sign-in-error").hidden = false;
      return;
    }
    sessionStorage.setItem("gf-admin-token", token);
    $("#sign-in-error").hidden = true;
    showSignedIn(true);
    fillGalleries();
    await loadStats();
  }

  async function loadLinks() {
    const data = await (await api("links")).json();
    links = data.links;
    timezone = data.timezone;
    renderLinks();
  }

  function renderLinks() {
    const body = $("#links tbody");
    body.replaceChildren();
    for (const l of links) {
      const views = l.max_views == null ? `${l.views} / ${t("unlimited")}` : `${l.views} / ${l.max_views} (${t("left")} ${l.views_remaining})`;
      // Only a runtime disable can be lifted here; a YAML disable is lifted by a publish.
      const toggle = l.policy.disabled
        ? el("small", { class: "why", "data-why": "disabled_in_yaml" }, t("disabledInYaml"))
        : l.overrides.disabled === true
          ? el("button", { type: "button", class: "ghost", "data-action": "enable", onclick: () => confirmAction(l, "enable") }, t("enable"))
          : el("button", { type: "button", class: "danger", "data-action": "disable", onclick: () => confirmAction(l, "disable") }, t("disable"));
      const why = l.gallery_overrides.disabled === true ? [el("small", { class: "why", "data-why": "gallery_disabled" }, t("galleryDisabled"))] : [];
      const notices = (l.notices || []).map((n) => el("small", { class: "notice", role: "note" }, n));
      body.append(el("tr", { "data-gallery": l.gallery, "data-link": l.name },
        el("td", {}, l.gallery_title, el("small", {}, l.gallery)),
        el("td", {}, l.label, el("small", {}, l.name)),
        el("td", {}, el("span", { class: `state state-${l.state}`, "data-state": l.state }, t(`st_${l.state}`)), ...why, ...notices),
        el("td", { class: "views" }, views),
        el("td", {}, l.expires_at == null ? t("noExpiry") : fmtTime(l.expires_at)),
        el("td", {}, fmtTime(l.last_open)),
        el("td", { class: "actions" }, toggle,
          el("button", { type: "button", class: "ghost", "data-action": "extend", onclick: () => openExtend(l) }, t("extend")),
          el("button", { type: "button", class: "ghost", "data-action": "revoke", onclick: () => confirmAction(l, "revoke") }, t("revoke"))),
      ));
    }
  }

  function ask(text) {
    return new Promise((resolve) => {
      const dlg = $("#confirm");
      $("#confirm-text").textContent = text;
      dlg.returnValue = "";
      dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
      dlg.showModal();
    });
  }

  const CONFIRM = { disable: "confirmDisable", enable: "confirmEnable", revoke: "confirmRevoke" };
  async function confirmAction(l, action) {
    const ok = await ask(t(CONFIRM[action], { gallery: l.gallery_title, link: l.label }));
    if (!ok) return;
    try {
      await api(`links/${encodeURIComponent(l.gallery)}/${encodeURIComponent(l.name)}/${action}`, { method: "POST" });
      await loadLinks();
      status(t("saved"));
    } catch (e) { status(e.message); }
  }

  let extending = null;
  function openExtend(l) {
    extending = l;
    $("#extend-title").textContent = t("extendTitle", { gallery: l.gallery_title, link: l.label });
    $("#extend-date").value = "";
    $("#extend-views").value = l.max_views ?? "";
    $("#extend-error").hidden = true;
    $("#extend").showModal();
  }

  async function submitExtend(event) {
    if (event.submitter && event.submitter.value !== "ok") return;
    event.preventDefault();
    const l = extending;
    const patch = {};
    if ($("#extend-date").value) patch.expires = $("#extend-date").value;
    const views = $("#extend-views").value;
    if (views !== "" && Number(views) !== l.max_views) patch.max_views = Number(views);
    if (!Object.keys(patch).length) { $("#extend-error").textContent = t("nothingToChange"); $("#extend-error").hidden = false; return; }
    const send = (body) => api(`links/${encodeURIComponent(l.gallery)}/${encodeURIComponent(l.name)}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    try {
      try {
        await send(patch);
      } catch (e) {
        // A change that closes the link sooner: the server names the effect; ask, then force.
        if (e.code !== "needs_force") throw e;
        $("#extend").close("cancel");
        if (!(await ask(t("confirmForce", { message: e.message })))) return;
        await send({ ...patch, force: true });
      }
      if ($("#extend").open) $("#extend").close("ok");
      await loadLinks();
      status(t("saved"));
    } catch (e) { $("#extend-error").textContent = e.message; $("#extend-error").hidden = false; }
  }

  function fillGalleries() {
    const select = $("#gallery");
    const current = select.value;
    const seen = new Map();
    for (const l of links) seen.set(l.gallery, l.gallery_title);
    select.replaceChildren(...[...seen].map(([id, title]) => el("option", { value: id }, `${title} (${id})`)));
    if (seen.has(current)) select.value = current;
    fillLinkFilter();
  }

  function fillLinkFilter() {
    const g = $("#gallery").value;
    const select = $("#link-filter");
    select.replaceChildren(el("option", { value: "" }, t("allLinks")),
      ...links.filter((l) => l.gallery === g).map((l) => el("option", { value: l.name }, l.label)));
  }

  function statsQuery() {
    const q = new URLSearchParams();
    for (const [k, id] of [["from", "#from"], ["to", "#to"], ["link", "#link-filter"]]) if ($(id).value) q.set(k, $(id).value);
    return q.toString();
  }

  async function loadStats() {
    const g = $("#gallery").value;
    if (!g) return;
    status(t("loading"));
    try {
      const stats = await (await api(`galleries/${encodeURIComponent(g)}/stats?${statsQuery()}`)).json();
      renderStats(stats);
      status(t("updated", { time: new Date().toLocaleTimeString(lang) }));
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
    Charts.render(s, $(".charts"), { lang, t });
  }

  async function exportFile(kind) {
    const g = $("#gallery").value;
    try {
      const resp = await api(`galleries/${encodeURIComponent(g)}/export.${kind}?${statsQuery()}`);
      const blob = await resp.blob();
      const name = (resp.headers.get("Content-Disposition") || "").match(/filename\*=UTF-8''([^;]+)/);
      const a = el("a", { href: URL.createObjectURL(blob), download: name ? decodeURIComponent(name[1]) : `${g}.${kind}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) { status(e.message); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    applyLanguage();
    $("#lang").addEventListener("click", () => {
      lang = lang === "en" ? "zh-CN" : "en";
      localStorage.setItem("gf-admin-lang", lang);
      applyLanguage();
      if (links.length) { renderLinks(); fillLinkFilter(); loadStats(); }
    });
    $("#sign-in-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#token").value.trim()); });
    $("#sign-out").addEventListener("click", () => {
      token = ""; links = [];
      sessionStorage.removeItem("gf-admin-token");
      $("#token").value = "";
      showSignedIn(false);
    });
    $("#stats-form").addEventListener("submit", (e) => { e.preventDefault(); loadStats(); });
    $("#gallery").addEventListener("change", () => { fillLinkFilter(); loadStats(); });
    $("#export-csv").addEventListener("click", () => exportFile("csv"));
    $("#export-xlsx").addEventListener("click", () => exportFile("xlsx"));
    $("#extend-form").addEventListener("submit", submitExtend);
    if (token) signIn(token);
  });
})();
