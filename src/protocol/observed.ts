/**
 * Observed address, advertised address, LAN routes (docs/PROTOCOL.md §15): the pure rules
 * (`agreedHost`, `advertise`, `isLanHost`) and the steps that apply them to the core's state.
 * Reachability checks themselves (dial-back) are in handlers/dialback.ts.
 */
import { formatAddress, hostOf, tryParseAddress } from '../util/address.ts';
import { DIALBACK_RECHECK_MS, OBSERVED_AGREEMENT, OBSERVED_TTL_MS } from './constants.ts';
import type { CoreContext } from './context.ts';
import type { AddressInfo, ReferralBody } from './messages.ts';
import type { NatState, Reachability } from './state.ts';
import { saveContact } from './tables.ts';
import type { ContactRecord } from './types.ts';

/**
 * The public host our contacts agree on. Reports of our own local host come from contacts on our
 * LAN (or mean we are not behind a NAT) and do not vote; of the others, a host needs
 * OBSERVED_AGREEMENT reports, or one when only one contact reports a non-local host. Without a
 * winner the previous value stays (one contact cannot move us). Null when nobody reported.
 */
export function agreedHost(
  observations: Iterable<{ host: string; at: number }>,
  localHost: string | null,
  previous: string | null,
  now: number,
): string | null {
  const counts = new Map<string, number>();
  let sawLocal = false;
  for (const o of observations) {
    if (now - o.at > OBSERVED_TTL_MS) continue;
    if (o.host === localHost) sawLocal = true;
    else counts.set(o.host, (counts.get(o.host) ?? 0) + 1);
  }
  let reporters = 0;
  for (const n of counts.values()) reporters += n;
  const need = Math.min(OBSERVED_AGREEMENT, reporters);
  let best: string | null = null;
  let bestN = 0;
  for (const [host, n] of counts) {
    if (n > bestN || (n === bestN && host === previous)) {
      best = host;
      bestN = n;
    }
  }
  if (best !== null && bestN >= need && need > 0) return best;
  if (previous !== null && counts.has(previous)) return previous;
  return sawLocal ? localHost : null;
}

/** What we advertise (§15.2): the address, and whether others can dial it. */
export function advertise(
  nat: Pick<NatState, 'local' | 'observedHost' | 'mapping' | 'reachability'>,
  port: number,
): { address: string | null; dialable: boolean } {
  const localHost = nat.local ? hostOf(nat.local) : null;
  const reach: Reachability = nat.reachability;
  if (nat.mapping && reach !== 'private') return { address: nat.mapping, dialable: true };
  if (nat.observedHost === null || nat.observedHost === localHost)
    return { address: nat.local, dialable: reach !== 'private' };
  const address = formatAddress({ host: nat.observedHost, port });
  // Behind a NAT without a mapping we are private until a dial-back proves otherwise.
  return { address, dialable: reach === 'public' };
}

