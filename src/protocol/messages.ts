/**
 * The four message types of the seed and their JSON bodies (docs/PROTOCOL.md §4).
 * Headers map to HTTP request headers `Mesh-*`; bodies are the JSON request body.
 */

/** The seed's four message types, and v1.1's `dialback` (§15), `relay` and `introduce` (§16), `punch` (§17), `directory` (§18) (docs/PROTOCOL.md). */
export type MessageType =
  | 'IP'
  | 'referral'
  | 'message'
  | 'contact_req'
  | 'dialback'
  | 'relay'
  | 'introduce'
  | 'punch'
  | 'directory';

/** All message types, for validation. */
export const MESSAGE_TYPES: readonly MessageType[] = [
  'IP',
  'referral',
  'message',
  'contact_req',
  'dialback',
  'relay',
  'introduce',
  'punch',
  'directory',
];

/** Decoded `Mesh-*` request headers. */
export interface RequestHeaders {
  version: number;
  type: MessageType;
  /** Sender of this hop (UUID). */
  from: string;
  /** 128-bit random id, base64url (22 chars); kept along a search's path (IP / contact_req). */
  id: string;
  /** Unix ms. */
  ts: number;
  /** Sender's listening port, so the receiver learns `ip:port` from the socket's IP (extension of DESIGN.md §3). */
  port: number | null;
  /** HMAC proof under the link key (contacts). */
  secret: string | null;
  /** First contact: base64url(signPub ‖ boxPub), 64 bytes. */
  pubKey: string | null;
  /** First contact: Ed25519 signature over the request signing input. */
  signature: string | null;
}

/** IP: "find `to` and tell it where I am"; `encrypted` is sealed to `to` (relays can't read it). */
export interface IpBody {
  to: string;
  /** Hops travelled so far including this one (the searcher sends 1). */
  hops: number;
  /** Flood no further than this many hops (the searcher's expanding ring); relays cap it by their own radius. */
  maxHops?: number;
  encrypted: string;
}

/** The sealed part of an IP message (the seed's `encrypted: { from, secret, IP }`). */
export interface IpSealed {
  from: string;
  ip: string;
  /** HMAC under the origin–target link key over the search id and ip: the seed's "secret". */
  proof: string;
  /**
   * The searcher's clock when it sealed this, unix ms (issue 12 #5): the target moves the searcher
   * only while it is within the replay window, so a relay cannot replay an old sealed part later.
   * Absent from nodes before this field: answered, but the searcher's address is not changed.
   */
  ts?: number;
}

/** The sealed part of the target's answer (the seed's response `encrypted: { IP, secret }`). */
export interface IpAnswerSealed {
  ip: string;
  proof: string;
}

/** referral: "I reach `referent` in `hops` hops" (hops 0 with referent = sender is a presence announce). */
export interface ReferralBody extends AddressInfo {
  referent: string;
  hops: number;
  /** Withdraws an earlier referral (the contact went away). */
  withdraw?: boolean;
  /** Presence only: the sender's contact digest, sealed to us (digest.ts, PROTOCOL.md §14). */
  digest?: string;
}

/**
 * How a node says where it can be reached (docs/PROTOCOL.md §15), carried by presence announces
 * (`referral` hops 0) as optional fields that v1 nodes ignore. `addr`: the advertised address
 * (observed public IP with the mapped or listening port); `dialable: false` means others cannot open
 * a connection to it (a private node: reach it over its own channels or a relay); `lan`: its address
 * on its local network, for contacts behind the same router (no hairpinning).
 */
export interface AddressInfo {
  addr?: string;
  dialable?: boolean;
  lan?: string;
}

/**
 * dialback (v1.1, §15): `ask` = "open a fresh connection to my observed IP on `port` and send this
 * nonce back"; `probe` = that fresh connection's request, carrying the nonce.
 */
export type DialbackBody = { op: 'ask'; nonce: string; port: number } | { op: 'probe'; nonce: string };

/**
 * directory (issue 11, to a peer with a domain that is our contact): store our sealed record under a
 * blinded key, or fetch the records under one (the answer's `data`: base64url of a JSON array of records).
 */
export type DirectoryBody = { op: 'put'; key: string; record: string } | { op: 'get'; key: string };

/** message: AEAD-encrypted under the sender's directional message key. */
export interface MessageBody {
  nonce: string;
  ct: string;
}

/** Plaintext of a message body. */
export interface MessagePlain {
  id: string;
  text: string;
  sentAt: number;
}

/** What a requester tells about itself in a contact request. */
export interface ContactCard {
  uuid: string;
  name: string;
  signPub: string;
  boxPub: string;
  address: string | null;
}

/** contact_req: routed by UUID like IP; `encrypted` holds the requester's card under the invite key, or `card` is plain for a peer with a domain. */
export interface ContactReqBody {
  /** Recipient UUID; null only for a direct bootstrap request to a peer with a domain. */
  to: string | null;
  hops: number;
  /** Invite id (base64url of 8 bytes of SHA-256(invite secret)). */
  invite?: string;
  /** base64url(nonce ‖ AEAD(inviteKey, nonce, card)). */
  encrypted?: string;
  card?: ContactCard;
}

/** The sealed answer to a contact request (the seed's `encrypted { pub_key, auth_phrase, secret }`). */
export interface ContactAnswerSealed extends ContactCard {
  secret: string;
  authPhrase: string;
  /** §16.4: the inviter's contact that carried the request (optional; older nodes ignore it). */
  introducer?: ContactCard;
}

/** Body of every 200 response. */
export interface OkResponse {
  /** The requester's address as this node saw it. */
  observed: string;
  /** Proof under the link key over (request id, observed, data). */
  secret?: string;
  /** Ed25519 signature over the same input, when the requester is not (yet) a contact. */
  signature?: string;
  /** Type-specific payload (a sealed answer for IP / contact_req). */
  data?: string;
}

/** Body of every error response. */
export interface ErrorResponse {
  error: string;
  message: string;
}

/**
 * relay (docs/PROTOCOL.md §16): a request from `from` to `to`, sealed end to end, carried by a
 * contact of both. The relay sees only from, to, the type and the size.
 */
export interface RelayBody {
  from: string;
  to: string;
  /** base64url seal(from → to, u16be headersLen ‖ headers JSON ‖ body, aad "mesh-v1-relay|from|to"). */
  sealed: string;
}

/** introduce (§16): "forward first contact requests for my invite `invite` to me until `expiresAt`". */
export interface IntroduceBody {
  invite: string;
  expiresAt: number;
}

/**
 * punch (docs/PROTOCOL.md §17), between two contacts: `connect` offers the sender's candidate
 * endpoints (its punch port as others see it) and is answered with the receiver's; `sync` starts
 * the simultaneous open (the receiver at once, the sender half a round trip later).
 */
export type PunchBody = { op: 'connect'; attempt: string; candidates: string[] } | { op: 'sync'; attempt: string };

/** The answer to a punch `connect` (the response `data`, base64url of this JSON). */
export interface PunchAnswer {
  candidates: string[];
}
