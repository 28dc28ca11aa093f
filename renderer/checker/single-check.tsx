import { useEffect, useState, type FormEvent } from 'react';
import type { ApiError, CheckResponse, ModelSummary } from '../../preload/api-contract.ts';
import '../../preload/window-api.d.ts';

/** One image, one caption, one answer: the smallest useful checker, over the preload API. */
export function SingleCheck() {
  const [model, setModel] = useState<ModelSummary | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [file, setFile] = useState<File | undefined>();
  const [text, setText] = useState('');
  const [premise, setPremise] = useState('');
  const [result, setResult] = useState<CheckResponse | undefined>();
  const [busy, setBusy] = useState(false);
  const api = window.ofaVe;

  useEffect(() => {
    void api?.modelInfo().then((outcome) => (outcome.ok ? setModel(outcome.value) : setError(outcome.error)));
  }, [api]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!api || !file) return;
    setBusy(true);
    setError(undefined);
    const image = new Uint8Array(await file.arrayBuffer());
    const outcome = await api.check({ image, text, premise: premise || undefined });
    setBusy(false);
    if (outcome.ok) setResult(outcome.value);
    else setError(outcome.error);
  }

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24, maxWidth: 720 }}>
      <h1>OFA-VE Console</h1>
      {!api && <p role="alert">The desktop API is not available in this page.</p>}
      {model && (
        <p>
          Model {model.name} {model.version} on {model.provider.toUpperCase()}
          {model.demo && <strong role="alert"> — demo model: answers are not meaningful</strong>}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <p>
          <input type="file" accept="image/*" onChange={(e) => setFile(e.target.files?.[0])} />
        </p>
        <p>
          <input placeholder="Caption" value={text} onChange={(e) => setText(e.target.value)} size={60} />
        </p>
        <p>
          <input placeholder="Premise (optional)" value={premise} onChange={(e) => setPremise(e.target.value)} size={60} />
        </p>
        <button type="submit" disabled={busy || !file}>
          {busy ? 'Checking…' : 'Check'}
        </button>
      </form>
      {error && (
        <p role="alert">
          {error.code}: {error.message}
        </p>
      )}
      {result && (
        <p>
          <strong>{result.label}</strong> {result.score.toFixed(3)} in {result.latency_ms.toFixed(0)} ms
        </p>
      )}
    </main>
  );
}
