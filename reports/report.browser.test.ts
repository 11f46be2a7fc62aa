// Opens a generated report in a real browser (Debian's chromium, driven by playwright-core) and checks what a
// reader would see: every plot drawn (a canvas of non-zero size whose pixels include its series colour), fault
// spans shaded, no console errors, no request but the file itself. Takes a full-page screenshot into a temporary
// directory; `npm run screenshot` (KTV_SCREENSHOT=reports/screenshot.png) regenerates the README's one, so that
// `npm test` never rewrites a tracked file. Without chromium the test fails in CI (CI=true) and is skipped locally.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseline, writeResults } from "./fixtures/make-results.ts";
import { buildCharts } from "./report/charts.ts";
import { FAULT_COLORS } from "./report/faults.ts";
import { writeReport } from "./report/write.ts";

const CHROMIUM = process.env.KTV_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === "true" || process.env.CI === "1";
const TRACKED_SCREENSHOT = resolve(import.meta.dirname, "screenshot.png");
const SCREENSHOT = process.env.KTV_SCREENSHOT
  ? resolve(process.env.KTV_SCREENSHOT)
  : join(mkdtempSync(join(tmpdir(), "ktv-screenshot-")), "screenshot.png");
// A fixed path and time, so the committed screenshot only changes when the report does.
const RESULTS_DIR = resolve(import.meta.dirname, "../.ktv/report-browser-test/regression-seed-1");
const MANY_DIR = resolve(import.meta.dirname, "../.ktv/report-browser-test/many-buckets");
const GENERATED_AT = new Date("2025-06-01T08:01:05.000Z");
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

interface ChartProbe {
  id: string;
  rendered: boolean;
  error: string | null;
  canvases: number;
  width: number;
  height: number;
  /** Pixels that differ from the background. */
  inked: number;
  /** Pixels close to the chart's first series colour. */
  seriesPixels: number;
  /** Pixels of the first fault's shaded span: its colour at 13% opacity (the canvas itself is transparent). */
  faultPixels: number;
  legendRows: number;
  axisLabels: string[];
}

