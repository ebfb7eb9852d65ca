import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowHtml, flowTarget, isFlowPayload, makeNonce, nodeIdOf, revealLineOf, revealTarget, scriptJson } from '../src/flowView';
import { serverSettings, validateSettings } from '../src/settings';

test('flowTarget: a uri argument, {uri}, else the active editor', () => {
  assert.equal(flowTarget(['file:///a.py', 'markdown', 3], 'file:///b.py'), 'file:///a.py');
  assert.equal(flowTarget([{ uri: 'file:///c.py' }], undefined), 'file:///c.py');
  assert.equal(flowTarget([], 'file:///b.py'), 'file:///b.py');
  assert.equal(flowTarget([], undefined), undefined);
});

test('revealTarget: [uri, 0-based line] from a lens, anything else rejected', () => {
  assert.deepEqual(revealTarget(['file:///a.py', 7]), { uri: 'file:///a.py', line: 7 });
  assert.equal(revealTarget(['file:///a.py', -1]), undefined);
  assert.equal(revealTarget(['file:///a.py', '7']), undefined);
  assert.equal(revealTarget([7]), undefined);
});

test('nodeIdOf: mermaid element ids of flowchart nodes', () => {
  assert.equal(nodeIdOf('flowchart-r1-3'), 'r1');
  assert.equal(nodeIdOf('gg-flowchart-c12-0'), 'c12');
  assert.equal(nodeIdOf('something-else'), undefined);
});

test('revealLineOf: only well-formed reveal messages from the webview', () => {
  assert.equal(revealLineOf({ type: 'reveal', line: 31 }), 31);
  assert.equal(revealLineOf({ type: 'reveal', line: 0 }), undefined);
  assert.equal(revealLineOf({ type: 'rendered', nodes: 3 }), undefined);
  assert.equal(revealLineOf('reveal'), undefined);
});

test('flowHtml: offline (bundled mermaid only, strict CSP with a nonce) and the payload embedded safely', () => {
  const payload = { file: 'train.py', mermaid: 'flowchart LR\n  r0["</script><b>x</b>"] --> l1', nodes: { r0: 14, l1: 31 } };
  assert.ok(isFlowPayload(payload));
  assert.ok(!isFlowPayload({ error: 'x' }));
  const nonce = makeNonce(() => 0.5);
  assert.equal(nonce.length, 32);
  const html = flowHtml(payload, { mermaidSrc: 'vscode-webview://x/dist/mermaid.min.js', cspSource: 'vscode-webview://x', nonce });
  assert.match(html, /default-src 'none'/);
  assert.match(html, new RegExp(`script-src vscode-webview://x 'nonce-${nonce}'`));
  assert.ok(html.includes('src="vscode-webview://x/dist/mermaid.min.js"'));
  assert.ok(!/https?:\/\//.test(html), 'no network resources');
  assert.equal(html.split('</script>').length - 1, 2, 'the payload cannot close the script element');
  assert.ok(html.includes(scriptJson(payload)));
  assert.ok(html.includes("vscode.postMessage({ type: 'reveal', line })"));
});

test('codeLens setting: validated and sent to the server', () => {
  assert.equal(validateSettings({}).settings.codeLens, true);
  const off = validateSettings({ codeLens: false });
  assert.equal(off.settings.codeLens, false);
  assert.equal(serverSettings(off.settings).codeLens, false);
  const bad = validateSettings({ codeLens: 'no' });
  assert.equal(bad.settings.codeLens, true);
  assert.ok(bad.problems.some((p) => p.includes('gradguard.codeLens')));
});

test('crossFile setting: validated and sent to the server', () => {
  assert.equal(validateSettings({}).settings.crossFile, true);
  const off = validateSettings({ crossFile: false });
  assert.equal(off.settings.crossFile, false);
  assert.equal(serverSettings(off.settings).crossFile, false);
  const bad = validateSettings({ crossFile: 'no' });
  assert.equal(bad.settings.crossFile, true);
  assert.ok(bad.problems.some((p) => p.includes('gradguard.crossFile')));
});
