// The admin page's Requests panel: access requests people left on closed links, every gallery's,
// open ones first with a count badge, each answered in one tap ("+7 days", "+10 views", "allow
// this device", "decline" with an optional reply shown to the person). Loaded before admin.js,
// which hands it the page's helpers and calls `load` after sign-in; `#request=<id>` (the link of
// an access_requested notice) opens the page on that request.
"use strict";
Object.assign(window.AdminStrings.en, {
  requests: "Requests", requestsHint: "People refused by a closed link who asked for access. An answer reopens the same link: nothing is sent again.",
  noRequests: "No access request.", grant7: "+7 days", grant10: "+10 views", allowDevice: "Allow this device", decline: "Decline",
  declineReply: "Reply shown to them (optional)", sendDecline: "Send decline", requestFrom: "{label} · {gallery}",
  reason_link_expired: "expired", reason_view_limit_reached: "views used up", reason_link_disabled: "disabled",
  reason_device_limit: "another device", reason_not_yet_open: "not open yet",
  rq_open: "waiting", rq_granted: "granted {answer}", rq_declined: "declined", answered: "Answered {time}",
  granted: "Granted {answer}: {link} opens again.", declined: "Declined: {link}.", openRequests: "{n} open",
});
Object.assign(window.AdminStrings["zh-CN"], {
  requests: "访问申请", requestsHint: "被已关闭链接拒绝的人提交的访问申请。处理后同一链接即可重新打开，无需重新发送。",
  noRequests: "暂无访问申请。", grant7: "+7 天", grant10: "+10 次", allowDevice: "允许此设备", decline: "拒绝",
  declineReply: "给对方的回复（可选）", sendDecline: "发送拒绝", requestFrom: "{label} · {gallery}",
  reason_link_expired: "已过期", reason_view_limit_reached: "次数已用完", reason_link_disabled: "已禁用",
  reason_device_limit: "其他设备", reason_not_yet_open: "尚未开放",
  rq_open: "等待处理", rq_granted: "已批准 {answer}", rq_declined: "已拒绝", answered: "处理于 {time}",
  granted: "已批准 {answer}：{link} 可以重新打开。", declined: "已拒绝：{link}。", openRequests: "{n} 个待处理",
});

window.AdminRequests = ({ $, t, el, api, R, fmtTime, status, reloadLinks }) => {
  let galleryIds = [];

  // Every gallery's requests, open ones first, newest first within each.
  async function load(ids = galleryIds) {
    galleryIds = ids;
    const answers = await Promise.all(ids.map((gallery) => api(R.Requests, { gallery }).then((r) => r.json())));
    const all = answers.flatMap((a) => a.requests.map((r) => ({ ...r, gallery_title: a.gallery_title })));
    all.sort((a, b) => (a.state === "open") === (b.state === "open") ? b.at - a.at : a.state === "open" ? -1 : 1);
    const open = all.filter((r) => r.state === "open").length;
    const badge = $("#requests-count");
    badge.textContent = open;
    badge.hidden = open === 0;
    badge.setAttribute("aria-label", t("openRequests", { n: open }));
    $("#requests-empty").hidden = all.length > 0;
    $("#requests").replaceChildren(...all.map(row));
    focusFromHash();
  }

  function row(r) {
    const when = fmtTime(Math.floor(r.at / 1000));
    const facts = [t(`reason_${r.reason}`) || r.reason, r.device, r.place, r.name].filter(Boolean).join(" · ");
    const item = el("li", { class: `request rq-${r.state}`, "data-request": r.id },
      el("div", { class: "request-head" },
        el("b", {}, t("requestFrom", { label: r.label, gallery: r.gallery_title })),
        el("span", { class: `pill rq-state-${r.state}` }, t(`rq_${r.state}`, { answer: r.answer ?? "" }))),
      el("div", { class: "muted" }, `${when} · ${r.link}`),
      el("div", { class: "muted" }, facts),
      r.message ? el("blockquote", { class: "request-message" }, r.message) : "",
      r.reply ? el("blockquote", { class: "request-reply" }, r.reply) : "",
      r.answered_at ? el("div", { class: "muted" }, t("answered", { time: fmtTime(Math.floor(r.answered_at / 1000)) })) : "");
    if (r.state === "open") item.append(answers(r));
    return item;
  }

  function answers(r) {
    const grant = (key, body) => el("button", { type: "button", "data-grant": key, onclick: (e) => send(e.currentTarget, r, R.GrantRequest, body, key) }, t(key));
    const reply = el("input", { type: "text", maxlength: "500", "aria-label": t("declineReply"), placeholder: t("declineReply"), class: "decline-reply" });
    const confirm = el("button", { type: "button", class: "danger", "data-decline-send": "", onclick: (e) => send(e.currentTarget, r, R.DeclineRequest, reply.value.trim() ? { reply: reply.value.trim() } : {}) }, t("sendDecline"));
    const form = el("div", { class: "decline-form" }, reply, confirm);
    form.hidden = true;
    const decline = el("button", { type: "button", class: "ghost", "data-decline": "", onclick: () => { form.hidden = !form.hidden; if (!form.hidden) reply.focus(); } }, t("decline"));
    const buttons = [grant("grant7", { extend_days: 7 }), grant("grant10", { add_views: 10 })];
    if (r.reason === "device_limit") buttons.push(grant("allowDevice", { device: true }));
    return el("div", { class: "request-actions" }, el("div", { class: "action-list" }, ...buttons, decline), form);
  }

  async function send(button, r, route, body, key) {
    button.disabled = true;
    try {
      await api(route, { request: r.id }, { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const link = `${r.label} (${r.gallery}/${r.link})`;
      status(route === R.GrantRequest ? t("granted", { answer: t(key), link }) : t("declined", { link }));
      await Promise.all([load(), reloadLinks()]);
    } catch (e) { status(e.message); button.disabled = false; }
  }

  // `#request=<id>`: scrolled to and marked, its answers one tap away.
  function focusFromHash() {
    const m = /^#request=(.+)$/.exec(location.hash);
    if (!m) return;
    const item = document.querySelector(`#requests [data-request="${CSS.escape(decodeURIComponent(m[1]))}"]`);
    if (!item) return;
    history.replaceState(null, "", location.pathname);
    item.classList.add("focused");
    item.scrollIntoView({ block: "center" });
  }

  return { load };
};
