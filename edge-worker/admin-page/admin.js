// Gatefold admin page. The token lives in sessionStorage (gone when the tab closes, never sent
// as a cookie, so no CSRF); every request carries it as a bearer header.
"use strict";
(() => {
  const STRINGS = window.AdminStrings;
  const $ = (sel) => document.querySelector(sel);
  let lang = localStorage.getItem("gf-admin-lang") || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en");
  if (!STRINGS[lang]) lang = "en";
  const t = (key, vars = {}) => (STRINGS[lang][key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
  const enc = encodeURIComponent;
  // The admin API's routes by name, from the worker's one table of them (contract::admin::ROUTES,
  // served as /admin/routes.js): the page spells no path of its own.
  const R = Object.fromEntries(window.AdminRoutes.map((r) => [r.name, r]));
  // A route's path with its placeholders filled. A link's name is <link> or, for a recipient,
  // <audience>/<recipient>: each part is encoded on its own so the slash stays a path separator.
  const fill = (route, names) => route.path.replace(/\{(\w+)\}/g, (_, k) => k === "link" ? names.link.split("/").map(enc).join("/") : enc(names[k]));
  // What the confirm and extend dialogs act on: a link, or a whole audience (its `names`).
  const namesOf = (x) => x.names ?? { gallery: x.gallery, link: x.name };
  const SWITCH = {
    link: { disable: R.Disable, enable: R.Enable, revoke: R.Revoke, patch: R.Patch, open_now: R.OpenNow },
    audience: { disable: R.DisableAudience, enable: R.EnableAudience, revoke: R.RevokeAudience, patch: R.PatchAudience },
  };
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

  /** `route` (a row of `R`) with `names` in its path, `query` after it; the method is the route's. */
  async function api(route, names = {}, { query = "", ...init } = {}) {
    let resp;
    try {
      // Without a token the request relies on Cloudflare Access, whose assertion the edge adds.
      const auth = token ? { Authorization: `Bearer ${token}` } : {};
      resp = await fetch(`/admin/api/${fill(route, names)}${query}`, { ...init, method: route.method, headers: { ...(init.headers || {}), ...auth } });
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
    await Promise.all([panel.loadStats(), requestsPanel.load(galleries.map((g) => g.id)).catch((e) => status(e.message))]);
  }

  function linksQuery(offset) {
    const q = new URLSearchParams();
    for (const [k, id] of [["gallery", "#f-gallery"], ["state", "#f-state"], ["q", "#f-q"]]) {
      const v = $(id).value.trim();
      if (v) q.set(k, v);
    }
    if (audienceFilter) q.set("audience", audienceFilter);
    if ($("#f-forwarded").checked) q.set("forwarded", "1");
    q.set("offset", offset);
    q.set("limit", PAGE_SIZE);
    return q.toString();
  }

  /** Asks the worker for one page of links under the current filters (the page shown by default). */
  async function loadLinks(offset = offsets[offsets.length - 1]) {
    const asked = ++linksAsked;
    const data = await (await api(R.Links, {}, { query: `?${linksQuery(offset)}` })).json();
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
    const { badge: opens, action: openNow } = scheduled(l);
    const cell = (key, cls, ...children) => el("td", { class: cls, "data-label": t(key) }, ...children);
    const group = l.audience ? { "data-audience": `${l.gallery}/${l.audience}`, class: "recipient" } : {};
    const row = el("tr", { "data-gallery": l.gallery, "data-link": l.name, ...group },
      el("td", { class: "link-cell" }, el("b", { class: "label" }, l.label), el("small", {}, l.name),
        el("span", { class: "url-line" }, url,
          el("button", { type: "button", class: "ghost copy", "data-action": "copy", "data-i18n": "copyLink", onclick: (e) => copy(l.url, e.currentTarget, url, t("copiedLink", { link: l.label })) }, t("copyLink")))),
      cell("gallery", "gallery-cell", l.gallery_title, el("small", {}, l.gallery)),
      cell("state", "state-cell", el("span", { class: `state state-${l.state}`, "data-state": l.state }, t(`st_${l.state}`)), ...opens, ...activity, ...devices.badges(l), ...why, ...password, ...attack, ...notices),
      cell("views", "views-cell", el("span", { class: "views" }, views), el("small", {}, t("lastOpenAt", { time: fmtTime(l.last_open) }))),
      cell("expires", "expires", l.expires_at == null ? t("noExpiry") : fmtTime(l.expires_at)),
      el("td", { class: "actions" }, el("div", { class: "action-list" }, ...openNow, toggle,
        el("button", { type: "button", class: "ghost", "data-action": "share", onclick: () => openShare(l) }, t("share")),
        el("button", { type: "button", class: "ghost", "data-action": "extend", onclick: () => openExtend(l) }, t("extend")),
        el("button", { type: "button", class: "ghost", "data-action": "revoke", onclick: () => confirmAction(l, "revoke") }, t("revoke")), ...passwordAction, devices.button(l))),
    );
    row.hidden = Boolean(l.audience) && collapsed.has(`${l.gallery}/${l.audience}`);
    return row;
  }

  // A link published with `opens_at:` still ahead: when it opens, and "Open now" (a runtime
  // change that lapses once a publish moves that moment).
  function scheduled(l) {
    if (l.opens_at == null) return { badge: [], action: [] };
    const time = fmtTime(l.opens_at);
    return {
      badge: [el("small", { class: "why opens-at", "data-why": "opens_at" }, t("opensOn", { time }))],
      action: [el("button", { type: "button", "data-action": "open-now", onclick: () => confirmAction({ ...l, time }, "open_now") }, t("openNow"))],
    };
  }

  // An audience's row above its recipients: its counts and the actions on all of them at once
  // (one write each, whatever the number of recipients).
  function audienceRow(a) {
    const key = `${a.gallery}/${a.name}`;
    const target = { names: { gallery: a.gallery, audience: a.name }, gallery_title: a.gallery, label: a.label, name: a.name, count: a.recipients, max_views: a.overrides.max_views ?? null, audience: true };
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
      const res = await api(R.MailMerge, { gallery: g.id });
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
    const names = namesOf(l);
    try {
      const [svg, card] = await Promise.all([
        api(R.QrSvg, names).then((r) => r.blob()),
        api(R.Card, names, { query: `?locale=${enc(lang)}` }).then((r) => r.blob()),
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
      const png = await (await api(R.QrPng, namesOf(l))).blob();
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
      const body = await (await api(R.ShareKit, { gallery: g.id }, { query: `?locale=${enc(lang)}` })).text();
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

  const CONFIRM = { disable: "confirmDisable", enable: "confirmEnable", revoke: "confirmRevoke", open_now: "confirmOpenNow" };
  const CONFIRM_AUDIENCE = { disable: "confirmAudienceDisable", enable: "confirmAudienceEnable", revoke: "confirmAudienceRevoke" };
  async function confirmAction(l, action) {
    const ok = await ask(t((l.audience === true ? CONFIRM_AUDIENCE : CONFIRM)[action], { gallery: l.gallery_title, link: l.label, count: l.count, time: l.time }));
    if (!ok) return;
    try {
      await api(SWITCH[l.audience === true ? "audience" : "link"][action], namesOf(l));
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
    try { showPassphrase((await (await api(R.Passphrase)).json()).passphrase); }
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
      const found = (await (await api(R.Links, {}, { query: `?${q}` })).json()).links.find((l) => l.gallery === gallery && l.name === name);
      if (!found) { status(t("unknownLink", { link: `${gallery}/${name}` })); return; }
      openPassword(found, (await (await api(R.Passphrase)).json()).passphrase);
    } catch (e) { status(e.message); }
  }

  async function submitPassword(event) {
    const action = event.submitter && event.submitter.value;
    if (action !== "set" && action !== "clear") return;
    event.preventDefault();
    const l = passwordFor;
    const input = $("#password-input");
    if (action === "set" && !input.reportValidity()) return;
    try {
      if (action === "set") await api(R.SetPassword, namesOf(l), { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: input.value }) });
      else await api(R.ClearPassword, namesOf(l));
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
    const send = (body) => api(SWITCH[l.audience === true ? "audience" : "link"].patch, namesOf(l), {
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
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

  // The statistics, notifications, follow-up and audit panel (stats.js), on this page's helpers.
  const panel = window.AdminStats({ $, t, el, api, R, fmtTime, status, copy, saveBlob, lang: () => lang });
  // The access requests' panel (requests.js); an answer reopens a link, so the links reload.
  const requestsPanel = window.AdminRequests({ $, t, el, api, R, fmtTime, status, reloadLinks: () => loadLinks() });
  // A link's devices and its forwarding flag (devices.js).
  const devices = window.AdminDevices({ $, t, el, api, R, fmtTime, status, reload: () => loadLinks().catch((e) => status(e.message)) });

  document.addEventListener("DOMContentLoaded", () => {
    applyLanguage();
    $("#lang").addEventListener("click", () => {
      lang = lang === "en" ? "zh-CN" : "en";
      localStorage.setItem("gf-admin-lang", lang);
      applyLanguage();
      if (document.body.dataset.state === "signed-in") { renderLinks(); fillGalleries(); panel.loadStats(); requestsPanel.load(); }
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
    $("#f-forwarded").addEventListener("change", refilter);
    devices.wire();
    let typing;
    $("#f-q").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(refilter, 300); });
    $("#prev-page").addEventListener("click", () => turnPage(false));
    $("#next-page").addEventListener("click", () => turnPage(true));
    $("#share-copy").addEventListener("click", (e) => copy(sharing.url, e.currentTarget, $("#share-url"), t("copiedLink", { link: sharing.label })));
    $("#dl-png").addEventListener("click", downloadPng);
    $("#share").addEventListener("close", () => { sharing = null; });
    $("#kit-copy").addEventListener("click", (e) => copy($("#kit-text").value, e.currentTarget, $("#kit-text"), t("copiedKit", { gallery: kitGallery.title })));
    $("#stats-form").addEventListener("submit", (e) => { e.preventDefault(); panel.loadStats(); });
    $("#gallery").addEventListener("change", () => { panel.resetLinkFilter(); panel.loadStats(); });
    $("#export-csv").addEventListener("click", () => panel.exportFile("csv"));
    $("#export-xlsx").addEventListener("click", () => panel.exportFile("xlsx"));
    $("#export-audit").addEventListener("click", panel.exportAudit);
    $("#extend-form").addEventListener("submit", submitExtend);
    $("#password-form").addEventListener("submit", submitPassword);
    $("#password-generate").addEventListener("click", generatePassphrase);
    $("#password").addEventListener("close", () => { showPassphrase(""); passwordFor = null; });
    // With a token from this tab, sign in with it; otherwise ask whether Cloudflare Access
    // already signed this person in (its assertion rides on every request).
    const signedIn = token ? signIn(token) : api(R.WhoAmI).then((r) => r.json()).then((who) => who.actor && signIn(""), () => {});
    signedIn.then(openPasswordFromHash);
  });
})();
