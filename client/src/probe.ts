// Runs the interpreter probe in a child process. No `vscode` import (unit-tested against the
// real system Python).
import { execFile } from 'node:child_process';
import { PROBE_SCRIPT, ProbeOutcome, parseProbeOutput } from './interpreter';

export function runProbe(
  command: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<ProbeOutcome> {
  const [exe, ...prefix] = command;
  return new Promise((resolve) => {
    if (!exe) {
      resolve({ ok: false, error: 'empty command' });
      return;
    }
    execFile(
      exe,
      [...prefix, '-c', PROBE_SCRIPT],
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 15000, windowsHide: true, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') resolve({ ok: false, error: 'not found' });
          else if (error.killed) resolve({ ok: false, error: 'timed out' });
          else resolve({ ok: false, error: `failed: ${(stderr || error.message).trim().split(/\r?\n/).slice(-3).join(' | ')}` });
          return;
        }
        resolve(parseProbeOutput(stdout));
      },
    );
  });
}
