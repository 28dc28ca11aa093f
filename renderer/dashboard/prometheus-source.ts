/**
 * Whether the service the console talks to reads a Prometheus (`ofa-ve serve --prometheus-url`):
 * its model document says so. The Fleet panel and the Compare panel's source choice show only then.
 */
import { useEffect, useState } from 'react';
import type { ConsoleClient } from '../api/console-client.ts';

/** The Prometheus URL of the service, or undefined (none, or not known yet). */
export function usePrometheusUrl(client: ConsoleClient): string | undefined {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    client.modelInfo().then(
      (doc) => live && setUrl(doc.prometheus_url),
      () => live && setUrl(undefined),
    );
    return () => {
      live = false;
    };
  }, [client]);
  return url;
}
