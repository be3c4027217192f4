// A local HTTP receiver standing in for every notification platform (tests/e2e/notify*.test.mjs):
// /feishu, /dingtalk, /wecom, /slack and /webhook each answer in their platform's success shape,
// keep every request (path, query, headers, raw body), and can be told to answer 500 a number of
// times first. Signatures are checked here with Node's crypto, independently of the worker's
// signer, following each platform's published algorithm.
import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";

const SUCCESS = {
  feishu: { status: 200, body: JSON.stringify({ code: 0, msg: "success", data: {} }) },
  dingtalk: { status: 200, body: JSON.stringify({ errcode: 0, errmsg: "ok" }) },
  wecom: { status: 200, body: JSON.stringify({ errcode: 0, errmsg: "ok" }) },
  slack: { status: 200, body: "ok" },
  webhook: { status: 204, body: "" },
};

export const PLATFORMS = Object.keys(SUCCESS);

/** The signing secrets the test hands the worker (one per signing platform). */
export const SIGN = { feishu: "feishu-sign-secret", dingtalk: "SECdingtalk-sign-secret", webhook: "whsec-gatefold-e2e" };

export async function startReceiver() {
  const received = [];
  const failures = {};
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url, "http://receiver");
      const platform = url.pathname.slice(1);
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ platform, query: url.searchParams, headers: req.headers, body, json: safeJson(body), at: Date.now() });
      if ((failures[platform] ?? 0) > 0) {
        failures[platform] -= 1;
        res.writeHead(500, { "content-type": "text/plain" }).end("receiver down");
        return;
      }
      const answer = SUCCESS[platform] ?? { status: 404, body: "no such platform" };
      res.writeHead(answer.status, { "content-type": platform === "slack" ? "text/plain" : "application/json" }).end(answer.body);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    received,
    /** The worker bindings pointing every channel of `notify-g` here. */
    bindings: {
      NOTIFY_FEISHU_URL: `${base}/feishu`,
      NOTIFY_FEISHU_SIGN: SIGN.feishu,
      NOTIFY_DINGTALK_URL: `${base}/dingtalk?access_token=e2e`,
      NOTIFY_DINGTALK_SIGN: SIGN.dingtalk,
      NOTIFY_WECOM_URL: `${base}/wecom?key=e2e`,
      NOTIFY_SLACK_URL: `${base}/slack`,
      NOTIFY_WEBHOOK_URL: `${base}/webhook`,
      NOTIFY_WEBHOOK_SIGN: SIGN.webhook,
    },
    /** The next `times` requests to `platform` answer 500. */
    failNext(platform, times) { failures[platform] = times; },
    clear() { received.length = 0; },
    stop: () => new Promise((r) => server.close(r)),
  };
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

const b64 = (key, message) => createHmac("sha256", key).update(message).digest("base64");

function same(a, b) {
  const [x, y] = [Buffer.from(String(a)), Buffer.from(String(b))];
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Whether a received request carries a valid signature by its platform's rules:
 * - Feishu: body `timestamp` (seconds) and `sign` = Base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = "")).
 * - DingTalk: URL `timestamp` (ms) and `sign` = Base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret)).
 * - Webhook: `X-Gatefold-Signature: sha256=` hex HMAC-SHA256(key = secret, message = timestamp + "." + raw body).
 * Each also within five minutes of now.
 */
export function signatureValid(r) {
  const fresh = (seconds) => Math.abs(Date.now() / 1000 - Number(seconds)) < 300;
  switch (r.platform) {
    case "feishu":
      return fresh(r.json?.timestamp) && same(r.json.sign, b64(`${r.json.timestamp}\n${SIGN.feishu}`, ""));
    case "dingtalk": {
      const ts = r.query.get("timestamp");
      return fresh(Number(ts) / 1000) && same(r.query.get("sign"), b64(SIGN.dingtalk, `${ts}\n${SIGN.dingtalk}`));
    }
    case "webhook": {
      const ts = r.headers["x-gatefold-timestamp"];
      const want = createHmac("sha256", SIGN.webhook).update(`${ts}.${r.body}`).digest("hex");
      return fresh(ts) && same(r.headers["x-gatefold-signature"], `sha256=${want}`);
    }
    default:
      return true;
  }
}
