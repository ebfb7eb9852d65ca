// "gradguard: Show gradient flow": renders the server's flow map (mermaid) in a webview, offline (mermaid
// is bundled in the extension as dist/mermaid.min.js); clicking a node reveals its line.
import * as vscode from 'vscode';
import { FlowPayload, flowHtml, isFlowPayload, makeNonce, revealLineOf, revealTarget } from './flowView';
import { getLog } from './log';

let panel: vscode.WebviewPanel | undefined;
let panelUri: string | undefined;

export async function revealLine(uri: string, line: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
  const editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.One });
  const pos = new vscode.Position(Math.min(line, Math.max(doc.lineCount - 1, 0)), 0);
  editor.selection = new vscode.Selection(pos, pos);
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

export function revealLineCommand(...args: unknown[]): Promise<void> | undefined {
  const target = revealTarget(args);
  if (!target) {
    getLog().warn('gradguard.revealLine: expected [uri, line]');
    return undefined;
  }
  return revealLine(target.uri, target.line);
}

export function showFlowPanel(extensionUri: vscode.Uri, uri: string, payload: unknown): void {
  if (!isFlowPayload(payload)) {
    const msg = typeof payload === 'object' && payload !== null && 'error' in payload ? String(payload.error) : 'no flow map';
    void vscode.window.showWarningMessage(`gradguard: ${msg}`);
    return;
  }
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  if (!panel) {
    panel = vscode.window.createWebviewPanel('gradguard.flow', 'Gradient flow', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [dist],
      retainContextWhenHidden: false,
    });
    panel.onDidDispose(() => {
      panel = undefined;
      panelUri = undefined;
    });
    panel.webview.onDidReceiveMessage((m: unknown) => {
      const line = revealLineOf(m);
      if (line !== undefined && panelUri) void revealLine(panelUri, line - 1);
      else if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'error') getLog().warn(`flow view: ${String((m as { message?: unknown }).message)}`);
    });
  }
  panelUri = uri;
  const p: FlowPayload = payload;
  panel.title = `Gradient flow: ${p.file}`;
  panel.webview.html = flowHtml(p, {
    mermaidSrc: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'mermaid.min.js')).toString(),
    cspSource: panel.webview.cspSource,
    nonce: makeNonce(),
  });
  panel.reveal(vscode.ViewColumn.Beside, true);
}
