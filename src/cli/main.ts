/**
 * The `mesh` command line (DESIGN.md §7). Commands that need the running node talk to its local
 * API; `init`, `id` and `sim` work without it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import { toB64u } from '../crypto/index.ts';
import { dataPaths, ensureDataDir, readDaemonInfo, resolveDataDir } from '../daemon/paths.ts';
import { MeshError } from '../errors.ts';
import { DEFAULT_API_PORT, DEFAULT_PORT } from '../protocol/constants.ts';
import { createIdentity } from '../protocol/identity.ts';
import { SqliteStore } from '../store/index.ts';
import { parseDuration, TIME_FORMS } from '../util/duration.ts';
import { ApiClient } from './client.ts';
import { ago, printTable, termSafe } from './format.ts';
import { type CliDeps, clearInbox, registerContactsRemove } from './manage.ts';

const EXIT = { usage: 2, notRunning: 3, failure: 1 } as const;

function dataDirOf(cmd: Command): string {
  return resolveDataDir(cmd.optsWithGlobals().dataDir as string | undefined);
}

function out(json: boolean, value: unknown, human: () => void): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else human();
}

function client(cmd: Command): ApiClient {
  return ApiClient.forDataDir(dataDirOf(cmd));
}

const deps: CliDeps = { client, out };
type InboxOpts = { json?: boolean; follow?: boolean; limit: string; clear?: boolean; before?: string };

/** The command word of argv (`start` in `mesh --data-dir d start --json`), or undefined. */
function commandWord(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--data-dir') i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return undefined;
}

/**
 * Builds the program. `mesh sim` (the simulator and its progress bar) is registered only when argv
 * may need it — the sim command itself, help, or no command — so that `mesh start` and the quick
 * commands do not load it. Without argv everything is registered.
 */
