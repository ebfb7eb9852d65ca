// Typed, validated gradguard settings. Pure: no `vscode` import, unit-tested.
// Raw values come from `workspace.getConfiguration('gradguard')`; anything invalid is reported
// and replaced by its default so the server is never started with garbage.

export const SEVERITIES = ['error', 'warning', 'information', 'hint'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const IMPORT_STRATEGIES = ['useBundled', 'fromEnvironment'] as const;
export type ImportStrategy = (typeof IMPORT_STRATEGIES)[number];

export const LOG_LEVELS = ['error', 'warning', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TRACE_LEVELS = ['off', 'messages', 'verbose'] as const;
export type TraceLevel = (typeof TRACE_LEVELS)[number];

export interface GradguardSettings {
  enable: boolean;
  interpreter: string[];
  importStrategy: ImportStrategy;
  select: string[];
  ignore: string[];
  severity: Record<string, Severity>;
  logLevel: LogLevel;
  /** Code lenses above backward sinks (what each loss trains, what it does not reach). */
  codeLens: boolean;
  /** Cross-file analysis: the workspace index and findings whose evidence spans files. */
  crossFile: boolean;
  trace: { server: TraceLevel };
}

/** Keys read from the `gradguard` configuration section (relative to it). */
export const SETTING_KEYS = [
  'enable',
  'interpreter',
  'importStrategy',
  'select',
  'ignore',
  'severity',
  'logLevel',
  'codeLens',
  'crossFile',
  'trace.server',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export function defaultSettings(): GradguardSettings {
  return {
    enable: true,
    interpreter: [],
    importStrategy: 'useBundled',
    select: [],
    ignore: [],
    severity: {},
    logLevel: 'info',
    codeLens: true,
    crossFile: true,
    trace: { server: 'off' },
  };
}

/** A rule code ("GG201") or a code prefix ("GG2", "GG"). */
export const RULE_CODE = /^GG[0-9]{0,3}$/;

export interface Validated {
  settings: GradguardSettings;
  /** Human-readable problems, one per rejected value; empty when everything was valid. */
  problems: string[];
}

function describe(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

function oneOf<T extends string>(
  key: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  problems: string[],
): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problems.push(
    `gradguard.${key}: ${describe(value)} is not one of ${allowed.map((a) => `"${a}"`).join(', ')}; using "${fallback}"`,
  );
  return fallback;
}

function ruleCodes(key: string, value: unknown, problems: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push(`gradguard.${key}: expected an array of rule codes like "GG201", got ${describe(value)}; using []`);
    return [];
  }
  const out: string[] = [];
  for (const item of value) {
    const code = typeof item === 'string' ? item.trim().toUpperCase() : undefined;
    if (code !== undefined && RULE_CODE.test(code)) {
      if (!out.includes(code)) out.push(code);
    } else {
      problems.push(`gradguard.${key}: ignoring ${describe(item)} (not a rule code like "GG201")`);
    }
  }
  return out;
}

/**
 * Validates raw setting values. `raw` maps setting keys (see SETTING_KEYS) to whatever the
 * configuration returned; missing keys take their defaults silently.
 */
export function validateSettings(raw: Partial<Record<SettingKey, unknown>>): Validated {
  const d = defaultSettings();
  const problems: string[] = [];

  let enable = d.enable;
  if (raw.enable !== undefined && raw.enable !== null) {
    if (typeof raw.enable === 'boolean') enable = raw.enable;
    else problems.push(`gradguard.enable: expected true or false, got ${describe(raw.enable)}; using ${d.enable}`);
  }

  let interpreter = d.interpreter;
  const rawInterp = raw.interpreter;
  if (typeof rawInterp === 'string') {
    // A common slip (the setting looks like python.defaultInterpreterPath): accept it, but say so.
    if (rawInterp.trim() !== '') {
      interpreter = [rawInterp.trim()];
      problems.push(`gradguard.interpreter: expected an array of strings, got a string; using [${describe(rawInterp.trim())}]`);
    }
  } else if (Array.isArray(rawInterp)) {
    const items: unknown[] = rawInterp;
    if (items.every((p): p is string => typeof p === 'string') && (items.length === 0 || items[0].trim() !== '')) {
      interpreter = items.map((p, i) => (i === 0 ? p.trim() : p));
    } else {
      problems.push(`gradguard.interpreter: expected an array of strings starting with the Python executable, got ${describe(rawInterp)}; using []`);
    }
  } else if (rawInterp !== undefined && rawInterp !== null) {
    problems.push(`gradguard.interpreter: expected an array of strings, got ${describe(rawInterp)}; using []`);
  }

  const importStrategy = oneOf('importStrategy', raw.importStrategy, IMPORT_STRATEGIES, d.importStrategy, problems);
  const select = ruleCodes('select', raw.select, problems);
  const ignore = ruleCodes('ignore', raw.ignore, problems);

  const severity: Record<string, Severity> = {};
  const rawSev = raw.severity;
  if (rawSev !== undefined && rawSev !== null) {
    if (typeof rawSev !== 'object' || Array.isArray(rawSev)) {
      problems.push(`gradguard.severity: expected an object like {"GG201": "error"}, got ${describe(rawSev)}; using {}`);
    } else {
      for (const [k, v] of Object.entries(rawSev as Record<string, unknown>)) {
        const code = k.trim().toUpperCase();
        if (!RULE_CODE.test(code)) {
          problems.push(`gradguard.severity: ignoring key ${describe(k)} (not a rule code like "GG201")`);
        } else if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) {
          problems.push(`gradguard.severity.${code}: ${describe(v)} is not one of ${SEVERITIES.join(', ')}; ignored`);
        } else {
          severity[code] = v as Severity;
        }
      }
    }
  }

  const logLevel = oneOf('logLevel', raw.logLevel, LOG_LEVELS, d.logLevel, problems);
  let codeLens = d.codeLens;
  if (raw.codeLens !== undefined && raw.codeLens !== null) {
    if (typeof raw.codeLens === 'boolean') codeLens = raw.codeLens;
    else problems.push(`gradguard.codeLens: expected true or false, got ${describe(raw.codeLens)}; using ${d.codeLens}`);
  }
  let crossFile = d.crossFile;
  if (raw.crossFile !== undefined && raw.crossFile !== null) {
    if (typeof raw.crossFile === 'boolean') crossFile = raw.crossFile;
    else problems.push(`gradguard.crossFile: expected true or false, got ${describe(raw.crossFile)}; using ${d.crossFile}`);
  }
  const traceServer = oneOf('trace.server', raw['trace.server'], TRACE_LEVELS, d.trace.server, problems);

  return {
    settings: { enable, interpreter, importStrategy, select, ignore, severity, logLevel, codeLens, crossFile, trace: { server: traceServer } },
    problems,
  };
}

/**
 * Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~` in interpreter
 * arguments, like VS Code's own Python settings do.
 */
export function expandVariables(
  value: string,
  ctx: { workspaceFolder?: string; home?: string; env?: Record<string, string | undefined> },
): string {
  let out = value;
  if (ctx.home && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) out = ctx.home + out.slice(1);
  out = out.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (m, name: string, envName?: string) => {
    if (name === 'workspaceFolder') return ctx.workspaceFolder ?? m;
    if (name === 'userHome') return ctx.home ?? m;
    return ctx.env?.[envName as string] ?? '';
  });
  return out;
}

