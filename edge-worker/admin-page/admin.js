// Gatefold admin page. The token lives in sessionStorage (gone when the tab closes, never sent
// as a cookie, so no CSRF); every request carries it as a bearer header.
"use strict";
(() => {
  const STRINGS = {
    en: {
      title: "Gatefold admin", signInTitle: "Sign in", tokenLabel: "Admin token", signIn: "Sign in", signOut: "Sign out",
      links: "Links", gallery: "Gallery", link: "Link", state: "State", views: "Views", expires: "Expires",
      actions: "Actions", stats: "Statistics", allLinks: "All links", from: "From", to: "To", refresh: "Refresh",
      exportCsv: "Export CSV", exportXlsx: "Export Excel", opensPerDay: "Opens per day", peakHours: "Opens by hour of day",
      followUp: "Follow up", followUpHint: "Who has not opened, and who opened without downloading, in the gallery chosen above.",
      notOpened: "Not opened yet ({n})", notDownloaded: "Opened, not downloaded ({n})", nobodyToRemind: "Nobody to remind: everyone opened (and downloaded where downloads are on).",
      viewsLeft: "{n} views left", firstLast: "first {first}, last {last}", reminder: "Reminder text", copyReminder: "Copy reminder",
      copiedReminder: "Reminder for {label} copied.", plainLink: "link",
      auditLog: "Audit log", exportAudit: "Export audit CSV", auditEmpty: "No owner action recorded in this window.",
      countries: "Countries", cities: "Cities", devices: "Devices", os: "Operating systems", browsers: "Browsers",
      referrers: "Referrers", topImages: "Top images (full-size views / downloads)", perLink: "Opens per link", cancel: "Cancel", confirm: "Confirm",
      newExpiry: "Valid through (date)", newLimit: "View limit", save: "Save", disable: "Disable", enable: "Enable", extend: "Extend…",
      password: "Password…", passwordTitle: "Password: {gallery} / {link}", passwordIsSet: "Password set",
      passwordNotSet: "Password not set yet: the link stays closed until you set one",
      passwordAttack: "Under a password attack: {wrong} wrong passwords from {networks} networks in the last hour. Change its password.",
      newPassword: "New password (8 characters or more)", setPassword: "Set password", clearPassword: "Clear password",
      generatePassphrase: "Generate a passphrase", useSuggested: "Use {passphrase}",
      passphraseShown: "Generated: note it down or copy it now, it is not shown again after saving.",
      passwordSaved: "Password saved: every open session of {link} has ended.", passwordCleared: "Password cleared: {link} stays closed until you set one.",
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
      unknownLink: "No link {link} in the published site.",
      wrongToken: "Wrong admin token.", tooMany: "Too many attempts. {message}", unreachable: "The server cannot be reached.",
      saved: "Saved.", loading: "Loading…", updated: "Updated {time}",
      allGalleries: "All galleries", allStates: "Any state", search: "Search", searchHint: "Name, label or gallery",
      noLinks: "No link matches.", previous: "Previous", next: "Next",
      pageInfo: "{from}–{to} of {total}", pageShown: "{count} shown ({total} match gallery and search)",
      timesIn: "Times in {tz}", lastOpenAt: "last open: {time}", viewsUsed: "{used} used · {left} left", viewsUnlimited: "{used} used · no limit",
      galleries: "Galleries", linkCount: "{count} links", shareKit: "Share kit", kitTitle: "Share kit: {gallery}",
      copyLink: "Copy link", copyText: "Copy text", copied: "Copied", copiedLink: "Copied the link of {link}.", copiedKit: "Copied the share kit of {gallery}.",
      copyFailed: "The browser refused to copy: the text is selected, press Ctrl+C (⌘C).",
      share: "QR code & card", downloadPng: "Download PNG", downloadSvg: "Download SVG", printCard: "Printable card", close: "Close",
      qrAlt: "QR code of {link}: {url}",
      audience: "Audience", mailMerge: "Mail merge (CSV)", recipientsCount: "{count} recipients · {opened} opened · {downloaded} downloaded",
      showRecipients: "Show recipients", hideRecipients: "Hide recipients", onlyAudience: "Only this audience",
      act_neither: "not opened", act_opened: "opened", act_downloaded: "downloaded",
      audienceDisabled: "The whole audience is disabled.",
      confirmAudienceDisable: "Disable all {count} recipients of {link} ({gallery}) at once? Each is refused from the next request.",
      confirmAudienceEnable: "Enable the audience {link} ({gallery}) again?",
      confirmAudienceRevoke: "End every open session of all {count} recipients of {link} ({gallery})?",
      notifications: "Notifications", notifyPending: "{count} waiting to be sent for {gallery}.",
      noDeadLetters: "No notification was given up on.",
      deadLetter: "{time} · {kind} → {to} ({secret}) {link}: {reason} (tries: {attempts})",
    },
    "zh-CN": {
      title: "Gatefold 管理", signInTitle: "登录", tokenLabel: "管理令牌", signIn: "登录", signOut: "退出",
      links: "分享链接", gallery: "图库", link: "链接", state: "状态", views: "查看次数", expires: "有效期",
      actions: "操作", stats: "统计", allLinks: "全部链接", from: "开始", to: "结束", refresh: "刷新",
      exportCsv: "导出 CSV", exportXlsx: "导出 Excel", opensPerDay: "每日打开次数", peakHours: "各时段打开次数",
      followUp: "跟进", followUpHint: "上方所选图库中尚未打开、或已打开但未下载的对象。",
      notOpened: "尚未打开（{n}）", notDownloaded: "已打开、未下载（{n}）", nobodyToRemind: "无需提醒：所有对象都已打开（允许下载的也已下载）。",
      viewsLeft: "剩余 {n} 次", firstLast: "首次 {first}，最近 {last}", reminder: "提醒文案", copyReminder: "复制提醒文案",
      copiedReminder: "已复制给 {label} 的提醒文案。", plainLink: "链接",
      auditLog: "操作记录", exportAudit: "导出操作记录 CSV", auditEmpty: "此时间段内没有操作记录。",
      countries: "国家/地区", cities: "城市", devices: "设备类型", os: "操作系统", browsers: "浏览器",
      referrers: "来源", topImages: "热门图片（大图查看 / 下载）", perLink: "各链接打开次数", cancel: "取消", confirm: "确认",
      newExpiry: "有效期至（日期）", newLimit: "查看次数上限", save: "保存", disable: "禁用", enable: "启用", extend: "延期…",
      password: "密码…", passwordTitle: "密码：{gallery} / {link}", passwordIsSet: "已设置密码",
      passwordNotSet: "尚未设置密码：设置之前链接保持关闭",
      passwordAttack: "密码正遭猜测：最近 1 小时内来自 {networks} 个网络的 {wrong} 次错误密码。请修改密码。",
      newPassword: "新密码（至少 8 个字符）", setPassword: "设置密码", clearPassword: "清除密码",
      generatePassphrase: "生成一个密码短语", useSuggested: "使用 {passphrase}",
      passphraseShown: "已生成：请现在记下或复制，保存后不再显示。",
      passwordSaved: "密码已保存：{link} 所有已打开的会话均已结束。", passwordCleared: "密码已清除：设置新密码之前 {link} 保持关闭。",
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
      unknownLink: "已发布的站点中没有链接 {link}。",
      wrongToken: "管理令牌错误。", tooMany: "尝试次数过多。{message}", unreachable: "无法连接服务器。",
      saved: "已保存。", loading: "加载中…", updated: "更新于 {time}",
      allGalleries: "全部图库", allStates: "全部状态", search: "搜索", searchHint: "名称、标签或图库",
      noLinks: "没有符合条件的链接。", previous: "上一页", next: "下一页",
      pageInfo: "第 {from}–{to} 条，共 {total} 条", pageShown: "显示 {count} 条（图库和搜索匹配 {total} 条）",
      timesIn: "时间按 {tz} 显示", lastOpenAt: "最近打开：{time}", viewsUsed: "已用 {used} · 剩余 {left}", viewsUnlimited: "已用 {used} · 不限次数",
      galleries: "图库", linkCount: "{count} 个链接", shareKit: "分享文案", kitTitle: "分享文案：{gallery}",
      copyLink: "复制链接", copyText: "复制文案", copied: "已复制", copiedLink: "已复制 {link} 的链接。", copiedKit: "已复制 {gallery} 的分享文案。",
      copyFailed: "浏览器不允许复制：文字已选中，请按 Ctrl+C（⌘C）。",
      share: "二维码与卡片", downloadPng: "下载 PNG", downloadSvg: "下载 SVG", printCard: "打印卡片", close: "关闭",
      qrAlt: "{link} 的二维码：{url}",
      audience: "受众", mailMerge: "邮件合并（CSV）", recipientsCount: "{count} 位收件人 · {opened} 已打开 · {downloaded} 已下载",
      showRecipients: "展开收件人", hideRecipients: "收起收件人", onlyAudience: "只看此受众",
      act_neither: "未打开", act_opened: "已打开", act_downloaded: "已下载",
      audienceDisabled: "整个受众已停用。",
      confirmAudienceDisable: "一次停用 {link}（{gallery}）的全部 {count} 位收件人？下一次请求起即被拒绝。",
      confirmAudienceEnable: "重新启用受众 {link}（{gallery}）？",
      confirmAudienceRevoke: "结束 {link}（{gallery}）全部 {count} 位收件人正在查看的会话？",
      notifications: "通知", notifyPending: "{gallery} 有 {count} 条通知待发送。",
      noDeadLetters: "没有发送失败的通知。",
      deadLetter: "{time} · {kind} → {to}（{secret}）{link}：{reason}（尝试 {attempts} 次）",
    },
  };
  const $ = (sel) => document.querySelector(sel);
  let lang = localStorage.getItem("gf-admin-lang") || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en");
  if (!STRINGS[lang]) lang = "en";
  const t = (key, vars = {}) => (STRINGS[lang][key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
  const enc = encodeURIComponent;
  // A link's id is <gallery>/<link> or, for a recipient, <gallery>/<audience>/<recipient>:
  // each part is encoded on its own so the slashes stay path separators.
  const linkPath = (l) => `links/${enc(l.gallery)}/${l.name.split("/").map(enc).join("/")}`;
  // What the confirm and extend dialogs act on: a link, or a whole audience (its `path`).
  const pathOf = (x) => x.path ?? linkPath(x);
  let token = sessionStorage.getItem("gf-admin-token") || "";
  // One page of links as the API answered it; filtering and paging happen in the worker.
  const PAGE_SIZE = 20;
  let links = [];
  let audiences = [];
  let audienceFilter = ""; // "only this audience" (with its gallery in the gallery filter)
  const collapsed = new Set(); // "<gallery>/<audience>" whose recipients are hidden
  let galleries = [];
  let timezone = "";
  let total = 0;
  let nextOffset = null;
  let offsets = [0]; // the offsets of the pages walked through; the last is the one shown
  let linksAsked = 0; // answers to an older filter are dropped

  class ApiError extends Error {
    constructor(status, body) { super(body.message || `HTTP ${status}`); this.status = status; this.code = body.error; this.suggestion = body.suggestion; }
  }

  async function api(path, init = {}) {
    let resp;
    try {
      // Without a token the request relies on Cloudflare Access, whose assertion the edge adds.
      const auth = token ? { Authorization: `Bearer ${token}` } : {};
      resp = await fetch(`/admin/api/${path}`, { ...init, headers: { ...(init.headers || {}), ...auth } });
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
    $("#f-q").placeholder = t("searchHint");
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
      const msg = e.status === 401 && candidate ? t("wrongToken") : e.status === 429 ? t("tooMany", { message: e.message }) : e.message;
      $("#sign-in-error").textContent = msg;
      $("#sign-in-error").hidden = false;
      return;
    }
    if (token) sessionStorage.setItem("gf-admin-token", token);
    $("#sign-in-error").hidden = true;
    showSignedIn(true);
    await loadStats();
  }

  function linksQuery(offset) {
    const q = new URLSearchParams();
    for (const [k, id] of [["gallery", "#f-gallery"], ["state", "#f-state"], ["q", "#f-q"]]) {
      const v = $(id).value.trim();
      if (v) q.set(k, v);
    }
    if (audienceFilter) q.set("audience", audienceFilter);
    q.set("offset", offset);
    q.set("limit", PAGE_SIZE);
    return q.toString();
  }

  /** Asks the worker for one page of links under the current filters (the page shown by default). */
  async function loadLinks(offset = offsets[offsets.length - 1]) {
    const asked = ++linksAsked;
    const data = await (await api(`links?${linksQuery(offset)}`)).json();
    if (asked !== linksAsked) return;
    links = data.links;
    audiences = data.audiences || [];
    timezone = data.timezone;
    total = data.total;
    nextOffset = data.next_offset ?? null;
    galleries = data.galleries;
    renderLinks();
    fillGalleries();
  }

  /** Filters changed: back to the first page. */
  function refilter() {
    offsets = [0];
    loadLinks(0).catch((e) => status(e.message));
  }

  function turnPage(forward) {
    if (forward && nextOffset != null) offsets.push(nextOffset);
    else if (!forward && offsets.length > 1) offsets.pop();
    else return;
    loadLinks().catch((e) => status(e.message));
  }

  // One element per link: a table row on a wide screen, a card on a phone (admin.css); each cell
  // carries its column name for the card's labels.
  function linkRow(l) {
    const views = l.max_views == null ? t("viewsUnlimited", { used: l.views }) : t("viewsUsed", { used: l.views, left: l.views_left });
    // Only a runtime disable can be lifted here; a YAML disable is lifted by a publish.
    const toggle = l.policy.disabled
      ? el("small", { class: "why", "data-why": "disabled_in_yaml" }, t("disabledInYaml"))
      : l.overrides.disabled === true
        ? el("button", { type: "button", class: "ghost", "data-action": "enable", onclick: () => confirmAction(l, "enable") }, t("enable"))
        : el("button", { type: "button", class: "danger", "data-action": "disable", onclick: () => confirmAction(l, "disable") }, t("disable"));
    const why = l.gallery_overrides.disabled === true ? [el("small", { class: "why", "data-why": "gallery_disabled" }, t("galleryDisabled"))]
      : l.audience_overrides && l.audience_overrides.disabled === true ? [el("small", { class: "why", "data-why": "audience_disabled" }, t("audienceDisabled"))] : [];
    const activity = l.activity ? [el("span", { class: `activity activity-${l.activity}`, "data-activity": l.activity }, t(`act_${l.activity}`))] : [];
    const notices = (l.notices || []).map((n) => el("small", { class: "notice", role: "note" }, n));
    // `password: required` in git: closed until the owner sets one, which must be plain to see.
    const password = !l.policy.password ? []
      : [el("small", { class: l.password_set ? "why" : "notice", "data-why": l.password_set ? "password_set" : "password_not_set" }, t(l.password_set ? "passwordIsSet" : "passwordNotSet"))];
    // From the link's own object, so the owner sees it whether or not a channel wants `password_attack`.
    const attack = !l.password_attack ? []
      : [el("small", { class: "notice", role: "note", "data-why": "password_attack" }, t("passwordAttack", l.password_attack))];
    const passwordAction = !l.policy.password ? []
      : [el("button", { type: "button", class: "ghost", "data-action": "password", onclick: () => openPassword(l) }, t("password"))];
    const url = el("code", { class: "url" }, l.url);
    const cell = (key, cls, ...children) => el("td", { class: cls, "data-label": t(key) }, ...children);
    const group = l.audience ? { "data-audience": `${l.gallery}/${l.audience}`, class: "recipient" } : {};
    const row = el("tr", { "data-gallery": l.gallery, "data-link": l.name, ...group },
      el("td", { class: "link-cell" }, el("b", { class: "label" }, l.label), el("small", {}, l.name),
        el("span", { class: "url-line" }, url,
          el("button", { type: "button", class: "ghost copy", "data-action": "copy", "data-i18n": "copyLink", onclick: (e) => copy(l.url, e.currentTarget, url, t("copiedLink", { link: l.label })) }, t("copyLink")))),
      cell("gallery", "gallery-cell", l.gallery_title, el("small", {}, l.gallery)),
      cell("state", "state-cell", el("span", { class: `state state-${l.state}`, "data-state": l.state }, t(`st_${l.state}`)), ...activity, ...why, ...password, ...attack, ...notices),
      cell("views", "views-cell", el("span", { class: "views" }, views), el("small", {}, t("lastOpenAt", { time: fmtTime(l.last_open) }))),
      cell("expires", "expires", l.expires_at == null ? t("noExpiry") : fmtTime(l.expires_at)),
      el("td", { class: "actions" }, el("div", { class: "action-list" }, toggle,
        el("button", { type: "button", class: "ghost", "data-action": "share", onclick: () => openShare(l) }, t("share")),
        el("button", { type: "button", class: "ghost", "data-action": "extend", onclick: () => openExtend(l) }, t("extend")),
        el("button", { type: "button", class: "ghost", "data-action": "revoke", onclick: () => confirmAction(l, "revoke") }, t("revoke")), ...passwordAction)),
    );
    row.hidden = Boolean(l.audience) && collapsed.has(`${l.gallery}/${l.audience}`);
    return row;
  }

  // An audience's row above its recipients: its counts and the actions on all of them at once
  // (one write each, whatever the number of recipients).
  function audienceRow(a) {
    const key = `${a.gallery}/${a.name}`;
    const target = { path: `audiences/${enc(a.gallery)}/${enc(a.name)}`, gallery_title: a.gallery, label: a.label, name: a.name, count: a.recipients, max_views: a.overrides.max_views ?? null, audience: true };
    const toggle = a.overrides.disabled === true
      ? el("button", { type: "button", class: "ghost", "data-action": "enable", onclick: () => confirmAction(target, "enable") }, t("enable"))
      : el("button", { type: "button", class: "danger", "data-action": "disable", onclick: () => confirmAction(target, "disable") }, t("disable"));
    const open = !collapsed.has(key);
    const fold = el("button", { type: "button", class: "ghost fold", "aria-expanded": String(open), "data-action": "fold", onclick: () => {
      if (collapsed.has(key)) collapsed.delete(key); else collapsed.add(key);
      renderLinks();
    } }, open ? t("hideRecipients") : t("showRecipients"));
    const state = a.disabled ? "disabled" : "active";
    const cell = (k, cls, ...children) => el("td", { class: cls, "data-label": t(k) }, ...children);
    return el("tr", { class: "audience-row", "data-audience": key },
      el("td", { class: "link-cell" }, el("b", { class: "label" }, `${t("audience")}: ${a.label}`), el("small", {}, a.name), fold),
      cell("gallery", "gallery-cell", a.gallery),
      cell("state", "state-cell", el("span", { class: `state state-${state}`, "data-state": state }, t(`st_${state}`)), ...(a.notices || []).map((n) => el("small", { class: "notice", role: "note" }, n))),
      cell("views", "views-cell", el("span", { class: "counts" }, t("recipientsCount", { count: a.recipients, opened: a.opened, downloaded: a.downloaded }))),
      cell("expires", "expires", a.overrides.expires_at == null ? "" : fmtTime(a.overrides.expires_at)),
      el("td", { class: "actions" }, el("div", { class: "action-list" }, toggle,
        el("button", { type: "button", class: "ghost", "data-action": "extend", onclick: () => openExtend(target) }, t("extend")),
        el("button", { type: "button", class: "ghost", "data-action": "revoke", onclick: () => confirmAction(target, "revoke") }, t("revoke")),
        el("button", { type: "button", class: "ghost", "data-action": "only", onclick: () => {
          $("#f-gallery").value = a.gallery;
          audienceFilter = a.name;
          refilter();
        } }, t("onlyAudience")))),
    );
  }

  /** The page's rows: each audience's row just before its first recipient on the page. */
  function pageRows() {
    const rows = [];
    const shown = new Set();
    for (const l of links) {
      const key = l.audience && `${l.gallery}/${l.audience}`;
      const a = key && audiences.find((x) => `${x.gallery}/${x.name}` === key);
      if (a && !shown.has(key)) { shown.add(key); rows.push(audienceRow(a)); }
      rows.push(linkRow(l));
    }
    // The audience filtered on, even when no recipient of it is on this page.
    for (const a of audiences) if (!shown.has(`${a.gallery}/${a.name}`)) rows.unshift(audienceRow(a));
    return rows;
  }

  function renderLinks() {
    $("#links tbody").replaceChildren(...pageRows());
    $("#links-empty").hidden = links.length > 0;
    $("#tz-note").textContent = timezone ? t("timesIn", { tz: timezone }) : "";
    const offset = offsets[offsets.length - 1];
    $("#prev-page").hidden = offsets.length < 2;
    $("#next-page").hidden = nextOffset == null;
    $("#page-info").textContent = !links.length ? ""
      : $("#f-state").value ? t("pageShown", { count: links.length, total })
        : t("pageInfo", { from: offset + 1, to: offset + links.length, total });
  }

  /** The galleries the API names fill both gallery pickers and the share-kit list. */
  function fillGalleries() {
    const option = (g) => el("option", { value: g.id }, `${g.title} (${g.id})`);
    const filter = $("#f-gallery");
    const filtered = filter.value;
    filter.replaceChildren(filter.options[0], ...galleries.map(option));
    filter.value = filtered;
    const stats = $("#gallery");
    const chosen = stats.value;
    stats.replaceChildren(...galleries.map(option));
    if (galleries.some((g) => g.id === chosen)) stats.value = chosen;
    $("#gallery-list").replaceChildren(...galleries.map((g) => el("li", { "data-gallery": g.id },
      el("span", {}, el("b", {}, g.title), el("small", {}, `${g.id} · ${t("linkCount", { count: g.links })}`)),
      el("span", { class: "action-list" },
        el("button", { type: "button", class: "ghost", "data-action": "kit", onclick: () => openKit(g) }, t("shareKit")),
        ...(g.audiences ? [el("button", { type: "button", class: "ghost", "data-action": "mail-merge", onclick: () => mailMerge(g) }, t("mailMerge"))] : [])))));
  }

  /** The gallery's mail-merge file (one row per recipient), fetched with the token and saved. */
  async function mailMerge(g) {
    try {
      const res = await api(`galleries/${enc(g.id)}/mail-merge.csv`);
      saveBlob(await res.blob(), `${g.id}-mail-merge.csv`);
    } catch (e) { status(e.message); }
  }

  /** Copies `text`; the button says so. Where the browser refuses, selects `shown` for Ctrl+C. */
  async function copy(text, button, shown, done) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      if (shown instanceof HTMLTextAreaElement) shown.select();
      else getSelection().selectAllChildren(shown);
      status(t("copyFailed"));
      return;
    }
    button.textContent = `✓ ${t("copied")}`;
    button.dataset.copied = "true";
    clearTimeout(button.copiedTimer);
    button.copiedTimer = setTimeout(() => { delete button.dataset.copied; button.textContent = t(button.dataset.i18n); }, 2500);
    status(done);
  }

  function saveBlob(blob, name) {
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  // The link's QR code and card come from the worker with the token and are shown from memory:
  // the image as a data: URL (the page's CSP allows data: images, not blob: ones), the card and
  // the SVG download as blob URLs. The token never appears in a URL.
  let sharing = null;
  let shareBlobs = [];
  function dropShareBlobs() { shareBlobs.forEach((u) => URL.revokeObjectURL(u)); shareBlobs = []; }

  function readAsDataUrl(blob) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  }

  function blobLink(a, blob, name) {
    const href = URL.createObjectURL(blob);
    shareBlobs.push(href);
    a.href = href;
    if (name) a.download = name;
    a.removeAttribute("aria-disabled");
  }

  async function openShare(l) {
    sharing = l;
    dropShareBlobs();
    $("#share-title").textContent = l.label;
    $("#share-gallery").textContent = `${l.gallery_title} (${l.gallery}) · ${t(`st_${l.state}`)}`;
    $("#share-url").textContent = l.url;
    const img = $("#share-qr");
    img.hidden = true;
    img.removeAttribute("src");
    img.alt = t("qrAlt", { link: l.label, url: l.url });
    $("#share-qr-wait").hidden = false;
    for (const a of [$("#dl-svg"), $("#open-card")]) { a.removeAttribute("href"); a.setAttribute("aria-disabled", "true"); }
    $("#share-error").hidden = true;
    $("#share").showModal();
    const base = linkPath(l);
    try {
      const [svg, card] = await Promise.all([
        api(`${base}/qr.svg`).then((r) => r.blob()),
        api(`${base}/card.html?locale=${enc(lang)}`).then((r) => r.blob()),
      ]);
      if (sharing !== l) return;
      img.src = await readAsDataUrl(svg);
      img.hidden = false;
      $("#share-qr-wait").hidden = true;
      blobLink($("#dl-svg"), svg, `${l.gallery}-${l.name}-qr.svg`);
      blobLink($("#open-card"), card);
    } catch (e) {
      if (sharing !== l) return;
      $("#share-qr-wait").hidden = true;
      $("#share-error").textContent = e.message;
      $("#share-error").hidden = false;
    }
  }

  async function downloadPng() {
    const l = sharing;
    try {
      const png = await (await api(`${linkPath(l)}/qr.png`)).blob();
      saveBlob(png, `${l.gallery}-${l.name}-qr.png`);
    } catch (e) { $("#share-error").textContent = e.message; $("#share-error").hidden = false; }
  }

  let kitGallery = null;
  async function openKit(g) {
    kitGallery = g;
    $("#kit-title").textContent = t("kitTitle", { gallery: g.title });
    const text = $("#kit-text");
    text.value = t("loading");
    $("#kit-error").hidden = true;
    $("#kit").showModal();
    try {
      const body = await (await api(`galleries/${enc(g.id)}/share-kit.txt?locale=${enc(lang)}`)).text();
      if (kitGallery === g) text.value = body;
    } catch (e) {
      if (kitGallery !== g) return;
      text.value = "";
      $("#kit-error").textContent = e.message;
      $("#kit-error").hidden = false;
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
  const CONFIRM_AUDIENCE = { disable: "confirmAudienceDisable", enable: "confirmAudienceEnable", revoke: "confirmAudienceRevoke" };
  async function confirmAction(l, action) {
    const ok = await ask(t((l.audience === true ? CONFIRM_AUDIENCE : CONFIRM)[action], { gallery: l.gallery_title, link: l.label, count: l.count }));
    if (!ok) return;
    try {
      await api(`${pathOf(l)}/${action}`, { method: "POST" });
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

  // The link's password: sent in the body only, never kept in the page once sent.
  let passwordFor = null;
  function openPassword(l, passphrase = "") {
    passwordFor = l;
    $("#password-title").textContent = t("passwordTitle", { gallery: l.gallery_title, link: l.label });
    $("#password-state").textContent = t(l.password_set ? "passwordIsSet" : "passwordNotSet");
    $("#password-clear").hidden = !l.password_set;
    showPassphrase(passphrase);
    $("#password-error").hidden = true;
    $("#password-suggested").hidden = true;
    $("#password").showModal();
  }

  // A generated passphrase is shown in clear (the owner must pass it on); a typed one is not.
  function showPassphrase(passphrase) {
    const input = $("#password-input");
    input.type = passphrase ? "text" : "password";
    input.value = passphrase;
    if (passphrase) { $("#password-state").textContent = t("passphraseShown"); input.select(); }
  }

  async function generatePassphrase() {
    try { showPassphrase((await (await api("passphrase")).json()).passphrase); }
    catch (e) { $("#password-error").textContent = e.message; $("#password-error").hidden = false; }
  }

  // `#password=<gallery>/<link>` (the link of a password_attack notice): that link's password
  // dialog, a new passphrase already in it, one tap from saved.
  async function openPasswordFromHash() {
    const m = /^#password=([^/]+)\/(.+)$/.exec(location.hash);
    if (!m || document.body.dataset.state !== "signed-in") return;
    history.replaceState(null, "", location.pathname);
    const [gallery, name] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
    try {
      const q = new URLSearchParams({ gallery, q: name, limit: "100" });
      const found = (await (await api(`links?${q}`)).json()).links.find((l) => l.gallery === gallery && l.name === name);
      if (!found) { status(t("unknownLink", { link: `${gallery}/${name}` })); return; }
      openPassword(found, (await (await api("passphrase")).json()).passphrase);
    } catch (e) { status(e.message); }
  }

  async function submitPassword(event) {
    const action = event.submitter && event.submitter.value;
    if (action !== "set" && action !== "clear") return;
    event.preventDefault();
    const l = passwordFor;
    const input = $("#password-input");
    if (action === "set" && !input.reportValidity()) return;
    const init = action === "set"
      ? { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: input.value }) }
      : { method: "DELETE" };
    try {
      await api(`${linkPath(l)}/password`, init);
      input.value = "";
      $("#password").close("ok");
      await loadLinks();
      status(t(action === "set" ? "passwordSaved" : "passwordCleared", { link: l.label }));
    } catch (e) {
      $("#password-error").textContent = e.message;
      $("#password-error").hidden = false;
      // A weak password comes back with a generated passphrase to take instead.
      const offer = $("#password-suggested");
      offer.hidden = !e.suggestion;
      if (e.suggestion) { offer.textContent = t("useSuggested", { passphrase: e.suggestion }); offer.onclick = () => { showPassphrase(e.suggestion); offer.hidden = true; }; }
    }
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
    const send = (body) => api(pathOf(l), {
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

  async function loadStats() {
    const g = $("#gallery").value;
    if (!g) return;
    status(t("loading"));
    try {
      const stats = await (await api(`galleries/${enc(g)}/stats?${statsQuery()}`)).json();
      fillLinkFilter(stats);
      renderStats(stats);
      loadNotifications(g);
      await Promise.all([loadFollowUp(g), loadAudit(g)]);
      status(t("updated", { time: new Date().toLocaleTimeString(lang) }));
    } catch (e) { status(e.message); }
  }

  // The gallery's notifications given up on (the worker keeps them 30 days), newest first.
  async function loadNotifications(g) {
    try {
      const n = await (await api(`galleries/${enc(g)}/notifications`)).json();
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
    Charts.render(s, $(".charts"), { lang, t });
  }

  // Follow-up: per audience (and per plain link) who to remind, with a ready-to-send text.
  async function loadFollowUp(g) {
    const f = await (await api(`galleries/${enc(g)}/follow-up`)).json();
    const box = $("#follow-up");
    if (!f.groups.length) { box.replaceChildren(el("p", { class: "muted" }, t("nobodyToRemind"))); return; }
    const who = (l) => el("li", {}, el("b", {}, l.label), " ", el("span", { class: "muted" }, l.name),
      el("div", { class: "muted" }, [l.first_open != null ? t("firstLast", { first: fmtTime(l.first_open), last: fmtTime(l.last_open) }) : "", l.views_left != null ? t("viewsLeft", { n: l.views_left }) : ""].filter(Boolean).join(" · ")));
    box.replaceChildren(...f.groups.map((grp) => {
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
    const { entries } = await (await api(`galleries/${enc(g)}/audit?${q}`)).json();
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
      const resp = await api(`galleries/${enc(g)}/audit.csv?${q}`);
      const name = (resp.headers.get("Content-Disposition") || "").match(/filename\*=UTF-8''([^;]+)/);
      saveBlob(await resp.blob(), name ? decodeURIComponent(name[1]) : `${g}-audit.csv`);
      loadAudit(g);
    } catch (e) { status(e.message); }
  }

  async function exportFile(kind) {
    const g = $("#gallery").value;
    try {
      const resp = await api(`galleries/${enc(g)}/export.${kind}?${statsQuery()}`);
      const name = (resp.headers.get("Content-Disposition") || "").match(/filename\*=UTF-8''([^;]+)/);
      saveBlob(await resp.blob(), name ? decodeURIComponent(name[1]) : `${g}.${kind}`);
    } catch (e) { status(e.message); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    applyLanguage();
    $("#lang").addEventListener("click", () => {
      lang = lang === "en" ? "zh-CN" : "en";
      localStorage.setItem("gf-admin-lang", lang);
      applyLanguage();
      if (document.body.dataset.state === "signed-in") { renderLinks(); fillGalleries(); loadStats(); }
    });
    $("#sign-in-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#token").value.trim()).then(openPasswordFromHash); });
    $("#sign-out").addEventListener("click", () => {
      token = ""; links = []; galleries = [];
      sessionStorage.removeItem("gf-admin-token");
      $("#token").value = "";
      showSignedIn(false);
    });
    // Changing the gallery drops "only this audience"; state and search narrow it further.
    $("#links-filter").addEventListener("submit", (e) => { e.preventDefault(); refilter(); });
    $("#f-gallery").addEventListener("change", () => { audienceFilter = ""; refilter(); });
    $("#f-state").addEventListener("change", refilter);
    let typing;
    $("#f-q").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(refilter, 300); });
    $("#prev-page").addEventListener("click", () => turnPage(false));
    $("#next-page").addEventListener("click", () => turnPage(true));
    $("#share-copy").addEventListener("click", (e) => copy(sharing.url, e.currentTarget, $("#share-url"), t("copiedLink", { link: sharing.label })));
    $("#dl-png").addEventListener("click", downloadPng);
    $("#share").addEventListener("close", () => { sharing = null; });
    $("#kit-copy").addEventListener("click", (e) => copy($("#kit-text").value, e.currentTarget, $("#kit-text"), t("copiedKit", { gallery: kitGallery.title })));
    $("#stats-form").addEventListener("submit", (e) => { e.preventDefault(); loadStats(); });
    $("#gallery").addEventListener("change", () => { resetLinkFilter(); loadStats(); });
    $("#export-csv").addEventListener("click", () => exportFile("csv"));
    $("#export-xlsx").addEventListener("click", () => exportFile("xlsx"));
    $("#export-audit").addEventListener("click", exportAudit);
    $("#extend-form").addEventListener("submit", submitExtend);
    $("#password-form").addEventListener("submit", submitPassword);
    $("#password-generate").addEventListener("click", generatePassphrase);
    $("#password").addEventListener("close", () => { showPassphrase(""); passwordFor = null; });
    // With a token from this tab, sign in with it; otherwise ask whether Cloudflare Access
    // already signed this person in (its assertion rides on every request).
    const signedIn = token ? signIn(token) : api("whoami").then((r) => r.json()).then((who) => who.actor && signIn(""), () => {});
    signedIn.then(openPasswordFromHash);
  });
})();
