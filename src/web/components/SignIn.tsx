/**
 * Signing in = loading the user's key file into this page. The key signs requests here and is
 * kept in this tab (or this browser, if asked); it is never sent anywhere.
 */
import { useState } from 'preact/hooks';
import { shortId } from '../format.js';
import { type BrowserUser, forgetUser, parseUserKey, saveUser } from '../signing.js';

export function SignIn({ user, onUser }: { user: BrowserUser | null; onUser(user: BrowserUser | null): void }) {
  const [error, setError] = useState<string | null>(null);
  const [remember, setRemember] = useState(false);
  if (user) {
    return (
      <div class="signin">
        <span>
          Signed in as <strong>{user.name}</strong> <span title={user.userId}>({shortId(user.userId)})</span>
        </span>
        <button
          type="button"
          onClick={() => {
            forgetUser();
            onUser(null);
          }}
        >
          Sign out
        </button>
      </div>
    );
  }
  return (
    <form class="signin" onSubmit={(e) => e.preventDefault()}>
      <label>
        Sign in with your user key{' '}
        <input
          type="file"
          accept=".key,.pem"
          onChange={async (e) => {
            const file = (e.target as HTMLInputElement).files?.[0];
            if (!file) return;
            try {
              const pem = await file.text();
              const name = file.name.replace(/\.(key|pem)$/, '');
              const u = parseUserKey(name, pem);
              saveUser(name, pem, remember);
              setError(null);
              onUser(u);
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        />
      </label>
      <label class="inline">
        <input type="checkbox" checked={remember} onChange={(e) => setRemember((e.target as HTMLInputElement).checked)} /> remember in this browser
      </label>
      <span class="hint">
        The key file is <code>~/.peercloud/users/NAME.key</code> (<code>peercloud user create NAME</code>); it stays in this page.
      </span>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
