// Starts, stops and restarts the gradguard LanguageClient.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  DocumentSelector,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { chooseInterpreter, formatCommand, interpreterCandidates } from './interpreter';
import { BundleInfo, buildLaunch, parseBundleManifest, toExecutable } from './launch';
import { flowTarget } from './flowView';
import { showFlowPanel } from './flowPanel';
import { getLog } from './log';
import { runProbe } from './probe';
import { pythonExtensionInterpreter } from './python';
import { RestartQueue } from './restartQueue';
import { GradguardSettings, SETTING_KEYS, SettingKey, expandVariables, serverPayload, validateSettings } from './settings';
import { ServerState } from './status';

export const DOCUMENT_SELECTOR: DocumentSelector = [
  { scheme: 'file', language: 'python' },
  { scheme: 'untitled', language: 'python' },
  { notebook: '*', language: 'python' },
];

function primaryFolder(): vscode.WorkspaceFolder | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  return (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
}

/** Reads and validates the gradguard settings of one scope (a workspace folder, or none: the workspace). */
export function readSettings(scope?: vscode.ConfigurationScope, report = true): GradguardSettings {
  const { settings, problems } = readScope(scope);
  if (report) reportProblems(problems);
  return settings;
}

function readScope(scope?: vscode.ConfigurationScope): { settings: GradguardSettings; problems: string[] } {
  const config = vscode.workspace.getConfiguration('gradguard', scope);
  const raw: Partial<Record<SettingKey, unknown>> = {};
  for (const key of SETTING_KEYS) raw[key] = config.get(key);
  return validateSettings(raw);
}

/** Problems are logged and shown once per distinct message (not once per folder or per push). */
const shownProblems = new Set<string>();
function reportProblems(problems: string[]): void {
  const fresh = problems.filter((p) => !shownProblems.has(p));
  if (fresh.length === 0) return;
  for (const p of fresh) {
    shownProblems.add(p);
    getLog().warn(`invalid setting: ${p}`);
  }
  void vscode.window.showWarningMessage(`gradguard: ${fresh[0]}${fresh.length > 1 ? ` (and ${fresh.length - 1} more, see the log)` : ''}`);
}

/**
 * The settings of the workspace and of every workspace folder, validated once, in the one shape the
 * server reads (see serverPayload): sent at start (initializationOptions) and on every change
 * (workspace/didChangeConfiguration). Each folder's documents get that folder's settings.
 */
export function readServerPayload(): Record<string, unknown> {
  const problems: string[] = [];
  const global = readScope(undefined);
  problems.push(...global.problems);
  const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => {
    const r = readScope(folder.uri);
    const many = (vscode.workspace.workspaceFolders ?? []).length > 1;
    problems.push(...r.problems.map((p) => (many ? `${p} (folder ${folder.name})` : p)));
    return { uri: folder.uri.toString(), settings: r.settings };
  });
  reportProblems([...new Set(problems)]);
  return serverPayload(global.settings, folders);
}

