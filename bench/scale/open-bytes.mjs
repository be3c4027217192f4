// Bytes the worker reads to open one link of a built site: site.json, the link's token shard,
// its gallery's record and the page template of its download mode (the files the worker fetches
// from static assets for a page; display images come from R2 afterwards, one per request).
// `parsed` is what of it becomes values: the open checks the gallery record's format and id and
// skips the rest unparsed (its link comes from the shard), where a whole record is parsed the
// record counts whole.
//
//   node bench/scale/open-bytes.mjs <dist> [gallery]    → JSON on stdout
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const [dist, wanted] = process.argv.slice(2);
if (!dist) throw new Error("usage: open-bytes.mjs <dist> [gallery]");
const site = join(dist, "site");
const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8"));
const gallery = manifest.galleries[wanted ?? Object.keys(manifest.galleries)[0]];
const link = Object.values(gallery.links)[0];
const size = (p) => statSync(join(site, p)).size;

// The shard is named by a BLAKE3 hash of the token; finding it by content spares the benchmark a
// hashing dependency and checks that the token is in exactly one shard.
const shardDir = join(site, "_gatefold/t");
const shards = readdirSync(shardDir).filter((f) => JSON.parse(readFileSync(join(shardDir, f), "utf8")).tokens?.[link.token]);
if (shards.length !== 1) throw new Error(`token of ${gallery.id}/${link.name} is in ${shards.length} shards`);
const entry = JSON.parse(readFileSync(join(shardDir, shards[0]), "utf8")).tokens[link.token];
// A shard entry that carries the link itself means the open needs no more of the record.
const recordParsed = typeof entry.link === "object";

const d = link.policy.download;
const mode = d.original && d.web ? "both" : d.original ? "original" : d.web ? "web" : "view";
const files = {
  site: "_gatefold/site.json",
  shard: `_gatefold/t/${shards[0]}`,
  gallery: `_gatefold/g/${gallery.id}.json`,
  page: `_gatefold/pages/${gallery.id}.${mode}.${manifest.site.default_locale}.json`,
};
const bytes = Object.fromEntries(Object.entries(files).map(([k, p]) => [k, size(p)]));
bytes.total = Object.values(bytes).reduce((a, b) => a + b, 0);
bytes.parsed = bytes.total - (recordParsed ? bytes.gallery : 0);
bytes.manifest = statSync(join(dist, "manifest.json")).size;
console.log(JSON.stringify(bytes));
