/**
 * Protocol constants: every default with its unit and the reason for its value.
 * The simulator (docs/SIMULATION.md) chose the routing defaults; each is configurable per node
 * through `CoreInit`.
 */
import { MESH_PORT } from '../util/address.ts';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const KIB = 1024;

/** Wire protocol version carried in `Mesh-Version`. */
export const PROTOCOL_VERSION = 1;
/** Default TCP port (seed: "POST to port 7575"; defined with the address parser in util). */
export const DEFAULT_PORT = MESH_PORT;
/** Default local API port (DESIGN.md §7). */
export const DEFAULT_API_PORT = 7576;
/** HTTP path every Mesh request is POSTed to. */
export const MESH_PATH = '/mesh';

/** Largest request body accepted, bytes. 64 KiB holds any text message with room to spare while bounding memory per request (DESIGN.md §3). */
export const MAX_BODY_BYTES = 64 * KIB;
/** Largest user message text, bytes (UTF-8); leaves room for sealing and JSON overhead inside MAX_BODY_BYTES. */
export const MAX_TEXT_BYTES = 32 * KIB;
/** Accepted clock skew for `Mesh-Ts`, ms (DESIGN.md §3: ±5 min). */
export const REPLAY_WINDOW_MS = 5 * MINUTE;
/** Seen-id cache capacity: bounds memory under a flood of distinct ids; 65,536 ids × ~60 B ≈ 4 MB. */
export const SEEN_CACHE_MAX = 65_536;
/**
 * Of the seen-id cache, the share for strangers' ids (first contact): kept apart so that strangers
 * flooding distinct ids evict only each other, never the ids of our contacts' requests (issue 12 #11).
 */
export const SEEN_CACHE_STRANGER_MAX = 8_192;

/**
 * Referral radius: a referral is forwarded while `hops < REFERRAL_RADIUS`; 0 = none are sent.
 * Seed: 10 ("gen < 10"), which reaches the whole small-world graph. 1 = a moved node's contacts tell
 * their own contacts. Simulated (30% offline, 10% moved): ego-Facebook success 98.3% → 99.3% and
 * Holme–Kim 10⁴ 62% → 77% against radius 0, at ~4,000 messages per address change on ego-Facebook
 * (hubs) but only ~230 on the sparser graph (docs/SIMULATION.md).
 * Issue 11: 0 since contact digests. A searcher asks the contacts whose digest lists the target, and
 * relays do the same one hop further, so the referral wave is no longer needed to find the paths it
 * found: ego-Facebook 99.3 % at 106 instead of 3,392 messages per relocation, Holme–Kim 2,000 (10 min
 * window) 81.6 % at 194 instead of 83.7 % at 448. Sparse graphs need peers with a domain for more
 * (the directory). Referrals still work when a node sets a radius (`--referral-radius`).
 */
export const REFERRAL_RADIUS = 0;
/** The seed's original referral generation limit ("gen < 10"), kept for `--strategy seed`. */
export const SEED_REFERRAL_RADIUS = 10;
/**
 * Flood max hops for IP / contact_req searches ("reached max hops"): a relay floods further only while
 * the hops travelled are below this. 2 reaches the contacts of our contacts, i.e. every path
 * searcher–x–y–target; on ego-Facebook 1 gave 97.0% success and 2 gave 98.3% (docs/SIMULATION.md).
 */
export const SEARCH_RADIUS = 2;
/** The seed's flood limit for `--strategy seed` (the seed leaves it open; 10 as for referrals). */
export const SEED_SEARCH_RADIUS = 10;
/** How many contacts a searcher asks at once before trying the next batch (sendmessage chart "try/catch"). */
export const SEARCH_FANOUT = 8;
/**
 * Most contacts one search round asks (the flooding round asks a quarter of this). Bounds a search on
 * a node with hundreds of contacts; the order is random so an outbox retry asks others.
 */
