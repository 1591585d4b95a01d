/**
 * The CLI commands that delete (DESIGN.md §7): `mesh contacts remove <uuid|name>` and
 * `mesh inbox --clear [--before TIME]`. Both go through the daemon's local API.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import { parseTime } from '../util/duration.ts';
import type { ApiClient } from './client.ts';
import { termSafe } from './format.ts';

/** What the commands need from main.ts: the API client of the command's data dir and the output switch. */
export interface CliDeps {
  client(cmd: Command): ApiClient;
  out(json: boolean, value: unknown, human: () => void): void;
}

/** Adds `remove <uuid|name>` under the `contacts` command. */
export function registerContactsRemove(contacts: Command, deps: CliDeps): void {
  contacts
    .command('remove')
    .description('remove a contact: deletes it, its referrals and its queued messages (it is not told)')
    .argument('<contact>', 'uuid, uuid prefix (8+ characters) or name')
    .option('--json', 'print JSON')
    .action(async (who: string, opts: { json?: boolean }, cmd: Command) => {
      const c = deps.client(cmd);
      const before = await c.call('contacts');
      const r = await c.call('removeContact', { uuid: who });
      const name = before.find((x) => x.uuid === r.uuid)?.name;
      // `--json` after the subcommand may be taken by `contacts` itself (which has its own --json).
      const json = opts.json === true || cmd.optsWithGlobals().json === true;
      deps.out(json, r, () =>
        console.log(
          `Removed ${name ? `${pc.bold(termSafe(name))} ` : ''}(${r.uuid}). Their messages to you are now refused as a stranger's.`,
        ),
      );
    });
}

/** `mesh inbox --clear [--before TIME]`: TIME is checked here first, so a typo deletes nothing. */
export async function clearInbox(
  c: ApiClient,
  before: string | undefined,
  json: boolean,
  deps: CliDeps,
): Promise<void> {
  const at = before === undefined ? undefined : parseTime(before);
  const r = await c.call('clearInbox', at === undefined ? {} : { before: at });
  deps.out(json, r, () =>
    console.log(
      `Deleted ${r.deleted} received message${r.deleted === 1 ? '' : 's'}${at === undefined ? '' : ` received before ${new Date(at).toISOString()}`}.`,
    ),
  );
}
