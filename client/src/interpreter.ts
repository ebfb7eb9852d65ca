// Interpreter resolution. Pure: no `vscode` import; the probe that actually runs Python is
// injected, so every decision here is unit-tested.
//
// Order: the gradguard.interpreter setting (ignored in untrusted workspaces) > the Python
// extension's active environment (if that extension is installed) > python3 / python on PATH.

export const MIN_PYTHON: readonly [number, number] = [3, 9];

export type InterpreterSource = 'setting' | 'python-extension' | 'path';

export interface Candidate {
  /** Executable followed by any extra arguments, e.g. ["/usr/bin/python3"] or ["py", "-3"]. */
  command: string[];
  source: InterpreterSource;
}

export interface CandidateInput {
  /** Validated, variable-expanded gradguard.interpreter. */
  setting: string[];
  /** Whether the workspace is trusted; an untrusted one never runs the configured command. */
  trusted: boolean;
  /** The Python extension's active interpreter command, undefined when absent or unset. */
  pythonExtension?: string[];
  platform: string;
}

export interface Candidates {
  candidates: Candidate[];
  notes: string[];
}

export function interpreterCandidates(input: CandidateInput): Candidates {
  const notes: string[] = [];
  const candidates: Candidate[] = [];
  if (input.setting.length > 0) {
    if (input.trusted) {
      // An explicit setting is the only candidate: if it is broken the user must hear so,
      // rather than silently getting some other Python.
      return { candidates: [{ command: [...input.setting], source: 'setting' }], notes };
    }
    notes.push('gradguard.interpreter is ignored because this workspace is not trusted');
  }
  if (input.pythonExtension && input.pythonExtension.length > 0 && input.pythonExtension[0] !== '') {
    candidates.push({ command: [...input.pythonExtension], source: 'python-extension' });
  }
  const onPath: string[][] = input.platform === 'win32' ? [['python'], ['py', '-3']] : [['python3'], ['python']];
  for (const command of onPath) candidates.push({ command, source: 'path' });
  return { candidates, notes };
}

/** Python code run by the probe: prints one JSON line describing the interpreter. */
export const PROBE_SCRIPT = [
  'import sys, json, importlib.util',
  'spec = None',
  'try:',
  '    spec = importlib.util.find_spec("gradguard")',
  'except Exception:',
  '    pass',
  'print("GRADGUARD_PROBE " + json.dumps({"version": list(sys.version_info[:3]), "executable": sys.executable, "gradguard": bool(spec)}))',
].join('\n');

export interface ProbeInfo {
  version: [number, number, number];
  executable: string;
  /** Whether `gradguard` is importable from the interpreter's own environment. */
  hasGradguard: boolean;
}

export type ProbeOutcome = { ok: true; info: ProbeInfo } | { ok: false; error: string };

/** Parses the probe's stdout (other lines, e.g. from sitecustomize, are ignored). */
export function parseProbeOutput(stdout: string): ProbeOutcome {
  for (const line of stdout.split(/\r?\n/).reverse()) {
    const i = line.indexOf('GRADGUARD_PROBE ');
    if (i < 0) continue;
    try {
      const data = JSON.parse(line.slice(i + 'GRADGUARD_PROBE '.length)) as Record<string, unknown>;
      const v = data.version;
      if (!Array.isArray(v) || v.length < 2 || !v.every((n) => Number.isInteger(n))) break;
      return {
        ok: true,
        info: {
          version: [v[0] as number, v[1] as number, (v[2] as number) ?? 0],
          executable: typeof data.executable === 'string' ? data.executable : '',
          hasGradguard: data.gradguard === true,
        },
      };
    } catch {
      break;
    }
  }
  return { ok: false, error: `unexpected output from the interpreter probe: ${JSON.stringify(stdout.slice(0, 200))}` };
}

export function versionAtLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    if (a !== min[i]) return a > min[i];
  }
  return true;
}

export interface Requirements {
  /** Needs gradguard installed in the interpreter itself (importStrategy fromEnvironment). */
  needsGradguard: boolean;
}

export interface Chosen {
  ok: true;
  candidate: Candidate;
  info: ProbeInfo;
  /** Candidates passed over on the way, and why. */
  warnings: string[];
}

export interface NoInterpreter {
  ok: false;
  /** Shown to the user as an error notification. */
  message: string;
  details: string[];
}

export function formatCommand(command: readonly string[]): string {
  return command.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

function sourceLabel(source: InterpreterSource): string {
  switch (source) {
    case 'setting':
      return 'gradguard.interpreter';
    case 'python-extension':
      return 'the Python extension';
    case 'path':
      return 'PATH';
  }
}

/** Probes candidates in order and returns the first usable one. */
export async function chooseInterpreter(
  candidates: readonly Candidate[],
  probe: (command: string[]) => Promise<ProbeOutcome>,
  req: Requirements,
): Promise<Chosen | NoInterpreter> {
  const problems: string[] = [];
  for (const candidate of candidates) {
    const where = `${formatCommand(candidate.command)} (from ${sourceLabel(candidate.source)})`;
    const outcome = await probe(candidate.command);
    let problem: string | undefined;
    if (!outcome.ok) {
      problem = `${where}: ${outcome.error}`;
    } else if (!versionAtLeast(outcome.info.version, MIN_PYTHON)) {
      problem = `${where}: Python ${outcome.info.version.join('.')} is too old; gradguard needs Python ${MIN_PYTHON.join('.')} or newer`;
    } else if (req.needsGradguard && !outcome.info.hasGradguard) {
      problem = `${where}: gradguard is not installed in this environment (importStrategy is "fromEnvironment"; install it with \`${formatCommand(candidate.command)} -m pip install <gradguard checkout or wheel>\` (gradguard is not on PyPI) or set gradguard.importStrategy to "useBundled")`;
    }
    if (problem === undefined && outcome.ok) {
      return { ok: true, candidate, info: outcome.info, warnings: problems };
    }
    problems.push(problem as string);
    if (candidate.source === 'setting') break;
  }
  const fromSetting = candidates.length > 0 && candidates[0].source === 'setting';
  const message = fromSetting
    ? 'gradguard: the Python interpreter in gradguard.interpreter is not usable. See the gradguard output for details.'
    : `gradguard: no usable Python ${MIN_PYTHON.join('.')}+ interpreter found. Install Python, select an interpreter with the Python extension, or set gradguard.interpreter.`;
  return { ok: false, message, details: problems };
}