export const SEARCH_MAX_ASK = 32;
/**
 * How many contacts a relay floods to at most (relay fan-out limit, DESIGN.md §3). Was 0 = all: one IP
 * message or one stranger's contact_req to a --public node then went to every contact (issue 12 #1,
 * 10 requests → 5,000 sends on a 500-contact hub). 8 = one search batch: the flood reaches ≤ 8 + 64
 * nodes in two hops; the most recently seen contacts go first (those most likely still there), and
 * a relay holding a referral or the target itself never floods at all. The simulator's `--strategy
 * seed` sets 0 (all) to reproduce the seed; real nodes run with this default.
 */
export const RELAY_FANOUT = 8;
/** Most relays one node carries at once: bounds the outstanding-request table whatever the senders do. */
export const RELAY_MAX_IN_FLIGHT = 256;
/**
 * Of RELAY_MAX_IN_FLIGHT, most a stranger's contact_req (--public nodes) may hold at once: strangers
 * cannot crowd out the relays our contacts' searches need.
 */
export const RELAY_MAX_STRANGER = 32;
/** Most contacts a stranger's contact_req is flooded to by a --public node (a contact's gets RELAY_FANOUT). */
export const RELAY_FANOUT_STRANGER = 2;
/** Most contacts one `mesh add` asks to carry its contact_req (each floods at most RELAY_FANOUT further). */
export const ADD_MAX_ASK = 32;
/**
 * Most contacts one referral is forwarded to (address changes and withdrawals). Bounds the work one
 * request can cause on a hub; contacts beyond it learn the address by their own search.
 */
export const REFERRAL_FANOUT = 128;
/** How long a relay waits for a downstream answer before answering UNREACHABLE, ms. */
export const RELAY_TIMEOUT_MS = 8 * SECOND;
/** How long a searcher waits for a whole search round, ms. */
export const SEARCH_TIMEOUT_MS = 10 * SECOND;
/** How long a direct request may take before it counts as failed, ms. */
export const REQUEST_TIMEOUT_MS = 5 * SECOND;

/** Referrals are soft state: dropped unless refreshed within this time. */
export const REFERRAL_TTL_MS = 6 * HOUR;
/** A node announces itself to each contact this often (presence = referral about self, hops 0); refreshes referrals. */
export const ANNOUNCE_INTERVAL_MS = 1 * HOUR;
/**
 * A contact is shown online if heard from within its announce interval plus this grace, ms: an
 * announce that arrives a little late (clock skew, a slow network) must not flicker it offline.
 */
export const ONLINE_GRACE_MS = 5 * MINUTE;
/**
 * How stale a persisted `lastSeen` may get before it is written again, ms: a busy chat must not
 * write the contact record per message, and "online" only needs minute precision.
 */
export const LAST_SEEN_PERSIST_MS = 1 * MINUTE;
/**
 * How often expired referrals, invites, old requests and seen ids are swept, ms. Expired entries
 * are already ignored where they are read, so the sweep only bounds memory; 10 min keeps it cheap.
 */
export const SWEEP_INTERVAL_MS = 10 * MINUTE;

/** Outbox retry: first delay, ms; doubles per attempt up to OUTBOX_RETRY_MAX_MS. */
export const OUTBOX_RETRY_MIN_MS = 2 * SECOND;
/** Outbox retry: longest delay between attempts, ms. */
export const OUTBOX_RETRY_MAX_MS = 5 * MINUTE;
/** Messages older than this are given up (reported as failed), ms. */
export const OUTBOX_EXPIRY_MS = 30 * DAY;

/** Default invite lifetime, ms. Short so a leaked code is soon useless. */
export const INVITE_TTL_MS = 24 * HOUR;
/** Pending contact requests older than this are dropped, ms: a request nobody answered in a week is stale. */
export const PENDING_REQUEST_TTL_MS = 7 * DAY;

/**
 * Most pending contact requests held (all from strangers or invite holders, waiting for the user).
 * A --public node takes signed requests from anyone: without a bound its table grew with every new
 * key (issue 12 #6). 256 is far more than a person reviews; more are refused with OVER_LIMIT.
 */
