/**
 * The /metrics URL an external Prometheus should scrape, with a Copy button. The clipboard API is
 * missing on plain-http origins other than localhost, so the fallback selects the text for Ctrl+C.
 */
import { useEffect, useRef, useState } from 'react';
import type { EndpointInfo } from '../api/console-client.ts';

type CopyState = 'idle' | 'copied' | 'selected';

function selectContents(element: HTMLElement) {
  const selection = window.getSelection();
  if (!selection) return;
  const range = document.createRange();
  range.selectNodeContents(element);
  selection.removeAllRanges();
  selection.addRange(range);
}

export function MetricsUrl({ endpoint }: { endpoint: EndpointInfo | undefined }) {
  const textRef = useRef<HTMLElement>(null);
  const [copyState, setCopyState] = useState<CopyState>('idle');

  useEffect(() => {
    if (copyState === 'idle') return;
    const timer = setTimeout(() => setCopyState('idle'), 2500);
    return () => clearTimeout(timer);
  }, [copyState]);

  if (!endpoint) return <span className="muted">metrics: …</span>;
  const url = endpoint.metrics_url;
  if (!url) {
    return (
      <span className="status-warn" data-testid="metrics-url" data-available="false" title={endpoint.error}>
        metrics: {endpoint.error ?? 'no HTTP endpoint'}
      </span>
    );
  }

  const copy = async () => {
    try {
      if (navigator.clipboard?.writeText) {
        await navigator.clipboard.writeText(url);
        setCopyState('copied');
        return;
      }
    } catch {
      // Permission denied or not focused: fall through to selecting the text.
    }
    if (textRef.current) selectContents(textRef.current);
    setCopyState('selected');
  };

  return (
    <span className="metrics-url">
      metrics{' '}
      <code ref={textRef} className="mono" data-testid="metrics-url" data-available="true">
        {url}
      </code>
      <button type="button" className="small" onClick={() => void copy()} data-testid="copy-metrics-url">
        {copyState === 'copied' ? 'Copied' : 'Copy'}
      </button>
      {copyState === 'selected' && <span className="muted"> selected: press Ctrl+C</span>}
    </span>
  );
}
