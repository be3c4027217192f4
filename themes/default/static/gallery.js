// Gatefold gallery page: lightbox, keyboard and swipe navigation, and the end of the viewing
// session. No framework, no inline code: the page is served with script-src 'self'.
(() => {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const items = Array.from(document.querySelectorAll(".gf-item"));
  const dialog = $("#gf-lightbox");
  let current = -1;
  let opener = null;
  let sessionOver = false;

  function show(index) {
    if (!dialog || items.length === 0) return;
    current = (index + items.length) % items.length;
    const item = items[current];
    const large = item.querySelector("template.gf-large");
    const stage = $("#gf-lb-stage");
    // Cloning the inert <template> is what makes the browser fetch the large image.
    stage.replaceChildren(large ? large.content.cloneNode(true) : "");
    $("#gf-lb-caption").textContent = item.dataset.caption || "";
    $("#gf-lb-counter").textContent = (dialog.dataset.counter || "{n} / {total}")
      .replace("{n}", String(current + 1))
      .replace("{total}", String(items.length));
    const download = $(".gf-download", dialog);
    if (download && item.dataset.download) download.href = item.dataset.download;
  }

  function open(index, from) {
    if (!dialog || sessionOver) return;
    opener = from;
    show(index);
    if (!dialog.open) dialog.showModal();
    $(".gf-lb-close", dialog).focus();
  }

  if (dialog) {
    document.addEventListener("click", (event) => {
      const button = event.target.closest(".gf-thumb, .gf-cover-open");
      if (button) open(Number(button.dataset.index), button);
    });
    $(".gf-lb-close", dialog).addEventListener("click", () => dialog.close());
    $(".gf-lb-prev", dialog).addEventListener("click", () => show(current - 1));
    $(".gf-lb-next", dialog).addEventListener("click", () => show(current + 1));
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft") { event.preventDefault(); show(current - 1); }
      else if (event.key === "ArrowRight") { event.preventDefault(); show(current + 1); }
    });
    dialog.addEventListener("close", () => {
      // Drop the large image so a closed viewer holds nothing in the DOM.
      $("#gf-lb-stage").replaceChildren();
      if (opener && document.contains(opener)) opener.focus();
    });

    // Swipe left/right on the image; a tap on the empty area around it closes the viewer.
    const stage = $("#gf-lb-stage");
    let start = null;
    let swiped = false;
    stage.addEventListener("pointerdown", (event) => {
      start = { x: event.clientX, y: event.clientY };
      swiped = false;
    });
    stage.addEventListener("pointerup", (event) => {
      if (!start) return;
      const dx = event.clientX - start.x;
      const dy = event.clientY - start.y;
      start = null;
      if (Math.abs(dx) > 40 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
        swiped = true;
        show(dx < 0 ? current + 1 : current - 1);
      }
    });
    stage.addEventListener("pointercancel", () => { start = null; });
    stage.addEventListener("click", (event) => {
      if (!swiped && event.target === stage) dialog.close();
      swiped = false;
    });
  }

  // Bytes as people read them: the rule of `human_size` in the generator (render/pages.rs),
  // which formats the sizes the build knows.
  function humanSize(bytes) {
    const units = ["KB", "MB", "GB", "TB"];
    if (bytes < 1000) return `${bytes} B`;
    let value = bytes / 1000;
    let unit = 0;
    while (value >= 999.95 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return `${value < 99.95 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
  }

  // A web size's byte count is known to the worker only: ask it (HEAD, counted nowhere) the
  // first time the list of sizes opens.
  for (const sizes of document.querySelectorAll("details.gf-sizes")) {
    sizes.addEventListener("toggle", () => {
      if (!sizes.open) return;
      for (const el of sizes.querySelectorAll("[data-head]")) {
        const url = el.dataset.head;
        el.removeAttribute("data-head");
        fetch(url, { method: "HEAD", credentials: "same-origin" })
          .then((resp) => {
            const length = Number(resp.headers.get("Content-Length"));
            if (resp.ok && length > 0) el.textContent = humanSize(length);
          })
          .catch(() => { /* the size stays blank; the download itself still works */ });
      }
    });
  }

  // The worker writes the visitor's session end (Unix seconds) into this meta tag.
  const meta = $('meta[name="gatefold-session-expires"]');
  const endsAt = meta ? Number(meta.content) : NaN;
  if (!Number.isFinite(endsAt) || endsAt <= 0) return;
  const endMs = endsAt * 1000;
  const countdown = $("#gf-countdown");
  const countdownValue = $("#gf-countdown-value");
  // Empty when the link has no view duration: then the session lasts as long as the link and
  // no countdown is shown.
  const viewSeconds = $('meta[name="gatefold-view-seconds"]');
  const timed = Boolean(viewSeconds) && viewSeconds.content.trim() !== "" && Number(viewSeconds.content) > 0;

  function endSession() {
    if (sessionOver) return;
    sessionOver = true;
    if (dialog && dialog.open) dialog.close();
    for (const el of document.querySelectorAll("img, source")) {
      el.removeAttribute("srcset");
      el.removeAttribute("src");
    }
    for (const el of document.querySelectorAll("template.gf-large, .gf-download, .gf-sizes, .gf-download-all-wrap")) el.remove();
    document.body.dataset.state = "session-over";
    const notice = $("#gf-session-over");
    notice.hidden = false;
    notice.focus();
  }

  function format(ms) {
    const total = Math.ceil(ms / 1000);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  }

  function tick() {
    const left = endMs - Date.now();
    if (left <= 0) { endSession(); return; }
    if (timed && countdown) {
      countdown.hidden = false;
      countdownValue.textContent = format(left);
      countdownValue.dateTime = `PT${Math.ceil(left / 1000)}S`;
    }
  }

  tick();
  if (!sessionOver) {
    // Background tabs throttle timers, so poll and also re-check when the tab comes back.
    const timer = setInterval(() => { tick(); if (sessionOver) clearInterval(timer); }, 1000);
    document.addEventListener("visibilitychange", tick);
  }
})();
