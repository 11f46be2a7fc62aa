import { describe, expect, it } from "vitest";
import { doctorVerdict } from "./doctor-verdict.ts";

// The shape clinic doctor 11 writes into its HTML (taken from a real report of `npm run profile:sim`).
const REAL =
  'x=1;var a={"issues":{"delay":"performance","cpu":"performance","memory":{"external":"none","rss":"none",' +
  '"heapTotal":"none","heapUsed":"none"},"handles":"performance","loopUtilization":"none"},' +
  '"issueCategory":"unknown"};function f(){}';

describe("clinic doctor verdict", () => {
  it("reads each detector's result and the category, listing only flagged memory parts", () => {
    expect(doctorVerdict(REAL)).toBe(
      "clinic doctor: delay: performance; cpu: performance; memory: none; handles: performance; loopUtilization: none; category: unknown",
    );
    const leaky = REAL.replace('"heapUsed":"none"', '"heapUsed":"performance"').replace("unknown", "gc");
    expect(doctorVerdict(leaky)).toContain("memory: heapUsed performance;");
    expect(doctorVerdict(leaky)).toMatch(/category: gc$/);
  });

  it("says so when the report has no verdict, instead of throwing", () => {
    expect(doctorVerdict("<html></html>")).toMatch(/no verdict found/);
    expect(doctorVerdict('"issues":{"delay":"none"')).toMatch(/no verdict found/);
  });
});
