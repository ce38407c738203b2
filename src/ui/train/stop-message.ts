import type { StopReason } from '../../training/session';

/** Why a run ended, in words, and whether that is an alert. */
export function stopMessage(reason: StopReason): { text: string; alert: boolean } {
  switch (reason.kind) {
    case 'finished':
      return { text: 'Training finished.', alert: false };
    case 'stopped':
      return { text: 'Training stopped; the last checkpoint is saved in this browser.', alert: false };
    case 'diverged':
      return { text: `Training stopped: ${reason.message}.`, alert: true };
    case 'error':
      return { text: `Training stopped: ${reason.message}`, alert: true };
  }
}
