/**
 * Whether the app can talk to the service, from the latest errors of its two lines to it (the model
 * document and the stats stream): what the status bar and the sign-in prompt show.
 */
import type { ApiError } from '../../preload/wire-types.ts';
import { SERVICE_UNAVAILABLE, UNAUTHORIZED } from './console-client.ts';

export type ServiceLink =
  | { state: 'up' }
  /** Stopped, restarting or unreachable: the client keeps retrying. */
  | { state: 'unavailable'; message: string }
  /** A protected instance and no accepted token: the sign-in prompt asks for one. */
  | { state: 'signed-out'; tokenRefused: boolean };

export function serviceLink(errors: readonly (ApiError | undefined)[], tokenSent: boolean): ServiceLink {
  if (errors.some((e) => e?.code === UNAUTHORIZED)) return { state: 'signed-out', tokenRefused: tokenSent };
  const gone = errors.find((e) => e?.code === SERVICE_UNAVAILABLE);
  if (gone) return { state: 'unavailable', message: gone.message };
  return { state: 'up' };
}
