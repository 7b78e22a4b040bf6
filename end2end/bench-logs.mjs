// The browser half of `cargo bench --bench logs`: signs in as the bench's
// account, opens the deployment with the 100,000-line log and measures
// what a reader waits for. Prints a few lines for the bench to show.
import { chromium } from "playwright";

const [base, id] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${base}/signin`);
await page.locator("body[data-hydrated]").waitFor();
await page.getByLabel("Email").fill("bench@example.com");
await page.getByLabel("Password").fill("correct horse");
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL(`${base}/`);

const nodes = () => page.evaluate(() => {
  const walker = document.createTreeWalker(document.documentElement);
  let n = 1;
  while (walker.nextNode()) n++;
  return n;
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = Date.now();
await page.goto(`${base}/deployments/${id}`);
await page.locator("body[data-hydrated]").waitFor();
const hydrated = Date.now() - t0;
const ssrNodes = await nodes();
const view = page.getByLabel("Output of step 1");
await page.locator(".log-note").filter({ hasText: "Loading" }).waitFor({ state: "detached", timeout: 60_000 });
await view.locator("#step-1-L100002").waitFor({ timeout: 60_000 });
const loaded = Date.now() - t0;
console.log(`  browser: hydrated after ${hydrated} ms, whole log drawn after ${loaded} ms`);
console.log(`  document nodes: ${ssrNodes} as served, ${await nodes()} with the whole log drawn`);

// Search, timed in the page: the search itself (data-ms) and until the
// next frame is painted with the matches drawn.
for (const q of ["99999", "ok 5000", "warn"]) {
  const runs = [];
  let count = "";
  for (let i = 0; i < 5; i++) {
    const r = await page.evaluate(async (q) => {
      const input = document.querySelector('input[aria-label="Search logs"]');
      const t = performance.now();
      input.value = q;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const painted = performance.now() - t;
      const c = document.querySelector(".log-count");
      const res = { painted, search: Number(c.dataset.ms), count: c.textContent };
      input.value = "";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      await new Promise((r) => requestAnimationFrame(r));
      return res;
    }, q);
    runs.push(r);
    count = r.count;
  }
  console.log(`  search ${JSON.stringify(q).padEnd(18)} ${count.padEnd(14)} search ${median(runs.map((r) => r.search)).toFixed(1)} ms, painted ${median(runs.map((r) => r.painted)).toFixed(1)} ms (median of 5)`);
}

// Scrolling: 100 jumps through the log, each drawn in the next frame.
const frames = await view.evaluate(async (el) => {
  const times = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    el.scrollTop = (el.scrollHeight * i) / 100;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    times.push(performance.now() - t);
  }
  return times;
});
console.log(`  scrolling: a jump drawn in ${median(frames).toFixed(1)} ms (median of 100, two frames), max ${Math.max(...frames).toFixed(1)} ms; ${await nodes()} nodes`);
await browser.close();
