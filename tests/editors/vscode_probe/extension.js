// Test-only extension, installed next to gradguard in code-server by tests/editors/test_vscode.py.
// Runs in the real extension host and writes what it saw to GG_PROBE_REPORT. Two probes, each
// run only when its variable is set (test_vscode.py starts one code-server session per probe):
// - GG_PROBE_FILE: opens the file, waits for gradguard's GG201 diagnostic, asks for a hover,
//   restarts the server (gradguard.restart) and waits for the diagnostic again, asks for quick
//   fixes, applies the fix, saves, checks the diagnostic clears;
// - GG_PROBE_NOTEBOOK: opens and shows the .ipynb, waits for GG201 on the cell that detaches,
//   asks for that cell's quick fixes. It leaves the notebook editor open, which is why it has a
//   session of its own: the DOM driver of the text-document session expects a bare workbench.
'use strict';
const vscode = require('vscode');
const fs = require('fs');

function codeOf(d) {
  return typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code);
}

async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function hoverText(hovers) {
  return (hovers || [])
    .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
    .join('\n');
}

async function probe(file, report) {
  const gg = vscode.extensions.getExtension('gradguard.gradguard');
  report.gradguardInstalled = !!gg;
  if (!gg) throw new Error('gradguard.gradguard is not installed');
  report.pythonExtensionInstalled = !!vscode.extensions.getExtension('ms-python.python');

  const uri = vscode.Uri.file(file);
  const doc = await vscode.workspace.openTextDocument(uri);
  report.languageId = doc.languageId;
  report.steps.push('opened');

  const diag = await waitFor(
    () => vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'GG201'),
    90000,
    'the GG201 diagnostic',
  );
  report.gradguardActive = gg.isActive;
  report.diagnostic = {
    line: diag.range.start.line,
    character: diag.range.start.character,
    source: diag.source,
    code: codeOf(diag),
    severity: diag.severity,
    message: diag.message,
  };
  report.steps.push('diagnostic');

  const line = diag.range.start.line;
  const pos = new vscode.Position(line, doc.lineAt(line).text.indexOf('detach'));
  report.hover = hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, pos));
  report.steps.push('hover');

  report.commands = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('gradguard.')).sort();
  // gradguard.restart brings a working server back: the diagnostic is published again.
  await vscode.commands.executeCommand('gradguard.restart');
  await waitFor(
    () => vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'GG201'),
    60000,
    'GG201 again after gradguard.restart',
  );
  report.steps.push('restarted');

  const diag2 = vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'GG201');
  const actions = await vscode.commands.executeCommand(
    'vscode.executeCodeActionProvider',
    uri,
    diag2.range,
    vscode.CodeActionKind.QuickFix.value,
  );
  report.actions = (actions || []).map((a) => ({ title: a.title, kind: a.kind && a.kind.value, hasEdit: !!a.edit }));
  const fix = (actions || []).find((a) => a.edit && /detach/i.test(a.title));
  if (!fix) throw new Error('no quick fix that removes .detach()');
  report.steps.push('codeActions');

  if (!(await vscode.workspace.applyEdit(fix.edit))) throw new Error('applyEdit returned false');
  if (!(await doc.save())) throw new Error('save returned false');
  report.steps.push('applied');

  await waitFor(
    () => !vscode.languages.getDiagnostics(uri).some((d) => codeOf(d) === 'GG201'),
    60000,
    'GG201 to clear after the fix',
  );
  report.steps.push('cleared');
}

// Notebook cells reach the server through notebook document sync; the cells are analyzed as one
// program and the finding lands on the cell that detaches.
async function probeNotebook(file, report) {
  const nb = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
  report.notebookType = nb.notebookType;
  const cells = nb.getCells();
  const target = cells.find((c) => c.document.getText().includes('.detach()'));
  if (!target) throw new Error('notebook fixture has no .detach() cell');
  const diag = await waitFor(
    () => vscode.languages.getDiagnostics(target.document.uri).find((d) => codeOf(d) === 'GG201'),
    30000,
    'GG201 on the notebook cell',
  );
  report.notebook = {
    cellIndex: target.index,
    cellScheme: target.document.uri.scheme,
    line: diag.range.start.line,
    source: diag.source,
    otherCellsWithDiagnostics: cells
      .filter((c) => c !== target && vscode.languages.getDiagnostics(c.document.uri).length > 0)
      .map((c) => c.index),
  };
  // vscode.executeCodeActionProvider runs in the workbench, which looks the cell up among its text
  // models and throws a bare "Illegal argument" when it has none. A notebook opened with
  // openNotebookDocument only exists in the extension host (that is enough for notebook sync and
  // diagnostics); its cells get workbench text models once a notebook editor shows it, as for a
  // person who asks for a quick fix in a cell.
  // The notebook editor stays open: this probe has a code-server session of its own, whose
  // screenshot shows it.
  await vscode.window.showNotebookDocument(nb);
  const actions = await vscode.commands.executeCommand(
    'vscode.executeCodeActionProvider',
    target.document.uri,
    diag.range,
    vscode.CodeActionKind.QuickFix.value,
  );
  report.notebook.actions = (actions || []).map((a) => a.title);
  report.steps.push('notebook');
}

exports.activate = async function activate() {
  const file = process.env.GG_PROBE_FILE;
  const notebookFile = process.env.GG_PROBE_NOTEBOOK;
  const out = process.env.GG_PROBE_REPORT;
  if (!out || !(file || notebookFile)) return;
  const report = { steps: [], vscodeVersion: vscode.version };
  if (file) {
    try {
      await probe(file, report);
    } catch (e) {
      report.error = String((e && e.stack) || e);
    }
  }
  if (notebookFile) {
    // Reported on its own, so a notebook problem never reads as a text-document failure.
    try {
      await probeNotebook(notebookFile, report);
    } catch (e) {
      report.notebookError = String((e && e.stack) || e);
    }
  }
  fs.writeFileSync(out + '.tmp', JSON.stringify(report, null, 2));
  fs.renameSync(out + '.tmp', out);
};

exports.deactivate = function deactivate() {};
