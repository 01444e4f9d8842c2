'use client';

import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { useClient, useQuery } from 'urql';
import {
  ApiTokensDocument,
  CreateApiTokenDocument,
  MeDocument,
  RevokeApiTokenDocument,
  SignOutDocument,
  UpdateProfileDocument,
} from '@strata/schema/client';
import { Avatar } from '@/components/Avatar';
import { CopyButton } from '@/components/CopyButton';
import { ErrorNotice } from '@/components/ErrorNotice';
import { toUserError, type UserError } from '@/lib/errors';

/** `/settings`: your name and colour as others see them, and your personal API tokens. */
export function Settings() {
  return (
    <div className="settings">
      <Link href="/" className="back-link">
        ← Scenes
      </Link>
      <Profile />
      <ApiTokens />
      <SignOut />
    </div>
  );
}

/**
 * End this browser's session everywhere (the server revokes it, open streams included). A guest has
 * no password: signing out leaves this identity for good, so the button says so and asks first.
 */
function SignOut() {
  const client = useClient();
  const [error, setError] = useState<UserError | null>(null);
  const [busy, setBusy] = useState(false);

  async function signOut() {
    if (!window.confirm('Sign out? This browser gets a new guest identity; scenes you own stay with this one.')) return;
    setBusy(true);
    const result = await client.mutation(SignOutDocument, {}).toPromise();
    setBusy(false);
    if (result.error) return setError(toUserError(result.error));
    // The next page view gets a new guest session.
    window.location.assign('/');
  }

  return (
    <section className="panel" aria-labelledby="signout-heading">
      <h2 id="signout-heading">Sign out</h2>
      <p className="hint">
        Ends this session on every tab and stream. You are a guest: to keep working with your scenes as someone else, invite that identity
        first, or use a personal API token from a program.
      </p>
      <button type="button" onClick={() => void signOut()} disabled={busy}>
        Sign out
      </button>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </section>
  );
}

function Profile() {
  const client = useClient();
  const [me] = useQuery({ query: MeDocument, requestPolicy: 'cache-and-network' });
  const user = me.data?.me ?? null;
  const [edit, setEdit] = useState<{ name: string; color: string } | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [saved, setSaved] = useState(false);
  const name = edit?.name ?? user?.displayName ?? '';
  const color = edit?.color ?? user?.color ?? '#888888';

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    // The answer also sets a new session cookie: the next stream you open carries the new name.
    const result = await client.mutation(UpdateProfileDocument, { displayName: name.trim(), color }).toPromise();
    if (result.error) return setError(toUserError(result.error));
    setError(null);
    setEdit(null);
    setSaved(true);
  }

  return (
    <section className="panel" aria-labelledby="profile-heading">
      <h1 id="profile-heading">You</h1>
      <p className="hint">Others in a scene see your name and colour on your avatar, your selection and your pointer.</p>
      {me.error && <ErrorNotice error={toUserError(me.error)} />}
      <form className="profile-form" onSubmit={(e) => void save(e)}>
        <Avatar name={name || '?'} color={color} label={`Preview: ${name}`} size={44} />
        <label>
          Name
          <input
            value={name}
            maxLength={40}
            required
            onChange={(e) => {
              setSaved(false);
              setEdit({ name: e.target.value, color });
            }}
          />
        </label>
        <label>
          Colour
          <input
            type="color"
            value={color}
            onChange={(e) => {
              setSaved(false);
              setEdit({ name, color: e.target.value });
            }}
          />
        </label>
        <button type="submit" className="primary" disabled={!user || !edit}>
          Save
        </button>
        <span role="status" className="muted">
          {saved ? 'Saved.' : ''}
        </span>
      </form>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </section>
  );
}

function ApiTokens() {
  const client = useClient();
  const [tokens, refetch] = useQuery({ query: ApiTokensDocument, requestPolicy: 'network-only' });
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const list = tokens.data?.apiTokens ?? [];

  async function create(event: FormEvent) {
    event.preventDefault();
    const result = await client.mutation(CreateApiTokenDocument, { name: name.trim() }).toPromise();
    if (result.error) return setError(toUserError(result.error));
    setError(null);
    setName('');
    setCreated({ name: result.data!.createApiToken.apiToken.name, token: result.data!.createApiToken.token });
    refetch({ requestPolicy: 'network-only' });
  }

  async function revoke(id: string) {
    const result = await client.mutation(RevokeApiTokenDocument, { id }).toPromise();
    setError(result.error ? toUserError(result.error) : null);
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <section className="panel" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Personal API tokens</h2>
      <p className="hint">
        A token lets a program use the GraphQL API as you: send it as <code>Authorization: Bearer &lt;token&gt;</code>.
      </p>
      <form className="token-form" onSubmit={(e) => void create(e)}>
        <label>
          Token name
          <input value={name} maxLength={80} required placeholder="e.g. render script" onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" disabled={!name.trim()}>
          Create token
        </button>
      </form>
      {created && (
        <div className="notice token-secret" role="status" data-testid="token-secret">
          <p>Your new token “{created.name}”. Copy it now: it will not be shown again.</p>
          <div className="button-row">
            <input readOnly value={created.token} aria-label="New token" onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={created.token} />
            <button type="button" className="link-button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {tokens.error && <ErrorNotice error={toUserError(tokens.error)} />}
      {list.length === 0 ? (
        <p className="muted">{tokens.fetching ? 'Loading…' : 'No tokens yet.'}</p>
      ) : (
        <table className="token-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{new Date(t.createdAt).toLocaleString()}</td>
                <td>{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'never'}</td>
                <td>
                  <button type="button" className="danger" onClick={() => void revoke(t.id)} aria-label={`Revoke ${t.name}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