export const MAX_PENDING_REQUESTS = 256;
/**
 * Most contacts a node adds by --accept-all: each costs an hourly announce and a row; a stranger
 * minting keys must not grow them without end (issue 12 #6). Beyond it requests are refused (OVER_LIMIT).
 */
export const MAX_ACCEPT_ALL_CONTACTS = 4_096;
/** Most referrals held in total; the least recently refreshed is evicted beyond it (issue 12 #9). */
export const MAX_REFERRALS = 16_384;
/**
 * Most referrals held through one contact: an honest hub reaches its own contacts (hundreds); a
 * contact claiming more is lying or irrelevant. Its oldest entry is evicted beyond it.
 */
export const MAX_REFERRALS_PER_VIA = 1_024;
/**
 * Most referrals one contact may give us about our OWN contacts: claiming to reach all of them would
 * put it first in every search (issue 12 #9). A few moved contacts at once is plausible; more is not.
 */
export const MAX_CONTACT_REFERRALS_PER_VIA = 16;
/**
 * A contact's address change is told to the other contacts at most once per this interval. The
 * referral says only "I reach X" (no address), so a second one soon after adds nothing; a contact
 * alternating its Mesh-Port made the node send one per request (issue 12 #3).
 */
export const MOVED_REFERRAL_INTERVAL_MS = 10 * MINUTE;
/**
 * A stranger speaking from a contact's address makes us check that contact (an authenticated
 * announce) at most once per this interval per contact (issue 12 #4: unauthenticated input never
 * changes a contact's state; it may only prompt an authenticated check).
 */
export const PROBE_INTERVAL_MS = 1 * MINUTE;
/**
 * New messages delivered from one contact per INBOX_WINDOW_MS at most; beyond it OVER_LIMIT, and the
 * sender's outbox retries later (nothing is lost). It bounds the inbox rows one contact can add
 * (≈ 60,000 a minute, 1,000/s sustained) while staying out of the way of a realtime channel: a
 * burst of tens of thousands (bench/transport's channel case sends ≈ 20,000 in 5 s) passes, and the
 * channel's own pace is the per-contact budget below. A first version allowed 20,000 per hour, which
 * stalled that benchmark for the rest of the hour. A quota on stored rows belongs with inbox
 * retention (issue 12, item 6).
 */
export const INBOX_MAX_PER_CONTACT = 60_000;
/** The window of INBOX_MAX_PER_CONTACT, ms. */
export const INBOX_WINDOW_MS = 1 * MINUTE;

/** Per-sender rate limit: requests per window (transport edge). */
export const RATE_LIMIT_MAX = 600;
/** Per-sender rate limit window, ms. */
export const RATE_LIMIT_WINDOW_MS = 1 * MINUTE;
/**
 * Budget of one authenticated contact over its channel, messages per second (token bucket refill).
 * The per-IP limit above (600/min) is for strangers; a friend on a channel gets its own budget,
 * enforced by backpressure (the channel stops reading until tokens are back), never by 429. A fast
 * chat is < 10 messages/s; 16,000/s is about half of what one core handles (≈ 35k message events/s),
 * so one busy friend cannot take the whole node and a second friend still gets through.
 */
export const CONTACT_BUDGET_MSGS_PER_S = 16_000;
/** Burst of one contact's message budget (bucket size): a second's worth, so bursts pass at full speed. */
export const CONTACT_BUDGET_MSGS_BURST = 16_000;
/**
 * Byte budget of one contact over its channel, bytes per second. 32 MiB/s: a file-sized burst
 * (tens of MiB in 64 KiB bodies) passes in about a second; sustained, a friend cannot fill a
 * gigabit link on its own.
 */
export const CONTACT_BUDGET_BYTES_PER_S = 32 * 1024 * KIB;
/** Burst of the byte budget (bucket size): one second's worth. */
export const CONTACT_BUDGET_BYTES_BURST = 32 * 1024 * KIB;

