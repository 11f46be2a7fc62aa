// `ktv report` as a function: read a results directory, write the HTML report (and the Markdown summary).

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { readResults } from "../read-results.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderReport } from "./page.ts";

export interface WriteReportOptions {
  /** HTML output path; default <results-dir>/report.html. */
  out?: string;
  /** Markdown output path, "-" for the returned string only; none when undefined. */
  markdown?: string;
  generatedAt?: Date;
}

export interface WrittenReport {
  html: string;
  markdown: string | null;
  /** The Markdown text when asked for. */
  markdownText: string | null;
}

export function writeReport(dir: string, opts: WriteReportOptions = {}): WrittenReport {
  const results = readResults(dir);
  const htmlPath = resolve(opts.out ?? join(dir, "report.html"));
  mkdirSync(dirname(htmlPath), { recursive: true });
  writeFileSync(htmlPath, renderReport(results, { generatedAt: opts.generatedAt }));
  let markdown: string | null = null;
  let markdownText: string | null = null;
  if (opts.markdown !== undefined) {
    markdownText = renderMarkdown(results);
    if (opts.markdown !== "-") {
      markdown = resolve(opts.markdown);
      mkdirSync(dirname(markdown), { recursive: true });
      writeFileSync(markdown, markdownText);
    }
  }
  return { html: htmlPath, markdown, markdownText };
}
