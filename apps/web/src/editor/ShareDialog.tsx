'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useQuery } from 'urql';
import {
  CreateInviteDocument,
  InvitesDocument,
  RemoveMemberDocument,
  RevokeInviteDocument,
  SceneAccessDocument,
  type Role,
  type Visibility,
} from '@strata/schema/client';
import { Avatar } from '@/components/Avatar';
import { CopyButton } from '@/components/CopyButton';
import { ErrorNotice } from '@/components/ErrorNotice';
import { toUserError, type UserError } from '@/lib/errors';
import { roleWord } from '@/lib/presence';
import type { SceneView } from '@/lib/sceneView';
import type { EditorUi } from './editorStore';
import { useEditor, useSceneView, useUi } from './EditorContext';

const VISIBILITY: Array<{ value: Visibility; label: string; explain: string }> = [
  { value: 'PRIVATE', label: 'Private', explain: 'Only you and the people you invite can open it.' },
  { value: 'LINK', label: 'Anyone with the link', explain: 'Whoever has the page address can watch it; only invited people edit.' },
  { value: 'PUBLIC', label: 'Public', explain: 'Anyone can find it and watch it; only invited people edit.' },
];

const selectIsOwner = (view: SceneView) => view.scene.myRole === 'OWNER';
const selectVisibility = (view: SceneView) => view.scene.visibility;
const selectTitle = (view: SceneView) => view.scene.title;
const selectMembersVersion = (ui: EditorUi) => ui.membersVersion;

/** The owner's "Share" button and its dialog. */
export function ShareControl() {
  const isOwner = useSceneView(selectIsOwner);
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  if (!isOwner) return null;
  return (
    <>
      <button
        type="button"
        className="primary share-button"
        aria-haspopup="dialog"
        onClick={() => {
          setOpen(true);
          dialog.current?.showModal();
        }}
      >
        Share
      </button>
      <dialog ref={dialog} className="dialog share-dialog" aria-labelledby="share-heading" onClose={() => setOpen(false)}>
        {open && <ShareDialogBody onClose={() => dialog.current?.close()} />}
      </dialog>
    </>
  );
}

/** Visibility, invitation links and members; mounted while the dialog is open, so it fetches fresh. */
function ShareDialogBody({ onClose }: { onClose: () => void }) {
  const title = useSceneView(selectTitle);
  const [error, setError] = useState<UserError | null>(null);
  return (
    <div className="dialog-body">
      <header className="dialog-header">
        <h2 id="share-heading">Share “{title}”</h2>
        <button type="button" className="link-button" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      <VisibilityChoice />
      <Invites onError={setError} />
      <Members onError={setError} />
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </div>
  );
}

function VisibilityChoice() {
  const { actions } = useEditor();
  const stored = useSceneView(selectVisibility);
  // Checked at once while the change is sent; back to the scene's value if it is refused.
  const [pending, setPending] = useState<Visibility | null>(null);
  const visibility = pending ?? stored;
  return (
    <fieldset className="visibility-choice">
      <legend>Who can see it</legend>
      {VISIBILITY.map((v) => (
        <label key={v.value} className="choice">
          <input
            type="radio"
            name="visibility"
            value={v.value}
            checked={visibility === v.value}
            onChange={() => {
              setPending(v.value);
              void actions.setVisibility(v.value).then(() => setPending(null));
            }}
            aria-describedby={`visibility-${v.value}`}
          />
          <span>
            <span className="choice-label">{v.label}</span>
            <span className="hint" id={`visibility-${v.value}`}>
              {v.explain}
            </span>
          </span>
        </label>
      ))}
      {visibility !== 'PRIVATE' && (
        <p className="share-page-link">
          <CopyButton
            text={typeof window === 'undefined' ? '' : window.location.href}
            label="Copy page link"
            copiedLabel="Page link copied"
          />
        </p>
      )}
    </fieldset>
  );
}