// ---- Observed address, reachability, port mapping (docs/PROTOCOL.md §15)

/**
 * How long a contact's report of where it saw us counts (ms). Reports come with every answer, so a
 * live node refreshes them often; an hour (the announce interval) keeps the vote of a contact that
 * only answers the hourly announce.
 */
export const OBSERVED_TTL_MS = 1 * HOUR;
/**
 * Reports of one host needed before we believe it is our public IP (DESIGN.md §10: "agreement of
 * two, or one when it has one"): one contact alone could feed us a false address.
 */
export const OBSERVED_AGREEMENT = 2;
/**
 * Contacts asked at once to dial us back. Two: one contact's own outbound firewall cannot make us
 * think we are private, and a check costs each contact one extra TLS connection.
 */
export const DIALBACK_ASK = 2;
/** How long a dial-back probe (the contact's fresh connection to us) may take, ms. */
export const DIALBACK_PROBE_TIMEOUT_MS = 4 * SECOND;
/**
 * How long we wait for a contact's answer to "dial me back", ms: longer than the probe and than the
 * HTTPS connector's own 10 s connect timeout, so a probe into a silently dropping NAT still ends in
 * an answer ("not reached") rather than in our timeout (which would leave us `unknown`).
 */
export const DIALBACK_ASK_TIMEOUT_MS = 15 * SECOND;
/**
 * Dial-back requests answered per contact per DIALBACK_WINDOW_MS. A node checks itself on start and
 * on each address change; 6 in 10 minutes covers a laptop changing networks twice and stops a
 * contact from using us as a connection generator (each request costs us one TLS dial).
 */
export const DIALBACK_PER_CONTACT = 6;
/** The window of DIALBACK_PER_CONTACT, ms. */
export const DIALBACK_WINDOW_MS = 10 * MINUTE;
/**
 * Dial-back probes in flight at once for all contacts: bounds the outbound connections contacts can
 * make us open at the same moment (a hub with hundreds of contacts that all restart at once).
 */
export const DIALBACK_MAX_IN_FLIGHT = 16;
/** Reachability is checked again this often even without a visible change (a router may drop a mapping), ms. */
export const DIALBACK_RECHECK_MS = 30 * MINUTE;
/**
 * Port-mapping lease asked from the router (UPnP-IGD / NAT-PMP), ms. An hour (RFC 6886 §3.3
 * recommends 7200 s; the library renews a minute before expiry), short enough that a node that
 * crashed without removing it does not hold the port for long.
 */
export const PORT_MAPPING_TTL_MS = 1 * HOUR;
/**
 * How often the runtime asks the router for its external address and looks at local interfaces,
 * ms. Both are local and cheap (one NAT-PMP datagram / one IGD SOAP call, one getifaddrs), and this
 * interval bounds how late a new WAN address or a move is noticed (target: flowing again ≤ 2 s).
 */
export const ADDRESS_POLL_MS = 1 * SECOND;
// ---- §16 Relay through a mutual contact, introducers (issue 10 items 5 and 7) -------------------

/**
 * Longest `data` of a 200 answer, base64url characters. Was 16,384 (IP and contact answers are far
 * below); a relayed answer carries the target's whole answer sealed inside (its own `data` included),
 * so the limit is the body limit. Decoding stays bounded by MAX_BODY_BYTES anyway.
 */
export const MAX_ANSWER_DATA_CHARS = 65_536;
/**
 * Requests one contact may have relayed through us per RELAY_PATH_WINDOW_MS. A chat through a relay
 * is a few requests a minute (a message, its presence); 1,200 a minute (20/s) lets a burst of queued
 * messages through after a reconnect while bounding what one friend can make us carry (≈ 1,200 ×
 * 64 KiB = 75 MiB a minute at worst, against a 32 MiB/s contact budget on the channel itself).
 */
