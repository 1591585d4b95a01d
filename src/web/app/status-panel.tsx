/** Node status (UUID, addresses, counts) and the neighbourhood picture. */
import { Neighbourhood } from './neighbourhood.tsx';
import { useMesh } from './use-store.ts';

function AddressList({ list, empty, testId }: { list: string[] | undefined; empty: string; testId: string }) {
  if (!list?.length) return <span class="muted">{empty}</span>;
  return (
    <span data-testid={testId}>
      {list.map((a, i) => (
        <span key={a}>
          {i > 0 && ', '}
          <code>{a}</code>
        </span>
      ))}
    </span>
  );
}

/** The overview: who this node is, how it is reachable, and its neighbourhood. */
export function StatusPanel() {
  const [state] = useMesh();
  const { status, id } = state;
  const uuid = status?.uuid ?? id?.uuid ?? '';
  const online = status?.contacts.online ?? state.contacts.filter((c) => c.online).length;
  const total = status?.contacts.total ?? state.contacts.length;
  return (
    <section class="panel overview" aria-labelledby="status-heading">
      <a href="#/" class="back" aria-label="Back to contacts">
        ←
      </a>
      <div class="overview-grid">
        <div>
          <h1 id="status-heading">Node status</h1>
          <dl class="status" data-testid="status-panel">
            <dt>Name</dt>
            <dd>{status?.name || id?.name || <span class="muted">no name</span>}</dd>
            <dt>UUID</dt>
            <dd>
              <code class="break" data-testid="status-uuid">
                {uuid}
              </code>
            </dd>
            <dt>Listening on</dt>
            <dd>
              <AddressList list={status?.listen ?? id?.listen} empty="not listening" testId="status-listen" />
            </dd>
            <dt>Seen by others as</dt>
            <dd>
              <AddressList
                list={status?.observed ?? id?.observed}
                empty="not known yet (no contact has answered)"
                testId="status-observed"
              />
            </dd>
            <dt>Contacts online</dt>
            <dd data-testid="status-contacts">
              {online} of {total}
            </dd>
            <dt>Referrals</dt>
            <dd data-testid="status-referrals">
              {status?.referrals ?? state.referrals.length}{' '}
              <span class="muted small">(nodes findable through contacts)</span>
            </dd>
            <dt>Outbox</dt>
            <dd data-testid="status-outbox">
              {status?.outbox ?? 0}{' '}
              <span class="muted small">{status?.outbox === 1 ? 'message waiting' : 'messages waiting'}</span>
            </dd>
          </dl>
        </div>
        <div>
          <h2 id="neigh-heading">Your neighbourhood</h2>
          <Neighbourhood />
        </div>
      </div>
    </section>
  );
}
