/**
 * A live picture of the node's neighbourhood: self in the centre, contacts on the first ring, nodes
 * known through referrals further out (ring = distance in hops from this node).
 */
import type { Contact, Referral } from './api.ts';
import { displayName, shortId } from './format.ts';
import { href } from './route.ts';
import { useMesh } from './use-store.ts';

const SIZE = 420;
const C = SIZE / 2;
/** Ring radius for distance 1 (contacts), 2, 3+ hops. */
const RING = [0, 92, 150, 196];
/** Smallest distance between two referral nodes on a ring, in SVG units. */
const MIN_GAP = 34;
/** Ring labels sit on the upper-left diagonal, where contacts (placed from the top, evenly) rarely are. */
const LABEL_ANGLE = (-3 * Math.PI) / 4;
/** Beyond this many referral nodes the picture stops being readable; the rest are counted. */
const MAX_REFERENTS = 48;

interface ReferentNode {
  uuid: string;
  x: number;
  y: number;
  /** Distance from this node: a referral's hops count from the contact `via`, so +1. */
  distance: number;
  via: string[];
}

/** Layout, pure so it can be reasoned about: contacts evenly on ring 1, referents near their best contact. */
export function layout(contacts: Contact[], referrals: Referral[], self: string) {
  const sorted = [...contacts].sort((a, b) => a.uuid.localeCompare(b.uuid));
  const angleOf = new Map<string, number>();
  const contactNodes = sorted.map((c, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, sorted.length);
    angleOf.set(c.uuid, a);
    return { contact: c, uuid: c.uuid, x: C + RING[1] * Math.cos(a), y: C + RING[1] * Math.sin(a) };
  });

  // One node per referent (not self, not a contact), at its shortest distance, linked to every via.
  const contactSet = new Set(contacts.map((c) => c.uuid));
  const best = new Map<string, { hops: number; via: Set<string>; bestVia: string }>();
  for (const r of referrals) {
    if (r.referent === self || contactSet.has(r.referent)) continue;
    const b = best.get(r.referent);
    if (!b) best.set(r.referent, { hops: r.hops, via: new Set([r.via]), bestVia: r.via });
    else {
      b.via.add(r.via);
      if (r.hops < b.hops) {
        b.hops = r.hops;
        b.bestVia = r.via;
      }
    }
  }
  const all = [...best.entries()].sort((a, b) => a[1].hops - b[1].hops || a[0].localeCompare(b[0]));
  const shown = all.slice(0, MAX_REFERENTS);

  // Each referent sits in the direction of the contacts it is reachable through (circular mean), so
  // its edges stay short; a referent between two opposite contacts goes to the side.
  const byRing = new Map<number, { uuid: string; angle: number; distance: number; via: string[] }[]>();
  for (const [uuid, info] of shown) {
    let sx = 0;
    let sy = 0;
    for (const v of info.via) {
      const a = angleOf.get(v);
      if (a === undefined) continue;
      sx += Math.cos(a);
      sy += Math.sin(a);
    }
    const bestAngle = angleOf.get(info.bestVia) ?? 0;
    const angle = Math.hypot(sx, sy) < 0.3 ? bestAngle + Math.PI / 2 : Math.atan2(sy, sx);
    const ring = Math.min(3, info.hops + 1);
    byRing.set(ring, [...(byRing.get(ring) ?? []), { uuid, angle, distance: info.hops + 1, via: [...info.via] }]);
  }
  const referentNodes: ReferentNode[] = [];
  for (const [ring, list] of byRing) {
    // Push neighbours apart to at least MIN_GAP px along the ring, then re-centre the group.
    const minSep = Math.min(MIN_GAP / RING[ring], (2 * Math.PI) / list.length);
    list.sort((a, b) => a.angle - b.angle || a.uuid.localeCompare(b.uuid));
    const wanted = list.map((n) => n.angle);
    for (let i = 1; i < list.length; i++) list[i].angle = Math.max(list[i].angle, list[i - 1].angle + minSep);
    const shift = (wanted.reduce((x, y) => x + y, 0) - list.reduce((x, n) => x + n.angle, 0)) / list.length;
    for (const n of list) {
      const a = n.angle + shift;
      referentNodes.push({ ...n, x: C + RING[ring] * Math.cos(a), y: C + RING[ring] * Math.sin(a) });
    }
  }
  return { contactNodes, referentNodes, hidden: all.length - shown.length };
}