export const RELAY_PATH_MAX_PER_CONTACT = 1_200;
/** Window of RELAY_PATH_MAX_PER_CONTACT, ms. */
export const RELAY_PATH_WINDOW_MS = 1 * MINUTE;
/**
 * Contacts a node asks, one after the other, to relay one request when it cannot reach the target
 * itself. Each refusal costs one round trip on an open channel; 4 covers "the mutual contact plus a
 * spare" without turning one undeliverable message into a sweep of every contact.
 */
export const RELAY_ASK_MAX = 4;
/**
 * Relayed requests a target holds unanswered at once (their answers go back sealed through the
 * relay). Bounds the table when inner requests wait (an IP relay); the oldest is answered
 * UNREACHABLE when it overflows.
 */
export const RELAY_INNER_MAX = 256;
/**
 * First contact requests an introducer forwards per introduced invite. An invite is for one person;
 * a few retries (lost answers, a second device) pass, a leaked code cannot make the introducer a free
 * relay for strangers.
 */
export const INTRODUCE_MAX_PER_INVITE = 8;
/** Introductions an introducer holds at once (per inviter contact: INTRODUCE_MAX_PER_CONTACT). */
export const INTRODUCE_MAX = 4_096;
/** Live introductions one contact may register with us (each invite it issues while private registers one). */
export const INTRODUCE_MAX_PER_CONTACT = 64;
/**
 * Introducers named in one invite (their addresses follow ours in the invite's address hints). One
 * suffices when it stays up for the invite's life; two survive one going away, and each adds 7 bytes
 * to the code.
 */
export const INVITE_INTRODUCERS = 2;

// --- Direct upgrade by TCP hole punching (docs/PROTOCOL.md §17) ---
/**
 * Budget of one punch attempt, ms: the simultaneous open, TLS and the HELLOs. The SYNs cross within a
 * round trip once both sides have sent one; through a `drop` filter the first SYN is silently lost and
 * the kernel's own retransmission (1 s, then 3 s) is what crosses, so 10 s covers two retransmissions.
 */
export const PUNCH_TIMEOUT_MS = 10 * SECOND;
/**
 * Pause before a new SYN after the remote router refused one (RST: a `reject` filter saw our SYN
 * before its own host's SYN left), ms. Short, because the other side's SYN is on its way; ≈ 50 SYNs in
 * one attempt stay far below any SYN-flood threshold.
 */
export const PUNCH_RETRY_MS = 200;
/**
 * Most candidate endpoints in one `punch` message. A node has at most two (the punch port's mapping a
 * contact observed on a channel, and the observed host with the punch port); four leaves room for a
 * mapped port and a LAN address without letting one message aim our SYNs at many hosts.
 */
export const PUNCH_MAX_CANDIDATES = 4;
/** A `connect` we answered waits this long for its `sync`, ms: a relayed round trip is ≤ 2 × RELAY_TIMEOUT_MS. */
export const PUNCH_SYNC_WAIT_MS = 2 * RELAY_TIMEOUT_MS;
/**
 * `connect`s answered per contact per PUNCH_WINDOW_MS; more are refused RATE_LIMITED (LIMIT_PUNCH).
 * Each one makes us send SYNs to addresses the contact names, so a contact gets a few per window:
 * enough for the initiator's retries after NAT rebinding, too few to use us as a SYN cannon.
 */
export const PUNCH_MAX_PER_WINDOW = 6;
/** The window of PUNCH_MAX_PER_WINDOW, ms. */
export const PUNCH_WINDOW_MS = 10 * MINUTE;
/**
 * After a failed attempt the initiator waits PUNCH_BACKOFF_MS × 2^(failures − 1) before the next
 * (capped at PUNCH_BACKOFF_MAX_MS): a pair behind a symmetric NAT fails every time, and the relay
 * carries its traffic meanwhile, so retrying often buys nothing (libp2p DCUtR retries 3 times, then
 * stays relayed).
 */
export const PUNCH_BACKOFF_MS = 1 * MINUTE;
/** Longest wait between attempts with the same contact, ms. */
export const PUNCH_BACKOFF_MAX_MS = 1 * HOUR;

