// What the status bar item shows for each server state. Pure: no `vscode` import, unit-tested.

export type ServerState =
  | { kind: 'disabled' }
  | { kind: 'starting' }
  | { kind: 'running'; python: string; strategy: string }
  | { kind: 'stopped' }
  | { kind: 'error'; message: string };

export interface StatusView {
  text: string;
  tooltip: string;
  /** true: show with the error background. */
  error: boolean;
}

export function statusView(state: ServerState): StatusView {
  switch (state.kind) {
    case 'disabled':
      return { text: '$(circle-slash) gradguard', tooltip: 'gradguard is disabled (gradguard.enable)', error: false };
    case 'starting':
      return { text: '$(sync~spin) gradguard', tooltip: 'gradguard: starting the server…', error: false };
    case 'running':
      return {
        text: '$(check) gradguard',
        tooltip: `gradguard server running on Python ${state.python} (${state.strategy}). Click for the log.`,
        error: false,
      };
    case 'stopped':
      return { text: '$(debug-stop) gradguard', tooltip: 'gradguard server stopped. Run "gradguard: Restart Server".', error: false };
    case 'error':
      return { text: '$(error) gradguard', tooltip: `${state.message}\nClick for the log.`, error: true };
  }
}