function Invites({ onError }: { onError: (error: UserError | null) => void }) {
  const client = useClient();
  const { stores } = useEditor();
  const sceneId = stores.scene.getState().scene.id;
  const [result, refetch] = useQuery({ query: InvitesDocument, variables: { sceneId }, requestPolicy: 'network-only' });
  const reload = useCallback(() => refetch({ requestPolicy: 'network-only' }), [refetch]);
  const createButton = useRef<HTMLButtonElement>(null);
  const invites = result.data?.invites ?? [];

  async function create(role: Role) {
    const answer = await client.mutation(CreateInviteDocument, { sceneId, role }).toPromise();
    onError(answer.error ? toUserError(answer.error) : null);
    reload();
  }
  async function revoke(inviteId: string) {
    const answer = await client.mutation(RevokeInviteDocument, { sceneId, inviteId }).toPromise();
    onError(answer.error ? toUserError(answer.error) : null);
    // Its row (and the focused button) goes: keep the focus in the dialog.
    createButton.current?.focus();
    reload();
  }

  return (
    <section className="share-section" aria-labelledby="invites-heading">
      <h3 id="invites-heading">Invitation links</h3>
      <p className="hint">Whoever opens one joins the scene with its role, until you revoke it.</p>
      <div className="button-row">
        <button type="button" ref={createButton} onClick={() => void create('EDITOR')}>
          Create an editor link
        </button>
        <button type="button" onClick={() => void create('VIEWER')}>
          Create a viewer link
        </button>
      </div>
      {result.error && <ErrorNotice error={toUserError(result.error)} />}
      {invites.length === 0 ? (
        <p className="muted">{result.fetching ? 'Loading…' : 'No open invitation links.'}</p>
      ) : (
        <ul className="invite-list" aria-label="Open invitation links">
          {invites.map((invite) => {
            const url = new URL(invite.url, window.location.origin).href;
            const word = roleWord(invite.role);
            return (
              <li key={invite.id} className="invite" data-role={invite.role}>
                <span className={`pill pill-role-${invite.role.toLowerCase()}`}>{word}</span>
                <input readOnly value={url} aria-label={`Invitation link for an ${word}`} onFocus={(e) => e.currentTarget.select()} />
                <CopyButton text={url} />
                <button type="button" className="danger" onClick={() => void revoke(invite.id)} aria-label={`Revoke the ${word} link`}>
                  Revoke
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Members({ onError }: { onError: (error: UserError | null) => void }) {
  const client = useClient();
  const { stores, me } = useEditor();
  const sceneId = stores.scene.getState().scene.id;
  const version = useUi(selectMembersVersion);
  const [result, refetch] = useQuery({ query: SceneAccessDocument, variables: { id: sceneId }, requestPolicy: 'network-only' });
  useEffect(() => {
    if (version > 0) refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);
  const members = result.data?.scene.members ?? [];
  const heading = useRef<HTMLHeadingElement>(null);

  async function remove(userId: string) {
    const answer = await client.mutation(RemoveMemberDocument, { sceneId, userId }).toPromise();
    onError(answer.error ? toUserError(answer.error) : null);
    heading.current?.focus();
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <section className="share-section" aria-labelledby="members-heading">
      <h3 id="members-heading" ref={heading} tabIndex={-1}>
        People with access
      </h3>
      <ul className="member-list" aria-labelledby="members-heading">
        {members.map(({ user, role }) => {
          const you = user.id === me?.id;
          const name = `${user.displayName}${you ? ' (you)' : ''}`;
          return (
            <li key={user.id} className="member" data-user-id={user.id}>
              <Avatar name={user.displayName} color={user.color} label={name} size={24} />
              <span className="member-name">{name}</span>
              <span className="member-role">{roleWord(role)}</span>
              {role !== 'OWNER' && (
                <button type="button" className="danger" onClick={() => void remove(user.id)} aria-label={`Remove ${user.displayName}`}>
                  Remove
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
