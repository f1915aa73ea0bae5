// Sum a Chromium .cpuprofile (bench/feed_chromium.spec.ts, CORDON_BENCH_PROFILE=dir) by
// function: self time and total (inclusive) time, the top N of each.
// node bench/cpuprofile_top.mjs dir/backlog.cpuprofile [N]
import { readFileSync } from "node:fs";

const [file, n = "25"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
const label = (node) => {
  const f = node.callFrame;
  const url = f.url ? f.url.replace(/^.*\/assets\//, "").replace(/^.*\/src\//, "src/") : "";
  return `${f.functionName || "(anonymous)"} ${url}${url ? `:${f.lineNumber + 1}` : ""}`;
};
const selfBy = new Map();
const totalBy = new Map();
let all = 0;
for (const [id, us] of self) {
  all += us;
  const node = nodes.get(id);
  selfBy.set(label(node), (selfBy.get(label(node)) ?? 0) + us);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const l = label(nodes.get(at));
    if (seen.has(l)) continue;
    seen.add(l);
    totalBy.set(l, (totalBy.get(l) ?? 0) + us);
  }
}
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n)).map(([l, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${l}`).join("\n");
console.log(`sampled ${(all / 1000).toFixed(0)} ms\n-- self --\n${top(selfBy)}\n-- total --\n${top(totalBy)}`);
