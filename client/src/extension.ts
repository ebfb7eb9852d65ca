// Entry point: activate / deactivate.
import * as vscode from 'vscode';
import { revealLineCommand } from './flowPanel';
import { disposeLog, getLog } from './log';
import { onPythonInterpreterChanged } from './python';
import { ServerManager } from './server';
import { statusView } from './status';

/** Settings whose change needs a new server process; the others (rules, severities, log level) are
 * pushed to the running server as workspace/didChangeConfiguration. */
const RESTART_ON = ['gradguard.enable', 'gradguard.interpreter', 'gradguard.importStrategy'];

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = getLog();
  const version = (context.extension.packageJSON as { version?: string }).version ?? '';
  log.info(`gradguard ${version} activating (VS Code ${vscode.version})`);

  const status = vscode.window.createStatusBarItem('gradguard.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'gradguard';
  status.command = 'gradguard.showLogs';
  context.subscriptions.push(status);

  manager = new ServerManager(context);
  context.subscriptions.push(manager);
  context.subscriptions.push(
    manager.onDidChangeState((state) => {
      const view = statusView(state);
      status.text = view.text;
      status.tooltip = view.tooltip;
      status.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
      status.show();
    }),
  );

  const m = manager;
  context.subscriptions.push(
    vscode.commands.registerCommand('gradguard.restart', () => {
      log.info('restart requested');
      return m.restart();
    }),
    vscode.commands.registerCommand('gradguard.showLogs', () => log.show()),
    vscode.commands.registerCommand('gradguard.revealLine', revealLineCommand),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_ON.some((s) => e.affectsConfiguration(s))) {
        log.info('settings changed: restarting the server');
        void m.restart();
      } else if (e.affectsConfiguration('gradguard')) {
        log.info('settings changed: sending them to the server');
        void m.pushSettings();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      log.info('workspace folders changed: sending their settings to the server');
      void m.pushSettings();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      log.info('workspace trusted: restarting the server');
      void m.restart();
    }),
  );

  const pyWatch = await onPythonInterpreterChanged(() => {
    log.info('the Python extension changed the interpreter: restarting the server');
    void m.restart();
  });
  if (pyWatch) context.subscriptions.push(pyWatch);

  await m.restart();
}

export async function deactivate(): Promise<void> {
  const m = manager;
  manager = undefined;
  if (m) await m.stop();
  disposeLog();
}
