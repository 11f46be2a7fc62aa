/**
 * The verdict clinic doctor embeds in its HTML report (`"issues":{...},"issueCategory":"..."` in the
 * analysis it ships to the page), so the terminal says what the page would, e.g.
 * `clinic doctor: delay: performance; cpu: performance; memory: none; handles: none; category: io`.
 * The object is cut out by brace depth: its values hold no strings with braces.
 */
export function doctorVerdict(html: string): string {
  const start = html.indexOf('"issues":{');
  const category = /"issueCategory":"([a-z-]+)"/.exec(html);
  const json = start < 0 ? null : balancedObject(html, start + '"issues":'.length);
  if (json === null) return "clinic doctor: no verdict found in its report (clinic's format changed?)";
  const v = JSON.parse(json) as Record<string, string | Record<string, string>>;
  const parts = Object.entries(v).map(([k, x]) => {
    if (typeof x === "string") return `${k}: ${x}`;
    const flagged = Object.entries(x).filter(([, y]) => y !== "none");
    return `${k}: ${flagged.length === 0 ? "none" : flagged.map(([n, y]) => `${n} ${y}`).join(", ")}`;
  });
  return `clinic doctor: ${parts.join("; ")}; category: ${category?.[1] ?? "?"}`;
}

function balancedObject(text: string, from: number): string | null {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return text.slice(from, i + 1);
  }
  return null;
}
