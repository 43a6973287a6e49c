/** The "create a slice" form: the same request as `peercloud slice create`, signed in the browser. */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { BrowserUser } from '../signing.js';

export function CreateSlice({ user, onCreated, announce }: { user: BrowserUser; onCreated(): void; announce(message: string): void }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'nodes' | 'fraction'>('nodes');
  const [count, setCount] = useState('3');
  const [where, setWhere] = useState('');
  const [rank, setRank] = useState('');
  const [keepSize, setKeepSize] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="create-slice"
      aria-label="Create a slice"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        announce(`Allocating slice ${name}…`);
        try {
          const created = await api.createSlice(user, { name, [mode]: count, where, rank, keepSize });
          announce(`Slice ${created.name} created with ${created.size} nodes`);
          setName('');
          onCreated();
        } catch (err) {
          setError((err as Error).message);
          announce(`Creating slice ${name} failed`);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        Name <input required pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="web" />
      </label>
      <fieldset>
        <legend>Size</legend>
        <label class="inline">
          <input type="radio" name="mode" checked={mode === 'nodes'} onChange={() => setMode('nodes')} /> nodes
        </label>
        <label class="inline">
          <input type="radio" name="mode" checked={mode === 'fraction'} onChange={() => setMode('fraction')} /> fraction
        </label>
        <label>
          <span class="visually-hidden">{mode === 'nodes' ? 'Number of nodes' : 'Fraction of matching nodes'}</span>
          <input required value={count} onInput={(e) => setCount((e.target as HTMLInputElement).value)} placeholder={mode === 'nodes' ? '3' : '5%'} size={6} />
        </label>
      </fieldset>
      <label>
        Where <input value={where} onInput={(e) => setWhere((e.target as HTMLInputElement).value)} placeholder="cores>=4 and mem>=8GiB" />
      </label>
      <label>
        Rank by <input value={rank} onInput={(e) => setRank((e.target as HTMLInputElement).value)} placeholder="cpu:desc" size={10} />
      </label>
      <label class="inline">
        <input type="checkbox" checked={keepSize} onChange={(e) => setKeepSize((e.target as HTMLInputElement).checked)} /> keep size (replace failed members)
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Allocating…' : 'Create slice'}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
