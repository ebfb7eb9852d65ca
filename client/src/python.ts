// The vscode side of interpreter resolution: reads the Python extension's active environment
// through its API when that extension is installed (it is never required), and watches it.
// The decisions themselves live in interpreter.ts.
import * as vscode from 'vscode';
import { getLog } from './log';

const PYTHON_EXTENSION_ID = 'ms-python.python';

// The parts of the Python extension's API that gradguard uses (typed locally on purpose:
// no dependency on the Python extension's npm package).
interface EnvironmentPath {
  id: string;
  path: string;
}
interface ResolvedEnvironment {
  executable: { uri?: vscode.Uri };
}
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
    onDidChangeExecutionDetails: vscode.Event<vscode.Uri | undefined>;
  };
}

async function pythonApi(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!ext) return undefined;
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch (e) {
    getLog().warn(`could not activate ${PYTHON_EXTENSION_ID}: ${String(e)}`);
    return undefined;
  }
}

/** The Python extension's interpreter command for `resource`, or undefined. */
export async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string[] | undefined> {
  const api = await pythonApi();
  if (!api) return undefined;
  try {
    if (api.environments) {
      const envPath = api.environments.getActiveEnvironmentPath(resource);
      const env = await api.environments.resolveEnvironment(envPath);
      const exe = env?.executable.uri?.fsPath;
      if (exe) return [exe];
    }
    const cmd = api.settings?.getExecutionDetails(resource).execCommand;
    if (cmd && cmd.length > 0) return cmd;
  } catch (e) {
    getLog().warn(`could not read the Python extension's interpreter: ${String(e)}`);
  }
  return undefined;
}

/** Calls `listener` when the Python extension's selected interpreter changes. */
export async function onPythonInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi();
  if (!api) return undefined;
  if (api.environments) return api.environments.onDidChangeActiveEnvironmentPath(() => listener());
  if (api.settings) return api.settings.onDidChangeExecutionDetails(() => listener());
  return undefined;
}
