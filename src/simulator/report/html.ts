/** Small helpers to write a self-contained, deterministic HTML report (no scripts, no external files). */

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A table; cells are escaped unless given as `{ html }`. */
export type Cell = string | number | { html: string; className?: string };

export function htmlTable(headers: string[], rows: Cell[][], className = ''): string {
  const cell = (c: Cell, tag: 'td' | 'th') => {
    if (typeof c === 'object') return `<${tag}${c.className ? ` class="${c.className}"` : ''}>${c.html}</${tag}>`;
    return `<${tag}>${escapeHtml(String(c))}</${tag}>`;
  };
  const head = `<tr>${headers.map((h) => cell(h, 'th')).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export const reportStyle = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.88rem; }
th, td { border: 1px solid #d0d0d0; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.pass { color: #11682b; font-weight: 600; white-space: nowrap; }
td.fail { color: #b00020; font-weight: 600; white-space: nowrap; }
figure { margin: 1.2rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.88rem; color: #444; max-width: 820px; }
.missing { border: 1px dashed #b00020; padding: 0.6rem; color: #b00020; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.82rem; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; }
.totals { font-size: 1.05rem; }
`;

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${reportStyle}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