describe("the HTML report in chromium", () => {
  it("has a browser to run in", () => {
    if (!HAVE_CHROMIUM && IN_CI) {
      throw new Error(
        `${CHROMIUM} is missing: the report's browser test needs Debian's chromium (apt-get install -y chromium)`,
      );
    }
  });

  describe.skipIf(!HAVE_CHROMIUM)("rendered", () => {
    let context: BrowserContext;
    let profile: string;
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    let reportUrl: string;
    let probes: ChartProbe[];
    let injectedRan: unknown;
    let collecting = true;
    const xLabels: Record<string, XLabels | null> = {};
    const expected = buildCharts({ dir: RESULTS_DIR, ...baseline(1) }).charts;

    beforeAll(async () => {
      rmSync(RESULTS_DIR, { recursive: true, force: true });
      writeResults(RESULTS_DIR, baseline(1));
      const { html } = writeReport(RESULTS_DIR, { generatedAt: GENERATED_AT });
      reportUrl = pathToFileURL(html).href;
      profile = mkdtempSync(join(tmpdir(), "ktv-chromium-"));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: { width: 1360, height: 900 },
        deviceScaleFactor: 1,
        offline: true,
      });
      const page = context.pages()[0] ?? (await context.newPage());
      page.on("console", (m) => {
        if (collecting && m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => {
        if (collecting) consoleErrors.push(`uncaught: ${e.message}`);
      });
      context.on("request", (r) => {
        if (collecting) requests.push(r.url());
      });
      await page.goto(reportUrl, { waitUntil: "load" });
      // A string: evaluated in the page, where `document` exists.
      await page.waitForFunction("document.documentElement.dataset.chartsRendered !== undefined", null, {
        timeout: 10_000,
      });
      probes = await page.evaluate(probeCharts, FAULT_COLORS[0]!);
      xLabels.fixture = await page.evaluate(histogramLabels);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      // Last, as it makes the browser log a CSP violation on purpose: the page's policy is in force.
      collecting = false;
      // A real run's lateness histogram: 15 buckets of "0.02–0.05"-wide labels, too many to sit side by side.
      const many = baseline(1);
      many.summary.histograms!.mix_lateness_ms = {
        bounds: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200],
        counts: [10, 7, 24, 55, 93, 254, 397, 282, 159, 83, 72, 95, 60, 9, 0],
      };
      writeResults(MANY_DIR, many);
      const second = await context.newPage();
      await second.goto(pathToFileURL(writeReport(MANY_DIR, { generatedAt: GENERATED_AT }).html).href);
      await second.waitForFunction("document.documentElement.dataset.chartsRendered !== undefined");
      xLabels.many = await second.evaluate(histogramLabels);
      await second.close();
      injectedRan = await page.evaluate(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.__injected = 1';" +
          " document.body.appendChild(s); return window.__injected === 1; })()",
      );
    });

    afterAll(async () => {
      await context?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it("draws every plot: a canvas of non-zero size with its series on it", () => {
      expect(probes.map((p) => p.id)).toEqual(expected.map((c) => c.id));
      for (const p of probes) {
        const where = `chart ${p.id}`;
        expect(p.error, where).toBeNull();
        expect(p.rendered, where).toBe(true);
        expect(p.canvases, where).toBe(1);
        expect(p.width, where).toBeGreaterThan(300);
        expect(p.height, where).toBeGreaterThan(100);
        expect(p.inked, where).toBeGreaterThan(2000);
        expect(p.seriesPixels, where).toBeGreaterThan(20);
      }
    });

    it("labels every plot's axes and gives it a legend", () => {
      for (const p of probes) {
        const spec = expected.find((c) => c.id === p.id)!;
        expect(p.axisLabels, p.id).toEqual(
          expect.arrayContaining([spec.x.label, spec.y.label, ...(spec.y2 ? [spec.y2.label] : [])]),
        );
        // One legend row for x plus one per series (and one per fault on time plots).
        expect(p.legendRows, p.id).toBeGreaterThanOrEqual(spec.series.length + 1);
      }
    });

    it("shades the fault spans on the time plots", () => {
      const timePlots = probes.filter((p) => expected.find((c) => c.id === p.id)!.faults);
      expect(timePlots.length).toBeGreaterThan(5);
      for (const p of timePlots) expect(p.faultPixels, p.id).toBeGreaterThan(1000);
      const cdf = probes.find((p) => p.id === "ttfa-cdf")!;
      expect(cdf.faultPixels).toBe(0);
    });

    it("logs no console errors and requests nothing but the file", () => {
      expect(consoleErrors).toEqual([]);
      expect([...new Set(requests)]).toEqual([reportUrl]);
    });

    it("enforces its Content-Security-Policy: an injected inline script does not run", () => {
      expect(injectedRan).toBe(false);
    });

    it("lays the histogram's bucket labels out without overlap: flat when they fit, slanted when not", () => {
      expect(xLabels.fixture).toMatchObject({ rotate: 0, fits: true });
      expect(xLabels.fixture!.widest + 8).toBeLessThanOrEqual(xLabels.fixture!.slot);
      // Flat, 15 labels of up to "100–200" would overlap: slanted 45°, one 14 px line fits between neighbours.
      expect(xLabels.many!.widest + 8).toBeGreaterThan(xLabels.many!.slot);
      expect(xLabels.many).toMatchObject({ rotate: 45, fits: true });
      expect(xLabels.many!.slot * Math.SQRT1_2).toBeGreaterThanOrEqual(14);
      expect(xLabels.many!.size).toBeGreaterThanOrEqual(xLabels.many!.widest * Math.SQRT1_2);
    });

    it("wrote the screenshot, to the tracked file only when asked to (npm run screenshot)", () => {
      expect(existsSync(SCREENSHOT)).toBe(true);
      if (!process.env.KTV_SCREENSHOT) expect(SCREENSHOT).not.toBe(TRACKED_SCREENSHOT);
      if (!process.env.KTV_SCREENSHOT) expect(SCREENSHOT.startsWith(tmpdir())).toBe(true);
    });
  });
});

// The few DOM shapes the probe touches (the project compiles without the DOM library).
interface ProbeElement {
  id: string;
  dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): ArrayLike<ProbeElement> & Iterable<ProbeElement>;
  width: number;
  height: number;
  getContext(kind: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}

interface XLabels {
  rotate: number;
  size: number;
  fits: boolean;
  slot: number;
  widest: number;
}

/** Runs in the page: how the lateness histogram laid out its x labels (client.js records it). */
function histogramLabels(): XLabels | null {
  const document = (
    globalThis as unknown as { document: { getElementById(id: string): ProbeElement | null } }
  ).document;
  const raw = document.getElementById("chart-mix-lateness-hist")?.dataset.xLabels;
  return raw ? (JSON.parse(raw) as XLabels) : null;
}

/** Runs in the page: what each chart box holds. */
function probeCharts(faultColor: string): ChartProbe[] {
  const document = (globalThis as unknown as { document: ProbeElement }).document;
  const hex = (c: string) => {
    const n = Number.parseInt(c.slice(1), 16);
    return [n >> 16, (n >> 8) & 255, n & 255] as const;
  };
  const distance = (d: Uint8ClampedArray, i: number, [r, g, b]: readonly [number, number, number]) =>
    Math.abs(d[i]! - r) + Math.abs(d[i + 1]! - g) + Math.abs(d[i + 2]! - b);
  const near = (d: Uint8ClampedArray, i: number, rgb: readonly [number, number, number]) =>
    d[i + 3]! > 200 && distance(d, i, rgb) < 60;
  // The canvas is transparent: a 13% shade reads back as the fault colour with alpha ~33.
  const shaded = (d: Uint8ClampedArray, i: number, rgb: readonly [number, number, number]) =>
    d[i + 3]! > 25 && d[i + 3]! < 45 && distance(d, i, rgb) < 30;
  return [...document.querySelectorAll(".chart-box")].map((box) => {
    const canvases = box.querySelectorAll("canvas");
    const canvas = canvases[0];
    const probe: ChartProbe = {
      id: box.id.replace(/^chart-/, ""),
      rendered: box.dataset.rendered === "1",
      error: box.dataset.error ?? null,
      canvases: canvases.length,
      width: canvas?.width ?? 0,
      height: canvas?.height ?? 0,
      inked: 0,
      seriesPixels: 0,
      faultPixels: 0,
      legendRows: box.querySelectorAll(".u-legend .u-series").length,
      // uPlot draws axis labels on the canvas; the renderer records the labels of the axes it created.
      axisLabels: JSON.parse(box.dataset.axes ?? "[]"),
    };
    if (!canvas || canvas.width === 0 || canvas.height === 0) return probe;
    const d = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    const series = hex(box.dataset.color ?? "#000000");
    const fault = hex(faultColor);
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3]! > 0 && !(d[i]! > 245 && d[i + 1]! > 245 && d[i + 2]! > 245)) probe.inked++;
      if (near(d, i, series)) probe.seriesPixels++;
      if (shaded(d, i, fault)) probe.faultPixels++;
    }
    return probe;
  });
}
