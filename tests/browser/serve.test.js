// serve.test.js — af-serve's page in Debian's headless Chromium, driven by puppeteer-core:
// load, search against the fake providers (suggestions), classify, play the preview, see
// the bars and the per-window chart, the nearest tracks, record a correction.
// Usage: node serve.test.js URL SCREENSHOT.png   (prints "ok - ..." / "not ok - ..." lines;
// exits 1 when a check failed).  tests/integration/test_serve.sh runs it.
"use strict";
const puppeteer = require("puppeteer-core");

const [url, screenshot] = process.argv.slice(2);
let failed = 0;
function check(ok, name, detail) {
  console.log((ok ? "ok - " : "not ok - ") + "browser: " + name);
  if (!ok) { failed++; if (detail !== undefined) console.log("#   " + String(detail).slice(0, 400)); }
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 1300 });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const response = await page.goto(url, { waitUntil: "networkidle0", timeout: 30000 });
    check(response.status() === 200, "the page loads", response.status());
    await page.waitForFunction(() => document.getElementById("model").textContent.includes("high"), { timeout: 10000 });
    check(true, "the page shows the model and its genres");

    // Typing asks the providers for suggestions.
    await page.type("#q", "Low Band - Deep Tone");
    await page.waitForSelector("#candidates li", { timeout: 15000 });
    const candidates = await page.$$eval("#candidates li", (lis) => lis.map((li) => li.textContent));
    check(candidates.length === 3 && candidates[0].includes("Low Band - Deep Tone (deezer"),
          "typing lists the candidates as suggestions", candidates.join(" | "));
    const options = await page.$$eval("#suggestions option", (os) => os.length);
    check(options === 3, "the search box offers them as suggestions", options);

    // Classify the best match.
    await page.click("#classify");
    await page.waitForSelector("#bars .bar", { timeout: 60000 });
    const bars = await page.$$eval("#bars .bar", (rows) => rows.map((r) => [r.dataset.genre, parseFloat(r.querySelector(".fill").style.width)]));
    const total = bars.reduce((s, b) => s + b[1], 0);
    check(bars.length === 3 && Math.abs(total - 100) < 1 && bars[0][1] >= bars[1][1],
          "the genre probabilities are bars, highest first, summing to 100 %", JSON.stringify(bars));
    const title = await page.$eval("#title", (e) => e.textContent);
    check(title === "Low Band - Deep Tone", "the title is shown", title);
    const source = await page.$eval("#source", (e) => e.textContent);
    check(source.includes("preview from deezer"), "the preview's source is named", source);
    const cover = await page.$eval("#cover", (e) => e.complete && e.naturalWidth > 0);
    check(cover, "a cover is shown");
    const chart = await page.$eval("#windows", (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let coloured = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] === d[i + 1] && d[i + 1] === d[i + 2])) coloured++;
      return coloured;
    });
    check(chart > 200, "the per-window chart is drawn", chart);
    const legend = await page.$eval("#legend", (e) => e.textContent);
    check(["high", "low", "noise"].every((g) => legend.includes(g)), "the chart has a legend", legend);
    const similar = await page.$$eval("#similar li", (lis) => lis.map((li) => li.textContent));
    check(similar.length === 8 && /distance/.test(similar[0]), "the nearest tracks are listed", similar.join(" | "));

    // Play the preview.
    const played = await page.evaluate(async () => {
      const p = document.getElementById("player");
      try { await p.play(); } catch (e) { return "play failed: " + e.message; }
      await new Promise((r) => setTimeout(r, 1500));
      return p.currentTime;
    });
    check(typeof played === "number" && played > 0.2, "the preview plays", played);
    const duration = await page.$eval("#player", (p) => p.duration);
    check(duration > 29 && duration < 31, "the player has the 30 s preview", duration);

    await page.screenshot({ path: screenshot, fullPage: true });

    // Wrong genre? Choose the right one.
    await page.select("#genre", "noise");
    await page.type("#by", "browser test");
    await page.type("#note", "it hisses");
    await page.click("#correct");
    await page.waitForFunction(() => document.getElementById("correct-status").textContent !== "", { timeout: 10000 });
    const recorded = await page.$eval("#correct-status", (e) => e.textContent);
    check(recorded.startsWith("recorded: track") && recorded.includes("is noise"), "the correction is recorded", recorded);
    check(errors.length === 0, "no script errors", errors.join(" | "));
  } catch (e) {
    check(false, "the browser run finished", e.stack);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})();