/** The neighbourhood SVG with a text summary for screen readers. */
export function Neighbourhood() {
  const [state] = useMesh();
  const self = state.id?.uuid ?? '';
  const { contactNodes, referentNodes, hidden } = layout(state.contacts, state.referrals, self);
  const pos = new Map<string, { x: number; y: number }>(contactNodes.map((n) => [n.uuid, n]));
  const online = state.contacts.filter((c) => c.online).length;
  const summary =
    `You are in the centre. ${state.contacts.length} contacts around you, ${online} online. ` +
    `${referentNodes.length + hidden} more nodes known through referrals, further out by hop count.`;

  return (
    <figure class="neigh">
      <svg
        viewBox={`0 0 ${SIZE} ${SIZE}`}
        role="img"
        aria-labelledby="neigh-title neigh-desc"
        data-testid="neighbourhood"
        class="neigh-svg"
      >
        <title id="neigh-title">Neighbourhood of this node</title>
        <desc id="neigh-desc">{summary}</desc>
        {RING.slice(1).map((r) => (
          <circle key={r} cx={C} cy={C} r={r} class="ring" />
        ))}
        {[2, 3].map((ring) => (
          <text
            key={ring}
            x={C + RING[ring] * Math.cos(LABEL_ANGLE)}
            y={C + RING[ring] * Math.sin(LABEL_ANGLE)}
            class="ring-label"
          >
            {ring === 3 ? '3+ hops' : '2 hops'}
          </text>
        ))}
        {referentNodes.flatMap((n) =>
          n.via.map((v) => {
            const p = pos.get(v);
            return p ? <line key={`${n.uuid}-${v}`} x1={p.x} y1={p.y} x2={n.x} y2={n.y} class="edge edge-ref" /> : null;
          }),
        )}
        {contactNodes.map((n) => (
          <line
            key={`e-${n.uuid}`}
            x1={C}
            y1={C}
            x2={n.x}
            y2={n.y}
            class={`edge ${n.contact.online ? 'edge-online' : 'edge-offline'}`}
          />
        ))}
        {referentNodes.map((n) => (
          <g key={n.uuid} data-testid="neigh-node" data-kind="referral" data-hops={n.distance} class="node node-ref">
            <title>
              {`${n.uuid}\n${n.distance} hops away, reachable through ${n.via
                .map((v) => displayName(state.contacts.find((c) => c.uuid === v)?.name, v))
                .join(', ')}`}
            </title>
            <circle cx={n.x} cy={n.y} r={9} />
            <text x={n.x} y={n.y + 3.5} class="node-hops">
              {n.distance}
            </text>
            <text x={n.x} y={n.y + 21} class="node-label small-label">
              {shortId(n.uuid).slice(0, 6)}
            </text>
          </g>
        ))}
        {contactNodes.map((n) => {
          const name = displayName(n.contact.name, n.uuid);
          return (
            <a key={n.uuid} href={href({ kind: 'chat', uuid: n.uuid })} aria-label={`Chat with ${name}`}>
              <g
                data-testid="neigh-node"
                data-kind="contact"
                data-hops="1"
                data-online={String(n.contact.online)}
                class={`node node-contact ${n.contact.online ? 'is-online' : 'is-offline'}`}
              >
                <title>{`${name} — ${n.contact.online ? 'online' : 'offline'}${n.contact.address ? ` — ${n.contact.address}` : ''}`}</title>
                <circle cx={n.x} cy={n.y} r={16} />
                <text x={n.x} y={n.y + 5} class="node-initial">
                  {name.slice(0, 1).toUpperCase()}
                </text>
                <text x={n.x} y={n.y + 31} class="node-label">
                  {name.length > 12 ? `${name.slice(0, 11)}…` : name}
                </text>
              </g>
            </a>
          );
        })}
        <g data-testid="neigh-node" data-kind="self" data-hops="0" class="node node-self">
          <title>{`You (${self})`}</title>
          <circle cx={C} cy={C} r={24} />
          <text x={C} y={C + 5} class="node-initial">
            You
          </text>
        </g>
        {hidden > 0 && (
          <text x={SIZE - 8} y={SIZE - 8} class="ring-label" text-anchor="end">
            +{hidden} more not shown
          </text>
        )}
      </svg>
      <figcaption class="legend">
        <span>
          <span class="swatch swatch-self" aria-hidden="true" /> you
        </span>
        <span>
          <span class="swatch swatch-online" aria-hidden="true" /> contact online
        </span>
        <span>
          <span class="swatch swatch-offline" aria-hidden="true" /> contact offline
        </span>
        <span>
          <span class="swatch swatch-ref" aria-hidden="true" /> known through referrals (number = hops)
        </span>
      </figcaption>
    </figure>
  );
}