/**
 * A node behind a NAT without a port mapping cannot ask its router for a new WAN address; a new one
 * resets its connections through the NAT on their next packet. Every WAN_PROBE_MS it pings one
 * channel it dialled to a public contact (one WebSocket ping frame per node, not per contact): a
 * reset then shows within this time, and the channel is redialled and re-announced at once (§15.5),
 * instead of at the channel's next ping (up to 15 s). 2 s keeps the resume target (≤ 2 s after the
 * change) on average; it costs what the 15 s channel pings of 8 contacts cost anyway. ms.
 */
export const WAN_PROBE_MS = 2 * SECOND;

/**
 * How long the de-duplication memory keeps a delivered message's (from, id), ms, counted from when it
 * was received (issue 12 item 6: the delivered set grew for ever). A sender retries a message until
 * OUTBOX_EXPIRY_MS after it wrote it (`sentAt`), and Mesh-Ts holds every sender's clock within
 * REPLAY_WINDOW_MS of ours; a message is accepted only while `sentAt` is younger than this retention
 * minus 2 × the replay window (messageMaxAge in config.ts), so any retry that could still arrive finds
 * its id remembered, and an older one is refused REPLAYED instead of being delivered twice. A day on
 * top of the outbox expiry leaves that margin with room (see test/unit/retention.test.ts).
 */
export const DELIVERED_RETENTION_MS = OUTBOX_EXPIRY_MS + 1 * DAY;
/**
 * How long a delivered (or failed) outgoing message stays in the outbox as history, ms, counted from
 * its delivery (failed: from its expiry). The outbox is held in memory by the core, so without a bound
 * it grew with every message ever sent; received messages are the user's (kept until `mesh inbox
 * --clear`), sent ones are a delivery record. 30 days: a month of "delivered ✓" in the chat view.
 */
export const OUTBOX_HISTORY_MS = 30 * DAY;

/**
 * Most open connections from one source (an IPv4 address or an IPv6 /64, `transport/ip-group.ts`).
 * One address could hold all 1,024 connection slots of the server (issue 12 #7). A peer's client
 * keeps at most 16 POST connections to us plus one channel; 64 lets four such nodes share one NAT
 * address, while one address holds at most 1/16 of the slots. A contact's authenticated channel
 * stops counting once open, so friends behind one address are never cut by their neighbours.
 * Refused on the TCP `connection` event, before any TLS work.
 */
export const MAX_CONNECTIONS_PER_IP = 64;
/**
 * New TLS handshakes one source may start per second (token bucket refill, per IPv4 address or IPv6
 * /64). A server-side TLS 1.3 handshake costs ≈ 1–2 ms of CPU: one address at ~190/s made 1 in 3
 * legitimate requests fail (issue 12 #7). Peers reuse keep-alive connections and channels, so an
 * honest source needs a handshake now and then, not ten a second.
 */
export const HANDSHAKES_PER_S_PER_IP = 10;
/** Burst of the handshake budget (bucket size): a peer opening its whole pool of 16 at once, twice over. */
export const HANDSHAKE_BURST_PER_IP = 32;

// ---- Contact digests and the domain-peer directory (issue 11)

/**
 * Bloom-filter bits per contact in a contact digest. 10 bits with DIGEST_HASHES = 7 gives a false
 * positive rate of (1 − e^(−7/10))^7 ≈ 0.8 %: a searcher with 100 contacts asks about one contact in
 * vain per search, for 1.25 bytes per contact per digest (measured in test/unit/digest.test.ts).
 */
export const DIGEST_BITS_PER_CONTACT = 10;
/** Hash functions of the digest's Bloom filter (k; ≈ bits-per-contact × ln 2 is the optimum, 6.9). */
export const DIGEST_HASHES = 7;
/**
 * Most contacts one digest covers (the most recently seen first): 4,096 × 10 bits = 5 KiB, 6.8 KiB in
 * base64url, far inside MAX_BODY_BYTES. A node with more contacts lists its most recent ones.
 */