function readBundle(extensionPath: string): BundleInfo | undefined {
  const root = path.join(extensionPath, 'bundled');
  const libs = path.join(root, 'libs');
  if (!fs.existsSync(path.join(libs, 'gradguard'))) return undefined;
  const tool = path.join(root, 'tool');
  let manifest: string | undefined;
  try {
    manifest = fs.readFileSync(path.join(root, 'bundle.json'), 'utf8');
  } catch {
    manifest = undefined;
  }
  return { libs, tool: fs.existsSync(tool) ? tool : undefined, ...parseBundleManifest(manifest) };
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly queue: RestartQueue;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private lastReported = '';

  constructor(private readonly context: vscode.ExtensionContext) {
    this.queue = new RestartQueue(
      () => this.doRestart(),
      (e) => this.fail(`gradguard: restart failed: ${String(e)}`),
    );
  }

  restart(): Promise<void> {
    return this.queue.request();
  }

  /** Sends the current settings of every workspace folder to the running server. */
  async pushSettings(): Promise<void> {
    const client = this.client;
    if (!client || !client.isRunning()) return;
    try {
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { gradguard: readServerPayload() } });
    } catch (e) {
      getLog().warn(`sending settings to the server: ${String(e)}`);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (e) {
        getLog().warn(`stopping the server: ${String(e)}`);
      }
    }
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }

  private setState(state: ServerState): void {
    this.stateEmitter.fire(state);
  }

  private fail(message: string, details: string[] = []): void {
    const log = getLog();
    log.error(message);
    for (const d of details) log.error(`  ${d}`);
    this.setState({ kind: 'error', message });
    // One notification per distinct problem, not one per restart.
    if (message !== this.lastReported) {
      this.lastReported = message;
      void vscode.window.showErrorMessage(message, 'Show Logs').then((choice) => {
        if (choice === 'Show Logs') log.show();
      });
    }
  }

  private async doRestart(): Promise<void> {
    const log = getLog();
    await this.stop();
    const folder = primaryFolder();
    const settings = readSettings(folder?.uri);
    // one server for the workspace: it runs when any folder enables gradguard (a folder that disables it
    // gets no diagnostics: its `enable` travels with its settings)
    const enabledSomewhere =
      settings.enable || readSettings(undefined, false).enable || (vscode.workspace.workspaceFolders ?? []).some((f) => readSettings(f.uri, false).enable);
    if (!enabledSomewhere) {
      log.info('gradguard.enable is false: server not started');
      this.setState({ kind: 'disabled' });
      return;
    }
    this.setState({ kind: 'starting' });

    const ctx = { workspaceFolder: folder?.uri.fsPath, home: os.homedir(), env: process.env };
    const setting = settings.interpreter.map((a) => expandVariables(a, ctx));
    const fromPythonExt = setting.length > 0 && vscode.workspace.isTrusted ? undefined : await pythonExtensionInterpreter(folder?.uri);
    const { candidates, notes } = interpreterCandidates({
      setting,
      trusted: vscode.workspace.isTrusted,
      pythonExtension: fromPythonExt,
      platform: process.platform,
    });
    for (const n of notes) log.warn(n);
    const cwd = folder?.uri.fsPath ?? os.homedir();
    const chosen = await chooseInterpreter(candidates, (cmd) => runProbe(cmd, { cwd }), {
      needsGradguard: settings.importStrategy === 'fromEnvironment',
    });
    if (!chosen.ok) {
      this.fail(chosen.message, chosen.details);
      return;
    }
    for (const w of chosen.warnings) log.warn(`skipped interpreter ${w}`);
    log.info(`interpreter: ${formatCommand(chosen.candidate.command)} -> ${chosen.info.executable} (Python ${chosen.info.version.join('.')}, from ${chosen.candidate.source})`);

    const launch = buildLaunch({
      interpreter: chosen.candidate.command,
      info: chosen.info,
      importStrategy: settings.importStrategy,
      bundle: readBundle(this.context.extensionPath),
      baseEnv: process.env,
      delimiter: path.delimiter,
    });
    if (!launch.ok) {
      this.fail(launch.message);
      return;
    }
    for (const w of launch.warnings) log.warn(w);
    log.info(`server: ${formatCommand([launch.command, ...launch.args])} (importStrategy ${launch.strategy}${launch.env.PYTHONPATH && launch.strategy === 'useBundled' ? `, PYTHONPATH=${launch.env.PYTHONPATH}` : ''})`);

    const serverOptions: ServerOptions = toExecutable(launch, cwd);
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      // Configuration goes one way: the client pushes validated settings per workspace folder
      // (initializationOptions now, workspace/didChangeConfiguration in pushSettings); no
      // `synchronize.configurationSection` (raw values) and no workspace/configuration requests.
      initializationOptions: { settings: readServerPayload() },
      outputChannel: log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      middleware: {
        // gradguard.showFlow (the command palette's "Show gradient flow", the "trains ..." lens) asks the
        // server for the flow map and renders it in a webview; other editors get the text back.
        executeCommand: async (command, args, next) => {
          if (command !== 'gradguard.showFlow') return (await next(command, args)) as unknown;
          const uri = flowTarget(args, vscode.window.activeTextEditor?.document.uri.toString());
          if (!uri) {
            void vscode.window.showInformationMessage('gradguard: open a Python file to see its gradient flow');
            return undefined;
          }
          const payload: unknown = await next(command, [uri, 'webview']);
          showFlowPanel(this.context.extensionUri, uri, payload);
          return payload;
        },
      },
    };
    const client = new LanguageClient('gradguard', 'gradguard', serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.lastReported = '';
        this.setState({ kind: 'running', python: chosen.info.version.join('.'), strategy: launch.strategy });
      } else if (e.newState === State.Stopped && this.client === client) {
        this.setState({ kind: 'stopped' });
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (e) {
      if (this.client === client) this.client = undefined;
      this.fail(`gradguard: the server failed to start: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
