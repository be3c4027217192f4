// The admin page's devices panel: a link's devices (`devices:` ties it to its recipient's first
// N), its "possibly forwarded" badge with the evidence, forgetting a device and allowing one
// more. Loaded before admin.js, which hands it the page's helpers and puts what it returns on
// each link's row.
"use strict";
window.AdminDevices = ({ $, t, el, api, R, fmtTime, status, reload }) => {
  let open = null; // the link whose devices the dialog shows

  /** "2 of 2 devices" (with a limit) or "3 devices": a link's slots at a glance. */
  function slots(limit, summary) {
    return limit == null ? t("devicesCount", { count: summary.count })
      : t("devicesOfLimit", { count: summary.count, limit: limit + (summary.extra || 0) });
  }

  /** The row's badges: its devices, and "possibly forwarded" when the link's gate flagged it. */
  function badges(l) {
    const d = l.devices || { count: 0 };
    const out = [];
    if (l.policy.devices != null || d.count > 0) out.push(el("small", { class: "why", "data-why": "devices" }, slots(l.policy.devices ?? null, d)));
    if (d.forwarding) {
      out.push(el("span", { class: "badge forwarded", role: "note", "data-why": "forwarding", title: evidence(d.forwarding) }, t("forwarded")));
    }
    return out;
  }

  function evidence(f) {
    const cities = f.cities.length ? ` (${f.cities.join(", ")})` : "";
    return t(`fwd_${f.reason}`, { devices: f.devices.length, cities: f.cities.length, names: cities, time: fmtTime(f.at) });
  }

  function button(l) {
    return el("button", { type: "button", class: "ghost", "data-action": "devices", onclick: () => show(l) }, t("devices"));
  }

  function deviceRow(d) {
    const forget = el("button", { type: "button", class: "ghost", "data-action": "forget", "data-device": d.id, onclick: () => change(R.ForgetDevice, { device: d.id }) }, t("forgetDevice"));
    return el("li", { class: d.admitted ? "device" : "device refused", "data-device": d.id },
      el("b", {}, `${d.browser} · ${d.os}`), el("small", {}, d.city || t("unknownCity")),
      el("small", {}, t("deviceSeen", { first: fmtTime(d.first_seen), last: fmtTime(d.last_seen) })),
      ...(d.admitted ? [] : [el("small", { class: "notice" }, t("deviceRefused"))]), forget);
  }

  function render(answer) {
    $("#devices-title").textContent = `${answer.label} · ${slots(answer.limit, answer.summary)}`;
    $("#devices-help").textContent = answer.limit == null ? t("devicesNoLimit") : t("devicesHelp", { limit: answer.limit });
    const f = answer.summary.forwarding;
    $("#devices-flag").hidden = !f;
    $("#devices-flag").textContent = f ? `${t("forwarded")}: ${evidence(f)}` : "";
    $("#devices-list").replaceChildren(...answer.devices.map(deviceRow));
    $("#devices-empty").hidden = answer.devices.length > 0;
  }

  async function show(l) {
    open = { gallery: l.gallery, link: l.name };
    $("#devices-error").hidden = true;
    $("#devices-list").replaceChildren();
    $("#devices").showModal();
    try { render(await (await api(R.Devices, open)).json()); }
    catch (e) { fail(e); }
  }

  function fail(e) {
    $("#devices-error").textContent = e.message;
    $("#devices-error").hidden = false;
  }

  async function change(route, body) {
    if (!open) return;
    $("#devices-error").hidden = true;
    try {
      const init = body ? { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } } : {};
      render(await (await api(route, open, init)).json());
      status(t(route === R.AllowDevice ? "allowedDevice" : "forgotDevice"));
      reload();
    } catch (e) { fail(e); }
  }

  function wire() {
    $("#devices-allow").addEventListener("click", () => change(R.AllowDevice));
    $("#devices").addEventListener("close", () => { open = null; });
  }

  return { badges, button, wire };
};