export const DIGEST_MAX_CONTACTS = 4_096;
/** Longest digest field accepted on the wire (base64url chars): the 5 KiB filter, key and AEAD overhead. */
export const DIGEST_MAX_CHARS = 8_192;
/**
 * Contacts a searcher asks at once among those whose digest names the target (they know it
 * directly), in the target's anchor order; the next goes when it failed or after searchTimeoutMs.
 * Also how many a relay whose direct try failed asks instead. One (was two): on ego-Facebook the
 * first, an anchor, almost always knows, and the second cost 5.5 messages per lookup for the same
 * success (99.3 %) and 40 ms less p50 latency (SIMULATION.md "Move cost").
 */
export const DIGEST_SEARCH_FANOUT = 1;
/** Most contacts a relay sends to on the strength of their digests (those that list the target). */
export const DIGEST_RELAY_FANOUT = 2;
/**
 * After an own address change, how long the periodic announce keeps trying contacts that were away
 * when we moved (they hold our old address; each try is one announce per hour per such contact).
 */
export const MOVE_RETRY_WINDOW_MS = 7 * DAY;
/** One directory epoch: the blinded key of a record changes every epoch (a day). */
export const DIRECTORY_EPOCH_MS = 1 * DAY;
/** A directory record lives this long at a domain peer unless refreshed (2 epochs: today's and yesterday's key). */
export const DIRECTORY_TTL_MS = 2 * DAY;
/** Most directory records a domain peer holds (oldest evicted): 2 per node it serves at MAX_ACCEPT_ALL_CONTACTS. */
export const DIRECTORY_MAX_RECORDS = 8_192;
/** Records kept under one key (one per contact that put one: only the owner's passes its signature). */
export const DIRECTORY_MAX_PER_KEY = 4;
/** Longest sealed directory record accepted (base64url chars): an address, a time and a signature fit in 512. */
export const DIRECTORY_MAX_RECORD_CHARS = 1_024;
/** Directory puts one contact may make per DIRECTORY_WINDOW_MS (its address changes, two epochs). */
export const DIRECTORY_PUTS_PER_CONTACT = 64;
/** Directory gets one contact may make per DIRECTORY_WINDOW_MS (lookups of moved contacts). */
export const DIRECTORY_GETS_PER_CONTACT = 600;
/** The window of the directory budgets. */
export const DIRECTORY_WINDOW_MS = 1 * HOUR;
/**
 * After a search for a contact found nothing (both rings and the directory), no new search for it
 * starts for this long; its queued messages still try its address on the outbox backoff, and it
 * tells us itself when it comes back. Without it each outbox retry (2 s, 4 s, 8 s …) ran a whole
 * search again: on Holme–Kim 10⁴ the failing tenth of the lookups cost most of the messages.
 */
export const SEARCH_RETRY_INTERVAL_MS = 10 * MINUTE;
/**
 * Peers with a domain a node puts its record at (the first in the rendezvous order of the key; a
 * searcher asks in the same order, two at a time). Putting at all 20 of `mesh sim --domain-peers 20`
 * cost 80 messages per move on Holme–Kim 10⁴; 3 keeps a record when one or two peers are down.
 */
export const DIRECTORY_PUT_PEERS = 3;
/**
 * Contacts a node that moved tells at once (its move anchors, in the rendezvous order of anchors.ts),
 * besides those with an open channel or messages waiting; its other contacts hear the new address
 * with its next periodic announce, which goes to them anyway, and a contact that needs it sooner
 * searches and asks the mutual contacts in the same anchor order. The simulator measured announcing
 * to every contact at 54 messages per move on ego-Facebook (2 per online contact) against Kademlia's
 * whole relocation at 73; 4 anchors cost 7.3 at the same success, 2 lost 3 % of the lookups and 8
 * bought nothing but p95 latency (SIMULATION.md "Move cost").
 */
export const MOVE_ANCHORS = 4;
