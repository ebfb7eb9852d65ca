// The gradient-flow view: pure helpers (no `vscode` import, unit-tested) for the "gradguard: Show
// gradient flow" webview and the lenses' commands.

/** What the server's `gradguard.showFlow` returns for the format `webview`. */
export interface FlowPayload {
  file: string;
  mermaid: string;
  /** mermaid node id -> 1-based line the node reveals */
  nodes: Record<string, number>;
  markdown?: string;
}

export function isFlowPayload(v: unknown): v is FlowPayload {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.mermaid === 'string' && typeof o.nodes === 'object' && o.nodes !== null;
}

/**
 * The document a `gradguard.showFlow` invocation is about: the first argument when it is a uri string or
 * `{uri}` (a lens, another extension), else the active editor's document. Undefined when there is none.
 */
export function flowTarget(args: readonly unknown[], activeUri: string | undefined): string | undefined {
  const first = args[0];
  if (typeof first === 'string' && first) return first;
  if (typeof first === 'object' && first !== null && typeof (first as { uri?: unknown }).uri === 'string') {
    return (first as { uri: string }).uri;
  }
  return activeUri;
}

/** `gradguard.revealLine [uri, line]` (0-based line) as sent by the lenses; undefined when malformed. */
export function revealTarget(args: readonly unknown[]): { uri: string; line: number } | undefined {
  const [uri, line] = args;
  if (typeof uri !== 'string' || !uri) return undefined;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 0) return undefined;
  return { uri, line };
}

/** The mermaid node id of an SVG node element id (`flowchart-r1-3`, `gg-flowchart-r1-3`). */
export function nodeIdOf(elementId: string): string | undefined {
  const m = /(?:^|-)flowchart-([A-Za-z0-9_]+)-\d+$/.exec(elementId);
  return m ? m[1] : undefined;
}

/** JSON safe to embed in a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The webview's HTML: mermaid (bundled in the extension, loaded from `mermaidSrc`, no network) renders
 * the graph; clicking a node posts `{type: 'reveal', line}` (1-based) back to the extension.
 */
export function flowHtml(payload: FlowPayload, opts: { mermaidSrc: string; cspSource: string; nonce: string }): string {
  const csp = [
    "default-src 'none'",
    `script-src ${opts.cspSource} 'nonce-${opts.nonce}'`,
    `style-src ${opts.cspSource} 'unsafe-inline'`,
    `img-src ${opts.cspSource} data:`,
    `font-src ${opts.cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Gradient flow: ${escapeHtml(payload.file)}</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); }
  #graph .node { cursor: pointer; }
  #error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
</style>
</head>
<body>
<h3>Gradient flow of ${escapeHtml(payload.file)}</h3>
<p>Solid: trains. Dashed: reaches the loss only through a cut. Click a node to reveal its line.</p>
<div id="graph"></div>
<pre id="error"></pre>
<script nonce="${opts.nonce}" src="${escapeHtml(opts.mermaidSrc)}"></script>
<script nonce="${opts.nonce}">
(async () => {
  const vscode = acquireVsCodeApi();
  const payload = ${scriptJson(payload)};
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  try {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: dark ? 'dark' : 'default' });
    const { svg } = await mermaid.render('gg', payload.mermaid);
    const graph = document.getElementById('graph');
    graph.innerHTML = svg;
    for (const el of graph.querySelectorAll('g.node')) {
      const m = /(?:^|-)flowchart-([A-Za-z0-9_]+)-\\d+$/.exec(el.id || '');
      const id = (m && m[1]) || el.getAttribute('data-id');
      const line = id ? payload.nodes[id] : undefined;
      if (line) {
        el.setAttribute('data-line', String(line));
        el.addEventListener('click', () => vscode.postMessage({ type: 'reveal', line }));
      }
    }
    vscode.postMessage({ type: 'rendered', nodes: graph.querySelectorAll('g.node[data-line]').length });
  } catch (e) {
    document.getElementById('error').textContent = 'Could not render the graph: ' + e + '\\n\\n' + payload.mermaid;
    vscode.postMessage({ type: 'error', message: String(e) });
  }
})();
</script>
</body>
</html>
`;
}

/** A message the webview posts: a node was clicked (1-based line). */
export function revealLineOf(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { type?: unknown; line?: unknown };
  return m.type === 'reveal' && typeof m.line === 'number' && Number.isInteger(m.line) && m.line >= 1 ? m.line : undefined;
}

export function makeNonce(random: () => number = Math.random): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) out += chars.charAt(Math.floor(random() * chars.length));
  return out;
}