/** True for hosts of private networks (RFC 1918, RFC 6598 shared, link-local, IPv6 ULA/link-local): a LAN address. */
export function isLanHost(host: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4) {
    const a = Number(v4[1]);
    const b = Number(v4[2]);
    return (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80:');
}

/** The address fields of our presence announce (§15.3). */
export function announceInfo(core: CoreContext): AddressInfo {
  const nat = core.state.nat;
  const info: AddressInfo = {};
  if (core.state.address) info.addr = core.state.address;
  info.dialable = nat.dialable;
  if (nat.local && nat.local !== core.state.address && isLanHost(hostOf(nat.local))) info.lan = nat.local;
  return info;
}

/** Invite hints (§15.7): the advertised address when others can dial it, and our LAN address. */
export function inviteHints(core: CoreContext): string[] {
  const nat = core.state.nat;
  const out: string[] = [];
  if (core.state.address && nat.dialable) out.push(core.state.address);
  if (nat.local && !out.includes(nat.local) && (out.length === 0 || isLanHost(hostOf(nat.local)))) out.push(nat.local);
  return out;
}

/** A contact's answer told us where it saw us (only proven answers come here). */
export function noteObservation(core: CoreContext, contact: string | null, host: string): void {
  if (contact === null || !core.state.contacts.has(contact)) return;
  const nat = core.state.nat;
  nat.observations.set(contact, { host, at: core.now });
  recompute(core);
}

/**
 * Re-derives the agreed host and the advertised address; announces a change through the existing
 * IP-change flow (presence announces to every contact) and starts a reachability check.
 */
export function recompute(core: CoreContext): void {
  const nat = core.state.nat;
  const localHost = nat.local ? hostOf(nat.local) : null;
  const host = agreedHost(nat.observations.values(), localHost, nat.observedHost, core.now);
  let rerouted: ContactRecord[] = [];
  if (host !== nat.observedHost) {
    nat.observedHost = host;
    nat.reachability = 'unknown';
    rerouted = preferLanRoutes(core);
    core.startDialback();
  }
  // Contacts now on our LAN may just have failed at their public address (no hairpinning): they
  // get our announce at their LAN address, in the announce to everybody or on its own.
  const toAll = applyAdvertised(core);
  if (core.state.started) for (const c of rerouted) if (!toAll || c.status !== 'active') core.announceTo(c, false);
}

/** Sets `state.address` and `dialable` from the current facts; announces (true) when they changed. */
export function applyAdvertised(core: CoreContext): boolean {
  const nat = core.state.nat;
  const next = advertise(nat, core.cfg.port);
  if (next.address === core.state.address && next.dialable === nat.dialable) return false;
  const moved = next.address !== core.state.address;
  core.state.address = next.address;
  nat.dialable = next.dialable;
  if (!core.state.started) return false;
  // Issue 11: contacts that miss this announce are tried again with later announces (MOVE_RETRY_WINDOW_MS).
  if (moved) core.state.moved = { at: core.now, missed: new Set() };
  core.announceAll(true);
  return true;
}

/**
 * Our local interface address changed (runtime, `address` command): we moved; old reports are stale.
 * `mapping` (when given) is the port mapping on the new network, so one announce carries both.
 */
export function setLocal(core: CoreContext, local: string | null, mapping?: string | null): boolean {
  const nat = core.state.nat;
  if (local === nat.local) return false;
  nat.local = local;
  if (mapping !== undefined) nat.mapping = mapping;
  nat.observations.clear();
  nat.observedHost = null;
  nat.reachability = 'unknown';
  nat.check = null;
  applyAdvertised(core);
  return true;
}

/** The router's port mapping appeared, changed or went away (runtime, `mapping` command). */
export function setMapping(core: CoreContext, mapping: string | null): void {
  const nat = core.state.nat;
  if (mapping === nat.mapping) return;
  nat.mapping = mapping;
  nat.reachability = 'unknown';
  applyAdvertised(core);
  core.startDialback();
}

/** Periodic: check reachability again when the last check is old (a router may drop a mapping). */
export function maybeRecheck(core: CoreContext): void {
  if (core.now - core.state.nat.lastCheck >= DIALBACK_RECHECK_MS) core.startDialback();
}

/** A contact's presence announce told us its addresses (kept in memory only). */
export function notePeerInfo(core: CoreContext, uuid: string, body: ReferralBody): void {
  if (body.addr === undefined && body.lan === undefined && body.dialable === undefined) return;
  core.state.nat.peers.set(uuid, {
    addr: body.addr ?? null,
    lan: body.lan ?? null,
    dialable: body.dialable !== false,
  });
}

/**
 * The address to store for a contact: its LAN address instead of a public one when that public
 * host is our own (we are behind the same router, which cannot hairpin, §15.5).
 */
export function lanRoute(core: CoreContext, uuid: string, address: string | null): string | null {
  const nat = core.state.nat;
  const info = nat.peers.get(uuid);
  const lan = info?.lan ?? null;
  if (address === null || lan === null) return address;
  const localHost = nat.local ? hostOf(nat.local) : null;
  // It said others cannot dial its public address, and its LAN address is on our own network
  // (we may not know our public IP yet, e.g. our only contacts are on this LAN).
  if (info?.addr === address && !info.dialable && localHost !== null && sameLan(localHost, hostOf(lan))) return lan;
  const mine = nat.observedHost;
  if (mine === null) return address;
  const host = tryParseAddress(address)?.host;
  return host === mine && host !== localHost ? lan : address;
}

/** Two private IPv4 hosts on the same /24 (the usual home LAN); false for anything else. */
export function sameLan(a: string, b: string): boolean {
  if (!isLanHost(a) || !isLanHost(b)) return false;
  const net = (h: string) => /^(\d+\.\d+\.\d+)\.\d+$/.exec(h)?.[1] ?? null;
  return net(a) !== null && net(a) === net(b);
}

/** Our public host changed: contacts that announced the same public host are on our LAN now; returns them. */
function preferLanRoutes(core: CoreContext): ContactRecord[] {
  const out: ContactRecord[] = [];
  for (const c of core.state.contacts.values()) {
    const info = core.state.nat.peers.get(c.uuid);
    const pub = info?.addr ?? c.address;
    if (!info?.lan || !pub) continue;
    const routed = lanRoute(core, c.uuid, pub);
    if (routed !== null && routed !== c.address) {
      c.address = routed;
      saveContact(core, c);
      if (c.status !== 'pending') out.push(c);
    }
  }
  return out;
}