export async function buildProgram(argv?: string[]): Promise<Command> {
  const program = new Command();
  program
    .name('mesh')
    .description('Mesh: friend-to-friend realtime messaging. Find moved friends through the friends you share.')
    .version('0.1.0')
    .addOption(new Option('--data-dir <dir>', 'node data directory (default: $MESH_DATA_DIR or ~/.mesh)'))
    .showHelpAfterError('(run mesh --help for usage)');

  program
    .command('init')
    .description('create this node’s identity (Ed25519 + X25519 keys, self-certifying UUID); refuses to overwrite')
    .option('--name <name>', 'your display name, shown to contacts')
    .option('--json', 'print JSON')
    .action(async (opts: { name?: string; json?: boolean }, cmd: Command) => {
      const dir = dataDirOf(cmd);
      ensureDataDir(dir);
      const store = SqliteStore.open(dataPaths(dir).db);
      try {
        if (store.getSelf()) throw MeshError.alreadyInitialised(dir);
        const name = (opts.name ?? process.env.USER ?? 'me').slice(0, 100);
        const self = createIdentity(name, { random: (n) => new Uint8Array(randomBytes(n)), now: Date.now() });
        const uuid = self.uuid;
        store.apply([{ op: 'self:put', self }]);
        // The TLS certificate is made here, once, so that `mesh start` never loads the X.509 library.
        const { loadOrCreateIdentityCert } = await import('../daemon/identity-cert.ts');
        await loadOrCreateIdentityCert(dir, self);
        out(opts.json === true, { uuid, name, dataDir: dir }, () => {
          console.log(`${pc.green('✔')} Created your Mesh identity in ${dir}`);
          console.log(`  UUID ${pc.bold(uuid)}  name ${name}`);
          console.log(`\nNext: ${pc.cyan('mesh start')} to run your node.`);
        });
      } finally {
        store.close();
      }
    });

  program
    .command('start')
    .description('run the node in the foreground (Ctrl-C stops it gracefully)')
    .option('--host <addr>', 'address to listen on and to send from', '0.0.0.0')
    .option('--port <port>', 'Mesh port', String(DEFAULT_PORT))
    .option('--api-port <port>', 'local API / web page port on 127.0.0.1', String(DEFAULT_API_PORT))
    .option('--bootstrap <url...>', 'peer(s) with a domain to join through, e.g. https://peer.example:7575')
    .option('--public', 'be a peer with a domain: accept first contact from strangers')
    .option('--accept-all', 'accept every contact request without asking')
    .option('--domain <name>', 'DNS name of this peer with a domain')
    .option('--tls-cert <file>', 'CA-valid certificate (PEM) for --domain')
    .option('--tls-key <file>', 'private key (PEM) for --tls-cert')
    .option('--no-port-mapping', 'do not ask the home router (UPnP-IGD / NAT-PMP) to forward our port')
    .option('--punch-port <port>', 'local port for hole punching (default: Mesh port + 2; 0 = off)')
    .option('--log-level <level>', 'debug | info | warn | error', 'info')
    .option('--json', 'print the start-up summary as JSON')
    .action(async (opts, cmd: Command) => {
      const dir = dataDirOf(cmd);
      const port = Number(opts.port);
      const apiPort = Number(opts.apiPort);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw MeshError.invalidArgument(`--port must be 0..65535, got ${opts.port}`);
      if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535)
        throw MeshError.invalidArgument(`--api-port must be 0..65535, got ${opts.apiPort}`);
      const { startDaemon } = await import('../daemon/daemon.ts');
      const d = await startDaemon({
        dataDir: dir,
        host: opts.host,
        port,
        apiPort,
        bootstrap: opts.bootstrap,
        public: opts.public === true,
        acceptAll: opts.acceptAll === true,
        domain: opts.domain,
        tlsCert: opts.tlsCert,
        tlsKey: opts.tlsKey,
        logLevel: opts.logLevel,
        portMapping: opts.portMapping !== false,
        ...(opts.punchPort !== undefined ? { punchPort: Number(opts.punchPort) } : {}),
      });
      out(
        opts.json === true,
        { uuid: d.uuid, listen: [d.listen], api: d.apiUrl, web: d.loginUrl, pid: process.pid },
        () => {
          console.log(`${pc.green('●')} Mesh node ${pc.bold(d.uuid)} is running`);
          console.log(`  listening on  https://${d.listen}/mesh`);
          console.log(`  web chat      ${pc.cyan(d.loginUrl)}`);
          console.log(`  data dir      ${dir}`);
          console.log(
            `\nNext: in another terminal, ${pc.cyan('mesh invite')} to invite a friend, or ${pc.cyan('mesh add <code>')} to use theirs.`,
          );
          console.log('Press Ctrl-C to stop.');
        },
      );
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          process.stderr.write(`\n${sig}: stopping…\n`);
          d.stop().then(resolve, resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });

  program
    .command('id')
    .description('show this node’s UUID, name, public key and addresses')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const dir = dataDirOf(cmd);
      let info: Record<string, unknown>;
      if (readDaemonInfo(dir)) info = { ...(await client(cmd).call('id')) };
      else {
        if (!existsSync(dataPaths(dir).db)) throw MeshError.notInitialised(dir);
        const store = SqliteStore.open(dataPaths(dir).db, { readonly: true });
        try {
          const self = store.getSelf();
          if (!self) throw MeshError.notInitialised(dir);
          const pub = new Uint8Array(64);
          pub.set(self.signPub, 0);
          pub.set(self.boxPub, 32);
          info = { uuid: self.uuid, name: self.name, publicKey: toB64u(pub), listen: [], observed: [], running: false };
        } finally {
          store.close();
        }
      }
      out(opts.json === true, info, () => {
        console.log(`UUID        ${pc.bold(String(info.uuid))}`);
        console.log(`name        ${termSafe(String(info.name))}`);
        console.log(`public key  ${info.publicKey}`);
        console.log(`listen      ${(info.listen as string[]).join(', ') || pc.dim('(node not running)')}`);
        console.log(`observed    ${(info.observed as string[]).join(', ') || pc.dim('(none yet)')}`);
      });
    });

  program
    .command('invite')
    .description('print an invite code for a friend (one use, expires)')
    .option('--json', 'print JSON')
    .option('--no-address', 'leave out this node’s address (the request then travels through contacts)')
    .option('--ttl <duration>', 'how long the invite stays valid, e.g. 30m, 24h, 7d', '24h')
    .action(async (opts: { json?: boolean; address: boolean; ttl: string }, cmd: Command) => {
      const r = await client(cmd).call('invite', {
        ttl: String(parseDuration(opts.ttl)),
        noAddress: !opts.address,
      });
      out(opts.json === true, { code: r.code, expiresAt: r.expiresAt }, () => {
        console.log(`Give your friend this code (valid until ${new Date(r.expiresAt).toLocaleString()}):\n`);
        console.log(`  ${pc.bold(r.code)}\n`);
        console.log(`They run: ${pc.cyan(`mesh add ${r.code}`)}`);
        console.log(
          'Then both of you compare the auth phrase by voice or in person, and you accept with mesh requests / mesh accept.',
        );
      });
    });

  program
    .command('add')
    .description('add a friend from their invite code; prints the auth phrase to compare')
    .argument('<invite-code>')
    .option('--name <name>', 'what to call this contact')
    .option('--json', 'print JSON')
    .action(async (code: string, opts: { name?: string; json?: boolean }, cmd: Command) => {
      const r = await client(cmd).call('add', {
        code,
        name: opts.name,
      });
      out(opts.json === true, r, () => {
        console.log(`Request sent to ${pc.bold(termSafe(r.name))} (${r.uuid}).\n`);
        console.log(`  Auth phrase: ${pc.bold(pc.yellow(r.authPhrase))}\n`);
        console.log(
          'Compare it with your friend by voice or in person. If it differs, someone is in the middle: do not chat.',
        );
      });
    });

  program
    .command('requests')
    .description('list incoming contact requests')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await client(cmd).call('requests');
      out(opts.json === true, rows, () => {
        if (rows.length === 0) return console.log('No pending contact requests.');
        printTable(
          ['uuid', 'name', 'auth phrase', 'received'],
          rows.map((r) => [r.uuid, termSafe(r.name), r.authPhrase, ago(r.receivedAt)]),
        );
        console.log(
          `\nCompare the phrase with your friend, then: ${pc.cyan('mesh accept <uuid>')} or ${pc.cyan('mesh reject <uuid>')}`,
        );
      });
    });

  for (const action of ['accept', 'reject'] as const) {
    program
      .command(action)
      .description(
        action === 'accept' ? 'accept a contact request (after comparing the auth phrase)' : 'reject a contact request',
      )
      .argument('<uuid>')
      .option('--json', 'print JSON')
      .action(async (uuid: string, opts: { json?: boolean }, cmd: Command) => {
        const r = await client(cmd).call(action, { uuid });
        out(opts.json === true, r, () =>
          console.log(action === 'accept' ? `${pc.green('✔')} ${r.uuid} is now your contact.` : `Rejected ${r.uuid}.`),
        );
      });
  }

  const contactsCmd = program
    .command('contacts')
    .description('list contacts: address, online/offline, last seen (and `contacts remove`)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await client(cmd).call('contacts');
      out(opts.json === true, rows, () => {
        if (rows.length === 0) return console.log(`No contacts yet. Invite a friend with ${pc.cyan('mesh invite')}.`);
        const names = new Map(rows.map((x) => [x.uuid, x.name]));
        printTable(
          ['name', 'uuid', 'address', 'state', 'last seen', 'path'],
          rows.map((r) => [
            termSafe(r.name),
            r.uuid,
            r.address ?? '-',
            r.status === 'pending'
              ? pc.yellow('waiting for accept')
              : r.online
                ? pc.green('online')
                : pc.dim('offline'),
            r.lastSeen ? ago(r.lastSeen) : '-',
            // §16: how requests to it go now (the relay by name when it is one of ours).
            r.path === 'relay' && r.via
              ? `relay via ${termSafe(names.get(r.via) ?? r.via.slice(0, 8))}`
              : (r.path ?? '-'),
          ]),
        );
      });
    });

  registerContactsRemove(contactsCmd, deps);

  program
    .command('send')
    .description('send a text to a contact (queued and persisted; delivered when reachable)')
    .argument('<contact>', 'uuid or name')
    .argument('<text...>')
    .option('--json', 'print JSON')
    .action(async (who: string, words: string[], opts: { json?: boolean }, cmd: Command) => {
      const r = await client(cmd).call('send', { to: who, text: words.join(' ') });
      out(opts.json === true, r, () => console.log(`Queued message ${r.id}.`));
    });

  program
    .command('inbox')
    .description('show received messages')
    .option('--json', 'print JSON (with --follow: one JSON object per line)')
    .option('--follow', 'keep printing new messages as they arrive')
    .option('--limit <n>', 'newest N only', '50')
    .option('--clear', 'delete received messages (all, or those before --before)')
    .option('--before <time>', `with --clear: only messages received before TIME: ${TIME_FORMS}`)
    .action(async (opts: InboxOpts, cmd: Command) => {
      const c = client(cmd);
      if (opts.before !== undefined && !opts.clear) throw MeshError.invalidArgument('--before goes with --clear');
      if (opts.clear) return clearInbox(c, opts.before, opts.json === true, deps);
      const contacts = await c.call('contacts');
      const names = new Map(contacts.map((x) => [x.uuid, x.name]));
      const rows = await c.call('inbox', { limit: Number(opts.limit) || 50 });
      const line = (m: { from: string; text: string; receivedAt: number }) =>
        console.log(
          `${pc.dim(new Date(m.receivedAt).toLocaleTimeString())} ${pc.bold(termSafe(names.get(m.from) ?? m.from.slice(0, 8)))}: ${termSafe(m.text, { multiline: true })}`,
        );
      if (!opts.follow) {
        out(opts.json === true, rows, () => (rows.length === 0 ? console.log('No messages yet.') : rows.forEach(line)));
        return;
      }
      if (opts.json) for (const m of rows) console.log(JSON.stringify(m));
      else rows.forEach(line);
      await c.events((e) => {
        if (e.event !== 'message') return;
        const m = { ...e.data, receivedAt: e.data.receivedAt ?? Date.now() };
        if (opts.json)
          console.log(
            JSON.stringify({ id: m.id, from: m.from, text: m.text, sentAt: m.sentAt, receivedAt: m.receivedAt }),
          );
        else line(m);
      });
    });

  program
    .command('status')
    .description('addresses, contacts online, referrals, outbox size')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const s = await client(cmd).call('status');
      out(opts.json === true, s, () => {
        console.log(`${pc.green('●')} ${pc.bold(termSafe(s.name))} ${s.uuid}`);
        console.log(`  listen     ${s.listen.join(', ')}`);
        console.log(`  observed   ${s.observed.join(', ') || pc.dim('(no answers yet)')}`);
        console.log(`  contacts   ${s.contacts.online}/${s.contacts.total} online`);
        console.log(`  referrals  ${s.referrals}`);
        console.log(`  outbox     ${s.outbox} waiting`);
      });
    });

  const word = argv ? commandWord(argv) : undefined;
  if (word === undefined || !program.commands.some((c) => c.name() === word)) {
    const { registerSimCommand } = await import('../sim/cli.ts');
    registerSimCommand(program);
  }
  return program;
}

/** Runs the CLI with argv; maps errors to a sentence on stderr and an exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exitCode = err.exitCode ?? EXIT.usage;
      return;
    }
    if (e instanceof MeshError) {
      process.stderr.write(`mesh: ${e.message}\n`);
      process.exitCode =
        e.code === 'NOT_RUNNING' ? EXIT.notRunning : e.code === 'INVALID_ARGUMENT' ? EXIT.usage : EXIT.failure;
      return;
    }
    process.stderr.write(`mesh: unexpected error: ${err.message ?? String(e)}\n`);
    process.exitCode = EXIT.failure;
  }
}

// Run when executed directly (bin/mesh); importing for tests does not run it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv);