/** The rule settings of one scope as the server reads them (see serverPayload). */
export function serverSettings(s: GradguardSettings): Record<string, unknown> {
  return {
    enable: s.enable,
    importStrategy: s.importStrategy,
    select: [...s.select],
    ignore: [...s.ignore],
    severity: { ...s.severity },
    logLevel: s.logLevel,
    codeLens: s.codeLens,
    crossFile: s.crossFile,
  };
}

export interface FolderSettings {
  /** The workspace folder's URI, as VS Code prints it (`Uri.toString()`). */
  uri: string;
  settings: GradguardSettings;
}

/**
 * The one message that carries configuration to the server: sent as `initializationOptions.settings` at
 * start and as `workspace/didChangeConfiguration` `{ gradguard: payload }` on every change. `global` applies
 * to documents outside every workspace folder; `folders` maps each folder's URI to its own settings (a
 * multi-root workspace can configure each folder differently). Values are validated before they are sent.
 */
export function serverPayload(global: GradguardSettings, folders: readonly FolderSettings[]): Record<string, unknown> {
  const out: Record<string, unknown> = serverSettings(global);
  const byFolder: Record<string, Record<string, unknown>> = {};
  for (const f of folders) byFolder[f.uri.replace(/\/+$/, '')] = serverSettings(f.settings);
  out.folders = byFolder;
  return out;
}
