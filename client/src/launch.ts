// Builds the server command line and environment. Pure: no `vscode` import, unit-tested.

import type { ImportStrategy } from './settings';
import type { ProbeInfo } from './interpreter';

/** What scripts/package_vsix.sh wrote to bundled/bundle.json, plus the resolved paths. */
export interface BundleInfo {
  /** <extension>/bundled/libs: gradguard and its dependencies, `pip install --target`ed. */
  libs: string;
  /** <extension>/bundled/tool, if present (extra shims put before libs on PYTHONPATH). */
  tool?: string;
  /** "major.minor" versions the compiled parts (libcst) are bundled for, e.g. ["3.9", "3.10"]. */
  pythons?: string[];
  /** e.g. "linux-x86_64". */
  platform?: string;
}

export interface LaunchInput {
  interpreter: string[];
  info: ProbeInfo;
  importStrategy: ImportStrategy;
  /** undefined when the extension has no bundled server (a development checkout). */
  bundle?: BundleInfo;
  baseEnv: Record<string, string | undefined>;
  /** path.delimiter of the platform (":" or ";"). */
  delimiter: string;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The strategy actually used (useBundled falls back to fromEnvironment without a bundle). */
  strategy: ImportStrategy;
  warnings: string[];
}

export type LaunchResult = ({ ok: true } & Launch) | { ok: false; message: string };

export const SERVER_ARGS = ['-m', 'gradguard', 'serve'];

export function buildLaunch(input: LaunchInput): LaunchResult {
  const warnings: string[] = [];
  const [command, ...prefixArgs] = input.interpreter;
  if (!command) return { ok: false, message: 'gradguard: empty interpreter command' };

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.baseEnv)) if (v !== undefined) env[k] = v;
  env.PYTHONUNBUFFERED = '1';
  env.PYTHONIOENCODING = 'utf-8';

  let strategy: ImportStrategy = input.importStrategy;
  if (strategy === 'useBundled' && !input.bundle) {
    if (input.info.hasGradguard) {
      warnings.push('importStrategy is "useBundled" but this extension has no bundled server; using the gradguard installed in the interpreter');
      strategy = 'fromEnvironment';
    } else {
      return {
        ok: false,
        message:
          'gradguard: this extension has no bundled server (bundled/libs is missing) and gradguard is not installed in the selected interpreter. Install it from the gradguard repository (`python -m pip install <checkout or wheel>`, see its README) or use a packaged .vsix.',
      };
    }
  }
  if (strategy === 'fromEnvironment' && !input.info.hasGradguard) {
    return {
      ok: false,
      message: `gradguard: gradguard is not installed in ${input.info.executable || command}; install it there or set gradguard.importStrategy to "useBundled".`,
    };
  }

  if (strategy === 'useBundled' && input.bundle) {
    const b = input.bundle;
    const running = `${input.info.version[0]}.${input.info.version[1]}`;
    if (b.pythons && b.pythons.length > 0 && !b.pythons.includes(running)) {
      warnings.push(
        `the bundled server supports Python ${b.pythons.join(', ')} but the interpreter is Python ${running}; its compiled dependency (libcst) may fail to import. Select one of those interpreters, or install gradguard into this environment and use importStrategy "fromEnvironment".`,
      );
    }
    const parts = [b.tool, b.libs].filter((p): p is string => !!p);
    // The bundled copy must win over anything the user's PYTHONPATH brings along.
    if (env.PYTHONPATH) parts.push(env.PYTHONPATH);
    env.PYTHONPATH = parts.join(input.delimiter);
    // Keep user site-packages (an older pygls, say) from shadowing the bundle's dependencies.
    env.PYTHONNOUSERSITE = '1';
  }

  return { ok: true, command, args: [...prefixArgs, ...SERVER_ARGS], env, strategy, warnings };
}

/** Parses bundled/bundle.json; tolerant of a missing or odd file. */
export function parseBundleManifest(text: string | undefined): { pythons?: string[]; platform?: string } {
  if (!text) return {};
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    const pythons = Array.isArray(data.pythons)
      ? data.pythons.filter((v): v is string => typeof v === 'string')
      : typeof data.python === 'string'
        ? [data.python]
        : undefined;
    return {
      pythons,
      platform: typeof data.platform === 'string' ? data.platform : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * The vscode-languageclient `Executable` for a launch. Deliberately without a `transport`:
 * with `TransportKind.stdio` the client appends `--stdio` to the arguments, which
 * `gradguard serve` does not accept (stdio is its only transport anyway).
 */
export function toExecutable(launch: Launch, cwd: string): {
  command: string;
  args: string[];
  options: { cwd: string; env: Record<string, string> };
} {
  return { command: launch.command, args: [...launch.args], options: { cwd, env: { ...launch.env } } };
}
