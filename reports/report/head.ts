import { createHash } from "node:crypto";
import { type Html, html, trusted } from "./escape.ts";

// The <head> every self-contained page of ours opens with (the run report, the bench page): no network, and a
// Content-Security-Policy that allows only the inline style and scripts the page itself carries, by hash, so
// text from a results file can never become code.

/** A CSP source hash of inline text, as browsers compute it. */
export function sha256(text: string): string {
  return `sha256-${createHash("sha256").update(text, "utf8").digest("base64")}`;
}

export function documentHead(o: {
  title: string;
  generator: string;
  style: string;
  scripts?: string[];
}): Html {
  const scripts = o.scripts ?? [];
  const csp = [
    "default-src 'none'",
    ...(scripts.length > 0 ? [`script-src ${scripts.map((js) => `'${sha256(js)}'`).join(" ")}`] : []),
    `style-src '${sha256(o.style)}'`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="${o.generator}">
<title>${o.title}</title>
<style>${trusted(o.style)}</style>
</head>`;
}
