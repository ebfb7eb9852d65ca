// The single `gradguard` output channel, with levels (LogOutputChannel).
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function getLog(): vscode.LogOutputChannel {
  if (!channel) channel = vscode.window.createOutputChannel('gradguard', { log: true });
  return channel;
}

export function disposeLog(): void {
  channel?.dispose();
  channel = undefined;
}
